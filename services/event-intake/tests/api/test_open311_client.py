"""An unmodified third-party Open311 client (PyPI ``georeport``) against a live intake, in JSON and XML."""

import threading
import time

import httpx
import pytest
import uvicorn

from gridgov_cli.main import main as gridgov
from gridgov_event_intake.app import create_app
from gridgov_event_intake.settings import IntakeSettings
from tests.support.ports import free_port

georeport = pytest.importorskip("georeport")


@pytest.fixture
def live_intake(common_settings):
    port = free_port()
    app = create_app(IntakeSettings(common=common_settings))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "intake did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/open311/v2"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_georeport_client_reads_services_and_requests(live_intake, common_settings, capsys, fmt):
    assert gridgov(["--data-dir", str(common_settings.data_dir), "apikey", "create", "city-app"]) == 0
    key = capsys.readouterr().out.strip().splitlines()[-1]
    posted = httpx.post(f"{live_intake}/requests.{fmt}", data={
        "api_key": key, "service_code": "01002", "lat": "23.02", "long": "113.75", "description": "Garbage"})
    assert posted.status_code == 201, posted.text
    client = georeport.GeoReport(live_intake, api_key=key, output_format=fmt)

    services = client.get_service_list()
    assert "01002" in [s["service_code"] for s in services]
    assert client.get_service_definition("01002")["service_code"] == "01002"
    listed = client.get_service_requests(service_code="01002")
    listed = listed if isinstance(listed, list) else [listed]  # xmltodict makes one element a dict
    assert len(listed) == 1 and listed[0]["status"] == "open"
    one = client.get_service_request(listed[0]["service_request_id"])
    assert one["service_code"] == "01002" and one["description"] == "Garbage"


def test_georeport_client_reads_requests_xml_with_control_character_stored(live_intake, common_settings, capsys):
    import uuid
    from datetime import UTC, datetime

    from gridgov_common.db import Database
    from gridgov_event_intake.reports.models import Report
    from gridgov_event_intake.tables import metadata

    # Written straight into the table, as a database filled before intake refused control characters holds it.
    settings = IntakeSettings(common=common_settings)
    db = Database(settings.resolved_database_url(), metadata, "event-intake")
    now = datetime.now(UTC)
    with db.session() as session:
        session.add(Report(id=str(uuid.uuid4()), channel="patrol", category_code="01002",
                           description="Garbage\u0001 here\u001b", lon=113.75, lat=23.02, reporter_id="gw-1",
                           reporter_role="grid_worker", submitted_at=now, updated_at=now))
        session.commit()
    db.engine.dispose()
    client = georeport.GeoReport(live_intake, output_format="xml")
    listed = client.get_service_requests(service_code="01002")  # xmltodict: expat refuses ill-formed XML
    assert listed["description"] == "Garbage here"
