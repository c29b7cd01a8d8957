"""Dispatch with a city's OpenID Connect provider plugged in by settings: the provider's tokens reach the same
views as gridgov's own, with the department their claims map to."""

import pytest

from conftest import TEST_SECRET
from gridgov_common.settings import CommonSettings
from tests.support.oidc import AUDIENCE, FakeOidcProvider

OTHER_GRID = "441900001001002"


@pytest.fixture
def provider():
    p = FakeOidcProvider().start()
    yield p
    p.stop()


@pytest.fixture
def common_settings(tmp_path, provider) -> CommonSettings:
    """The embedded stack, trusting the test's provider besides the local secret."""
    return CommonSettings(data_dir=tmp_path, jwt_secret=TEST_SECRET, log_json=False,
                          oidc_issuer=provider.issuer, oidc_audience=AUDIENCE,
                          oidc_role_claim="groups", oidc_subject_claim="preferred_username",
                          oidc_role_map={"/gov/water/dispatch": "dept_dispatcher", "/gov/ops": "command_centre"},
                          oidc_department_claim="gridgov_department")


def test_list_tickets_with_oidc_dispatcher_token_shows_their_department(stack, provider):
    water = stack.ticket_for(category="04002")  # routed to water
    urban = stack.ticket_for(category="01002", grid=OTHER_GRID)  # routed to urban-management
    assert (water["department"], urban["department"]) == ("water", "urban-management")

    token = provider.token(provider.keys[1], roles=None, department=None, groups=["/gov/water/dispatch"],
                           gridgov_department="water")
    resp = stack.client.get("/v1/tickets", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 200, resp.text
    assert [t["id"] for t in resp.json()["items"]] == [water["id"]]

    claim = stack.client.post(f"/v1/tickets/{water['id']}/claim", headers={"Authorization": f"Bearer {token}"})
    assert claim.status_code == 200, claim.text
    detail = stack.client.get(f"/v1/tickets/{water['id']}", headers=stack.token("command_centre")).json()
    assert detail["transitions"][-1]["actor_id"] == "li.wei"  # the configured subject claim

    other = stack.client.post(f"/v1/tickets/{urban['id']}/claim", headers={"Authorization": f"Bearer {token}"})
    assert other.status_code == 403, other.text


def test_list_tickets_with_oidc_token_of_unmapped_group_is_403(stack, provider):
    token = provider.token(roles=None, groups=["/gov/library"], gridgov_department="water")
    resp = stack.client.get("/v1/tickets", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 403, resp.text
    assert "token claim 'groups' maps to no gridgov role" in resp.json()["error"]["details"][0]["reason"]


def test_list_tickets_with_provider_down_and_no_cached_key_is_503(stack, provider):
    token = provider.token()
    provider.stop()
    resp = stack.client.get("/v1/tickets", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 503, resp.text
    assert resp.json()["error"]["code"] == "unavailable"
