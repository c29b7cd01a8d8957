"""Open311 GeoReport v2 shapes, pure: reports in, the specification's records out, as JSON or XML.

Statuses: Open311 knows only ``open`` and ``closed``; the finer state (received, dispatched, claimed …)
goes in ``status_notes``. ``agency_responsible`` is the handling department, ``expected_datetime`` the
SLA deadline. XML is built with the standard library.
"""

from __future__ import annotations

import hashlib
import secrets
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from typing import Any

from gridgov_common.categories import BY_CODE, Category

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


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.isoformat(timespec="seconds")


def service_record(category: Category) -> dict[str, Any]:
    """One entry of the service list (a category)."""
    return {"service_code": category.code, "service_name": category.name_en, "description": category.name_zh,
            "metadata": False, "type": "realtime", "keywords": "", "group": category.code[:2]}


def service_definition(code: str) -> dict[str, Any]:
    """A service's definition: no extra attributes are asked for any gridgov category yet."""
    return {"service_code": code, "attributes": []}


def request_record(report: Any, media_url: str | None) -> dict[str, Any]:
    """A report as an Open311 service request (never with the reporter's name or phone)."""
    category = BY_CODE.get(report.category_code)
    return {
        "service_request_id": report.id,
        "status": open_or_closed(report.status),
        "status_notes": report.answer if report.answer else report.status,
        "service_name": category.name_en if category else report.category_code,
        "service_code": report.category_code,
        "description": report.description,
        "agency_responsible": report.department,
        "service_notice": "",
        "requested_datetime": _iso(report.submitted_at),
        "updated_datetime": _iso(report.updated_at),
        "expected_datetime": _iso(report.deadline),
        "address": report.address,
        "address_id": None,
        "zipcode": None,
        "lat": report.lat,
        "long": report.lon,
        "media_url": media_url,
    }


def update_record(update: Any, media_url: str | None = None) -> dict[str, Any]:
    """One status change as a FixMyStreet-style ``request_update``."""
    return {"update_id": update.id, "service_request_id": update.report_id,
            "status": open_or_closed(update.status), "updated_datetime": _iso(update.at),
            "description": update.note or update.status, "media_url": media_url}


def error_records(code: int, description: str) -> list[dict[str, Any]]:
    """The Open311 error array."""
    return [{"code": code, "description": description}]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def definition_xml(definition: dict[str, Any]) -> bytes:
    """A service definition as XML: ``<service_definition>`` is itself the root, as the specification shows."""
    top = ET.Element("service_definition")
    ET.SubElement(top, "service_code").text = _text(definition["service_code"])
    attributes = ET.SubElement(top, "attributes")
    for attribute in definition["attributes"]:
        element = ET.SubElement(attributes, "attribute")
        for name, value in attribute.items():
            ET.SubElement(element, name).text = _text(value)
    return b'<?xml version="1.0" encoding="utf-8"?>' + ET.tostring(top, encoding="unicode").encode()


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
                        ET.SubElement(child, k).text = _text(v)
            else:
                ET.SubElement(element, name).text = _text(value)
    return b'<?xml version="1.0" encoding="utf-8"?>' + ET.tostring(top, encoding="unicode").encode()
