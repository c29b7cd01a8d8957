"""The shared dependencies: conditional GET by RFC 9110's weak comparison, and the role groups by name."""

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from conftest import TEST_SECRET
from gridgov_common.auth import (
    ADMINS,
    CITY_WIDE,
    DEVICE_GATEWAYS,
    OFFICE_STAFF,
    PEOPLE,
    REPORTERS,
    ROLES,
    STAFF,
    mint_token,
)
from gridgov_common.deps import (
    AnyRole,
    CityWide,
    DeviceGateway,
    IfNoneMatch,
    OfficeStaff,
    Staff,
    etag_matches,
    not_modified,
)
from gridgov_common.web import install_error_handlers

ETAG = '"5d41402abc4b2a76"'


@pytest.mark.parametrize("if_none_match", [
    '"5d41402abc4b2a76"',
    'W/"5d41402abc4b2a76"',  # a weak validator still matches by weak comparison (RFC 9110 §8.8.3.2)
    '"other", W/"5d41402abc4b2a76"',
    ' "other" ,W/"5d41402abc4b2a76" ',
    ', ,"5d41402abc4b2a76",',  # empty list elements are allowed (RFC 9110 §5.6.1)
    "*",
    " * ",
])
def test_match_etag_when_if_none_match_names_it(if_none_match):
    assert etag_matches(if_none_match, ETAG)


@pytest.mark.parametrize("if_none_match", [
    None,
    "",
    '"other"',
    'W/"other", "another"',
    "5d41402abc4b2a76",  # unquoted: not an entity tag
    'w/"5d41402abc4b2a76"',  # the weak prefix is case-sensitive
    '"5d41402abc4b2a76" junk',
    '"other" "5d41402abc4b2a76"',  # two tags without a comma: does not parse, so nothing matches
    '"5d41402abc4b2a76',
])
def test_match_no_etag_when_if_none_match_does_not_name_it(if_none_match):
    assert not etag_matches(if_none_match, ETAG)


def test_match_weak_etag_of_representation_against_strong_tag_in_header():
    assert etag_matches('"v1"', 'W/"v1"')
    assert not etag_matches('"v2"', 'W/"v1"')


def test_match_tag_holding_comma_as_one_tag():
    assert etag_matches('"a,b"', '"a,b"')
    assert not etag_matches('"a,b"', '"a"')
    assert not etag_matches('"a", "b"', '"a,b"')


def test_answer_not_modified_with_validator_headers_only_on_match():
    headers = {"ETag": ETAG, "Cache-Control": "max-age=15", "Vary": "Authorization"}
    answer = not_modified('W/' + ETAG, ETAG, headers)
    assert answer is not None and answer.status_code == 304 and answer.body == b""
    assert {k: answer.headers[k] for k in headers} == headers
    assert not_modified('"stale"', ETAG, headers) is None


def test_define_role_groups_as_named():
    assert set(PEOPLE) == set(ROLES) - {"device_gateway"}  # the one machine role is no person
    assert set(STAFF) == set(PEOPLE) - {"citizen"}
    assert set(DEVICE_GATEWAYS) == {"device_gateway", "admin"}
    assert set(OFFICE_STAFF) == set(STAFF) - {"grid_worker"}
    assert set(CITY_WIDE) == {"command_centre", "admin"}
    assert set(REPORTERS) == {"grid_worker", "citizen"}
    assert ADMINS == ("admin",)


def _token(role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(TEST_SECRET, sub=f'{role}-1', role=role)}"}


def test_admit_exactly_each_role_group_through_its_dependency():
    app = FastAPI()
    install_error_handlers(app)  # 401 and 403 in the one error shape, as in every service
    app.state.jwt_secret = TEST_SECRET

    @app.get("/staff")
    async def staff(principal: Staff) -> str:
        return principal.role

    @app.get("/office")
    async def office(principal: OfficeStaff) -> str:
        return principal.role

    @app.get("/city")
    async def city(principal: CityWide, if_none_match: IfNoneMatch = None) -> str:
        return principal.role

    @app.get("/any")
    async def anyone(principal: AnyRole) -> str:
        return principal.role

    @app.get("/gateway")
    async def gateway(principal: DeviceGateway) -> str:
        return principal.role

    client = TestClient(app)
    for path, group in (("/staff", STAFF), ("/office", OFFICE_STAFF), ("/city", CITY_WIDE), ("/any", PEOPLE),
                        ("/gateway", DEVICE_GATEWAYS)):
        assert client.get(path).status_code == 401
        for role in ROLES:
            resp = client.get(path, headers=_token(role))
            assert resp.status_code == (200 if role in group else 403), (path, role, resp.text)
