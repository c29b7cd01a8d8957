import pytest

from gridgov_common.auth import decode_token
from gridgov_common.errors import ValidationFailed
from gridgov_console.login.handlers import dev_login_switch, log_in
from gridgov_console.login.schemas import LoginBody

SECRET = "console-unit-test-secret-32-bytes-long"


def test_log_in_dispatcher_token_acts_for_department():
    read = log_in(SECRET, LoginBody(role="dept_dispatcher", sub="d1", department="urban-management"), 3600)
    principal = decode_token(SECRET, read.token)
    assert (principal.sub, principal.role, principal.department, principal.grid) == (
        "d1", "dept_dispatcher", "urban-management", None)
    assert read.expires_in == 3600


def test_log_in_dispatcher_without_department_refused():
    with pytest.raises(ValidationFailed) as caught:
        log_in(SECRET, LoginBody(role="dept_dispatcher", sub="d1"), 3600)
    assert caught.value.details[0].field == "department"


def test_log_in_grid_worker_without_grid_refused():
    with pytest.raises(ValidationFailed) as caught:
        log_in(SECRET, LoginBody(role="grid_worker", sub="w1"), 3600)
    assert caught.value.details[0].field == "grid"


def test_log_in_command_centre_drops_unused_scope():
    read = log_in(SECRET, LoginBody(role="command_centre", sub="c1", department="um", grid="441900001001001"), 60)
    principal = decode_token(SECRET, read.token)
    assert (principal.role, principal.department, principal.grid) == ("command_centre", None, None)


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost", "LOCALHOST"])
def test_switch_dev_login_on_for_embedded_stack_on_loopback(host):
    switch = dev_login_switch(None, host, None)
    assert switch.enabled and "loopback" in switch.reason


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.0.0.5", "192.168.1.20", "console.example.org"])
def test_switch_dev_login_off_when_listening_beyond_loopback(host):
    switch = dev_login_switch(None, host, None)
    assert not switch.enabled and host in switch.reason


def test_switch_dev_login_off_on_distributed_stack_even_on_loopback():
    switch = dev_login_switch(None, "127.0.0.1", "127.0.0.1:19092")
    assert not switch.enabled and "Kafka" in switch.reason


def test_switch_dev_login_as_set_when_set_explicitly():
    assert dev_login_switch(True, "0.0.0.0", "kafka:9092").enabled
    assert not dev_login_switch(False, "127.0.0.1", None).enabled


def test_log_in_with_name_puts_it_in_the_token_trimmed():
    read = log_in(SECRET, LoginBody(role="dept_dispatcher", sub="d1", department="um", name="  王敏 "), 60)
    assert decode_token(SECRET, read.token).name == "王敏" and read.name == "王敏"
    assert decode_token(SECRET, log_in(SECRET, LoginBody(role="admin", sub="a1"), 60).token).name is None
