"""Report validation in Chinese for the console and the grid worker's app (Accept-Language: zh-CN); English otherwise;
the field named as the API names it; nothing stored or published for a refused report (issue #13, item 6)."""

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from gridgov_event_intake.app import create_app
from gridgov_event_intake.reports.models import Report
from gridgov_event_intake.settings import IntakeSettings

BAD = {"category_code": "1", "description": "路边有暴露垃圾", "lon": 113.75, "lat": 23.02}
ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}


@pytest.fixture
def client(common_settings):
    with TestClient(create_app(IntakeSettings(common=common_settings))) as c:
        yield c


def test_bad_category_code_is_named_in_chinese_and_nothing_is_stored(client, token):
    worker = token("grid_worker", grid="441900001001001")
    chinese = client.post("/v1/reports/patrol", json=BAD, headers={**worker, **ZH})
    english = client.post("/v1/reports/patrol", json=BAD, headers=worker)
    assert chinese.status_code == english.status_code == 422
    assert chinese.json()["error"]["message"] == "请求无效"
    assert chinese.json()["error"]["details"] == [{"field": "category_code", "reason": "应为 5 位数字"}]
    assert english.json()["error"]["details"] == [{"field": "category_code",
                                                   "reason": "String should match pattern '^\\d{5}$'"}]
    with client.app.state.runtime.db.session() as session:
        assert session.exec(select(Report)).all() == []


def test_malformed_report_json_names_body_in_chinese(client, token):
    resp = client.post("/v1/reports/patrol", content=b'{"category_code": "01002",}',
                       headers={**token("grid_worker", grid="441900001001001"), **ZH,
                                "Content-Type": "application/json"})
    assert resp.status_code == 422
    assert resp.json()["error"]["details"] == [
        {"field": "body", "reason": "请求体不是合法的 JSON（第 1 行第 27 列：属性名应使用双引号）"}]
