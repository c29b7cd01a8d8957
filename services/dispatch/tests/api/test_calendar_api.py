"""The working-calendar endpoints on the embedded stack: deadlines, the years covered, loading a year's table."""

from datetime import datetime

import pytest

DEADLINE = "/v1/calendar/deadline"


def deadline(client, headers, start="2026-09-30T16:00:00+08:00", amount=3, unit="working_days"):
    return client.get(DEADLINE, params={"start": start, "amount": amount, "unit": unit}, headers=headers)


def fields(resp) -> list[str]:
    return [d["field"] for d in resp.json()["error"]["details"]]


@pytest.mark.parametrize("role", ["grid_worker", "dept_dispatcher", "command_centre", "admin"])
def test_get_deadline_across_national_day_for_any_staff_role(client, token, role):
    # Wed 09-30 16:00 + 3 working days: 10-01..10-07 off, Thu 10-08, Fri 10-09, then Sat 10-10 (调休) at 16:00.
    resp = deadline(client, token(role, department="water" if role == "dept_dispatcher" else None))
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert datetime.fromisoformat(body["deadline"]) == datetime.fromisoformat("2026-10-10T16:00:00+08:00")
    assert (body["provisional"], body["provisional_years"]) == (False, [])
    assert (body["unit"], body["amount"]) == ("working_days", 3)
    assert (body["working_hours"], body["timezone"]) == ("08:30-12:00,14:00-17:30", "Asia/Shanghai")


def test_get_deadline_clock_hours_counts_the_holiday(client, token):
    resp = deadline(client, token("grid_worker"), amount=2, unit="clock_hours")
    assert datetime.fromisoformat(resp.json()["deadline"]) == datetime.fromisoformat("2026-09-30T18:00:00+08:00")


def test_get_deadline_into_2027_is_provisional(client, token):
    resp = deadline(client, token("command_centre"), start="2026-12-31T16:00:00+08:00", amount=2)
    body = resp.json()
    assert (body["provisional"], body["provisional_years"]) == (True, [2027])
    assert datetime.fromisoformat(body["deadline"]) == datetime.fromisoformat("2027-01-04T16:00:00+08:00")


def test_get_deadline_naive_start_is_422_naming_start(client, token):
    resp = deadline(client, token("grid_worker"), start="2026-09-30T16:00:00")
    assert resp.status_code == 422
    assert fields(resp) == ["start"]


@pytest.mark.parametrize("start", ["0001-01-01T00:01:00+02:00", "9999-12-31T23:00:00+00:00"])
def test_get_deadline_far_off_year_is_422_naming_start(client, token, start):
    resp = deadline(client, token("grid_worker"), start=start, unit="working_days", amount=384)
    assert resp.status_code == 422
    assert fields(resp) == ["start"]


@pytest.mark.parametrize("amount", [0, -1, 1001, "many"])
def test_get_deadline_out_of_range_amount_is_422_naming_amount(client, token, amount):
    resp = deadline(client, token("grid_worker"), amount=amount)
    assert resp.status_code == 422
    assert fields(resp) == ["amount"]


def test_get_deadline_unknown_unit_is_422_naming_unit(client, token):
    resp = deadline(client, token("grid_worker"), unit="fortnights")
    assert resp.status_code == 422
    assert fields(resp) == ["unit"]


def test_get_deadline_without_token_is_401(client):
    assert deadline(client, {}).status_code == 401


def test_list_years_shows_package_years_and_not_2027(client, token):
    resp = client.get("/v1/calendar/years", headers=token("grid_worker"))
    assert resp.status_code == 200
    years = {row["year"]: row["source"] for row in resp.json()}
    assert years[2026] == "package" and years[2004] == "package"
    assert 2027 not in years


def test_put_year_by_admin_makes_2027_deadlines_final(client, token):
    table = {"holidays": ["2027-01-01", "2027-10-01", "2027-10-02"], "workdays": ["2027-09-26"]}
    resp = client.put("/v1/calendar/years/2027", json=table, headers=token("admin"))
    assert resp.status_code == 200, resp.text
    # 10-02-2027 is a Saturday: a day off anyway, so not kept as a holiday.
    assert resp.json() == {"year": 2027, "source": "loaded", "holidays": ["2027-01-01", "2027-10-01"],
                           "workdays": ["2027-09-26"]}
    years = {row["year"]: row["source"] for row in client.get("/v1/calendar/years", headers=token("admin")).json()}
    assert years[2027] == "loaded"
    # New Year's Day 2027 is now off: Thu 16:00 + 2 working days = 1.5 h + Mon 01-04 7 h + Tue 01-05 5.5 h.
    body = deadline(client, token("grid_worker"), start="2026-12-31T16:00:00+08:00", amount=2).json()
    assert (body["provisional"], body["provisional_years"]) == (False, [])
    assert datetime.fromisoformat(body["deadline"]) == datetime.fromisoformat("2027-01-05T16:00:00+08:00")


