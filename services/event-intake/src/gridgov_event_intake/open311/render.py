"""Open311 GeoReport v2 shapes, pure: reports in, the specification's records out, as JSON or XML.

Statuses: Open311 knows only ``open`` and ``closed``; ``status_notes`` carries a fixed public wording of
the finer state (已受理 / 处理中 / 已办结), never a note written inside the city. ``agency_responsible`` is the
handling department, ``expected_datetime`` the SLA deadline. XML is built with the standard library.

The public view (issue #11) is what a city publishes, nothing more: status, category, a coarse location,
the request's datetimes and the public wording of its state. Never the reporter (name, phone, device,
account), never the exact point or the address a citizen gave, never internal notes (return reasons,
rework notes, routing traces, dispatcher notes, the hotline's answer to a caller), and a photo only when
the city has decided photos are public (``media_url`` is given by the caller, or None).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import xml.etree.ElementTree as ET
from datetime import datetime
from typing import Any

from gridgov_common.categories import Category, CategoryBook, seed_book
from gridgov_common.logs import mask_phones

FORMATS = ("json", "xml")
KEY_PREFIX = "g311_"


def new_api_key() -> str:
    """A fresh API key (shown once to the operator)."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_api_key(key: str) -> str:
    """The stored form of a key: its SHA-256 (keys are long and random, so no salt or stretching is needed)."""
    return hashlib.sha256(key.encode()).hexdigest()


def open_or_closed(status: str) -> str:
    """Open311's coarse status of a report status."""
    return "closed" if status == "closed" else "open"


# The public wording of each state: a city tells the public that a request was received (已受理), is being
# handled (处理中) or is finished (已办结) — not that it was returned, suspended or awaits an extension.
RECEIVED_WORDING = "已受理"
IN_PROGRESS_WORDING = "处理中"
CLOSED_WORDING = "已办结"
_WORDING = {"received": RECEIVED_WORDING, "registered": RECEIVED_WORDING, "closed": CLOSED_WORDING}


def public_wording(status: str) -> str:
    """The fixed public wording of a report status (any state between registration and closure: 处理中)."""
    return _WORDING.get(status, IN_PROGRESS_WORDING)


# Published coordinates are snapped to the nearest point of a 0.001° grid: at most 0.0005° off on each axis,
# i.e. <= 56 m north-south and <= 51 m east-west at 23°N (<= 76 m off the exact point) — about 100 m cells,
# enough to find the pothole, not the doorstep. Nearest point rather than cell centroid: a point that already
# lies on the grid stays put, which reveals no more than the cell it is in.
COARSE_DECIMALS = 3


def coarse(value: float | None) -> float | None:
    """A published coordinate: ``value`` rounded to the 0.001° grid (about 100 m)."""
    return None if value is None else round(value, COARSE_DECIMALS)


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.isoformat(timespec="seconds")


def service_record(category: Category) -> dict[str, Any]:
    """One entry of the service list (a category)."""
    return {"service_code": category.code, "service_name": category.name_en, "description": category.name_zh,
            "metadata": False, "type": "realtime", "keywords": "", "group": category.code[:2]}


def service_definition(code: str) -> dict[str, Any]:
    """A service's definition: no extra attributes are asked for any gridgov category yet."""
    return {"service_code": code, "attributes": []}


def request_record(report: Any, media_url: str | None, categories: CategoryBook | None = None) -> dict[str, Any]:
    """A report as the public sees it: coarse location, public wording, phones masked, nothing personal.

    ``service_name`` comes from ``categories`` (the catalog in effect; default the packaged first version).
    """
    category = (categories or seed_book()).get(report.category_code)
    return {
        "service_request_id": report.id,
        "status": open_or_closed(report.status),
        "status_notes": public_wording(report.status),
        "service_name": category.name_en if category else report.category_code,
        "service_code": report.category_code,
        # Kept because Open311 clients expect it; a phone number typed into it is masked.
        "description": mask_phones(report.description or ""),
        "agency_responsible": report.department,
        "service_notice": "",
        "requested_datetime": _iso(report.submitted_at),
        "updated_datetime": _iso(report.updated_at),
        "expected_datetime": _iso(report.deadline),
        "address": None,  # the address a reporter typed locates them as exactly as the point would
        "address_id": None,
        "zipcode": None,
        "lat": coarse(report.lat),
        "long": coarse(report.lon),
        "media_url": media_url,
    }


def update_record(update: Any) -> dict[str, Any]:
    """One status change as a FixMyStreet-style ``request_update``, in the public wording of its state.

    The update's own note is never published: ticket events carry no public/internal flag, and their notes
    are return reasons, rework notes and dispatcher notes written for colleagues.
    """
    return {"update_id": update.id, "service_request_id": update.report_id,
            "status": open_or_closed(update.status), "updated_datetime": _iso(update.at),
            "description": public_wording(update.status), "media_url": None}


def error_records(code: int, description: str) -> list[dict[str, Any]]:
    """The Open311 error array."""
    return [{"code": code, "description": description}]


# Characters XML 1.0 forbids (most C0 controls, lone surrogates, U+FFFE/U+FFFF): one of them in a stored
# report would make the whole document ill-formed for every client, so they are dropped from every text.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(value: Any) -> str:
    """``value`` as XML 1.0 text: None is empty, booleans are true/false, forbidden characters dropped."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("", str(value))


def _serialise(top: ET.Element) -> bytes:
    """The document, with every text, tail and attribute value passed through ``xml_text`` once more.

    Building elements through ``xml_text`` is not relied on alone: whatever way an element got its text, the
    document that leaves here is well-formed XML 1.0.
    """
    for element in top.iter():
        if element.text is not None:
            element.text = xml_text(element.text)
        if element.tail is not None:
            element.tail = xml_text(element.tail)
        for name, value in list(element.attrib.items()):
            element.attrib[name] = xml_text(value)
    return b'<?xml version="1.0" encoding="utf-8"?>' + ET.tostring(top, encoding="unicode").encode()


def definition_xml(definition: dict[str, Any]) -> bytes:
    """A service definition as XML: ``<service_definition>`` is itself the root, as the specification shows."""
    top = ET.Element("service_definition")
    ET.SubElement(top, "service_code").text = xml_text(definition["service_code"])
    attributes = ET.SubElement(top, "attributes")
    for attribute in definition["attributes"]:
        element = ET.SubElement(attributes, "attribute")
        for name, value in attribute.items():
            ET.SubElement(element, name).text = xml_text(value)
    return _serialise(top)


def to_xml(root: str, item: str, records: list[dict[str, Any]]) -> bytes:
    """Records as the specification's XML: ``<root><item><field>…</field></item>…</root>``."""
    top = ET.Element(root)
    for record in records:
        element = ET.SubElement(top, item)
        for name, value in record.items():
            if isinstance(value, list):
                container = ET.SubElement(element, name)
                for entry in value:
                    child = ET.SubElement(container, name.rstrip("s"))
                    for k, v in entry.items():
                        ET.SubElement(child, k).text = xml_text(v)
            else:
                ET.SubElement(element, name).text = xml_text(value)
    return _serialise(top)