def test_put_year_over_package_year_overrides_it(client, token):
    resp = client.put("/v1/calendar/years/2026", json={"holidays": ["2026-11-23"], "workdays": []},
                      headers=token("admin"))
    assert resp.status_code == 200
    years = {row["year"]: row["source"] for row in client.get("/v1/calendar/years", headers=token("admin")).json()}
    assert years[2026] == "loaded"
    # The loaded table replaces the package's whole year: Mon 11-23 is off, so 09:00 + 1 working hour is Tue 09:30.
    body = deadline(client, token("admin"), start="2026-11-23T09:00:00+08:00", amount=1, unit="working_hours").json()
    assert datetime.fromisoformat(body["deadline"]) == datetime.fromisoformat("2026-11-24T09:30:00+08:00")


@pytest.mark.parametrize("role", ["grid_worker", "dept_dispatcher", "command_centre"])
def test_put_year_by_non_admin_is_403_and_stores_nothing(client, token, role):
    resp = client.put("/v1/calendar/years/2027", json={"holidays": ["2027-01-01"], "workdays": []},
                      headers=token(role, department="water" if role == "dept_dispatcher" else None))
    assert resp.status_code == 403
    years = [row["year"] for row in client.get("/v1/calendar/years", headers=token("admin")).json()]
    assert 2027 not in years


@pytest.mark.parametrize(("table", "field", "reason"), [
    ({"holidays": ["2027-01-01", "2028-01-03"], "workdays": []}, "holidays", "2028-01-03 is not in 2027"),
    ({"holidays": [], "workdays": ["2027-02-08"]}, "workdays", "2027-02-08 is not a weekend day"),
    ({"holidays": ["2027-02-06"], "workdays": ["2027-02-06"]}, "workdays", "2027-02-06 is listed both"),
])
def test_put_year_bad_table_is_422_naming_date_and_stores_nothing(client, token, table, field, reason):
    resp = client.put("/v1/calendar/years/2027", json=table, headers=token("admin"))
    assert resp.status_code == 422
    [detail] = resp.json()["error"]["details"]
    assert detail["field"] == field and detail["reason"].startswith(reason)
    years = [row["year"] for row in client.get("/v1/calendar/years", headers=token("admin")).json()]
    assert 2027 not in years


def test_put_year_malformed_date_is_422_naming_it(client, token):
    resp = client.put("/v1/calendar/years/2027", json={"holidays": ["2027-02-30"], "workdays": []},
                      headers=token("admin"))
    assert resp.status_code == 422
    assert fields(resp) == ["holidays.0"]


def test_get_year_reads_the_table_the_clocks_count_on(client, token):
    resp = client.get("/v1/calendar/years/2026", headers=token("grid_worker"))
    assert resp.status_code == 200, resp.text
    body = resp.json()
    # the package's 2026: 国庆 from 1 October (its weekdays kept, Saturday 3 October dropped), 调休 on weekends
    assert body["source"] == "package" and "2026-10-01" in body["holidays"] and "2026-10-03" not in body["holidays"]
    assert body["workdays"] and all(datetime.fromisoformat(d).weekday() >= 5 for d in body["workdays"])
    missing = client.get("/v1/calendar/years/2027", headers={**token("command_centre"), "Accept-Language": "zh-CN"})
    assert missing.status_code == 404
    assert missing.json()["error"]["message"] == "2027 年的节假日安排尚未录入"
    table = {"holidays": ["2027-01-01"], "workdays": ["2027-09-26"]}
    assert client.put("/v1/calendar/years/2027", json=table, headers=token("admin")).status_code == 200
    assert client.get("/v1/calendar/years/2027", headers=token("grid_worker")).json() == {
        "year": 2027, "source": "loaded", "holidays": ["2027-01-01"], "workdays": ["2027-09-26"]}
    assert client.get("/v1/calendar/years/2027").status_code == 401
    assert client.get("/v1/calendar/years/1999", headers=token("admin")).status_code == 422


@pytest.mark.parametrize(("table", "reason"), [
    ({"holidays": ["2026-12-31"], "workdays": []}, "2027 年节假日安排有误：放假日期 2026-12-31 不在 2027 年内"),
    ({"holidays": [], "workdays": ["2027-01-04"]},
     "2027 年节假日安排有误：调休上班日期 2027-01-04 不是周末：只有周六或周日可以调休上班"),
    ({"holidays": ["2027-09-26"], "workdays": ["2027-09-26"]},
     "2027 年节假日安排有误：调休上班日期 2027-09-26 同时列为放假日和调休上班日"),
])
def test_put_year_refusal_is_chinese_when_asked_and_stores_nothing(client, token, table, reason):
    resp = client.put("/v1/calendar/years/2027", json=table, headers={**token("admin"), "Accept-Language": "zh-CN"})
    assert resp.status_code == 422, resp.text
    assert resp.json()["error"]["message"] == reason
    assert 2027 not in {row["year"] for row in client.get("/v1/calendar/years", headers=token("admin")).json()}
