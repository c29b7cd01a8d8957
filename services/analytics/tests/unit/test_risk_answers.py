"""The risk views' answer cache (``risk.handlers._Answers``): fresh for a minute, then served while one background
thread refreshes it, computed again only when the data's version changed, and waited for only when there is none
or it is too old. A clock of the test's own stands in for time; the refresh thread is real."""

from __future__ import annotations

import threading
import time

import pytest

from gridgov_analytics.risk.handlers import CACHE_TTL_S, STALE_S, _Answers


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Source:
    """The data's version and a computation that counts its calls (and can be made slow or failing)."""

    def __init__(self) -> None:
        self.version = 1
        self.calls = 0
        self.gate = threading.Event()
        self.gate.set()
        self.fail = False

    def read_version(self) -> int:
        return self.version

    def compute(self) -> str:
        self.calls += 1
        self.gate.wait(10)
        if self.fail:
            raise RuntimeError("the database went away")
        return f"answer of version {self.version} (#{self.calls})"


def settle(answers: _Answers, key: str, timeout: float = 5.0) -> None:
    """Wait until no refresh of ``key`` is running."""
    deadline = time.monotonic() + timeout
    while key in answers._refreshing:
        assert time.monotonic() < deadline, "the refresh did not finish"
        time.sleep(0.005)


def test_a_fresh_answer_is_served_without_asking_the_data():
    clock, source = Clock(), Source()
    answers = _Answers(4, clock)
    first = answers.get("k", source.read_version, source.compute)
    source.version = 2
    clock.now += CACHE_TTL_S
    assert answers.get("k", source.read_version, source.compute) == first
    assert source.calls == 1


def test_a_stale_answer_is_served_at_once_while_the_next_is_computed_in_the_background():
    clock, source = Clock(), Source()
    answers = _Answers(4, clock)
    first = answers.get("k", source.read_version, source.compute)
    source.version, source.gate = 2, threading.Event()  # the next computation blocks until the gate opens
    clock.now += CACHE_TTL_S + 1
    assert answers.get("k", source.read_version, source.compute) == first  # not waiting for the computation
    assert answers.get("k", source.read_version, source.compute) == first  # one refresh at a time
    source.gate.set()
    settle(answers, "k")
    assert answers.get("k", source.read_version, source.compute) == "answer of version 2 (#2)"
    assert source.calls == 2


def test_a_stale_answer_of_unchanged_data_is_kept_without_computing():
    clock, source = Clock(), Source()
    answers = _Answers(4, clock)
    first = answers.get("k", source.read_version, source.compute)
    clock.now += CACHE_TTL_S + 1
    assert answers.get("k", source.read_version, source.compute) == first
    settle(answers, "k")
    clock.now += CACHE_TTL_S  # fresh again from the check, not from the first computation
    assert answers.get("k", source.read_version, source.compute) == first
    assert source.calls == 1 and "k" not in answers._refreshing


def test_an_answer_older_than_the_stale_limit_is_computed_while_the_caller_waits():
    clock, source = Clock(), Source()
    answers = _Answers(4, clock)
    answers.get("k", source.read_version, source.compute)
    source.version = 3
    clock.now += STALE_S + 1
    assert answers.get("k", source.read_version, source.compute) == "answer of version 3 (#2)"
    assert not answers._refreshing


def test_a_failed_refresh_keeps_the_last_answer_and_is_tried_again(caplog):
    clock, source = Clock(), Source()
    answers = _Answers(4, clock)
    first = answers.get("k", source.read_version, source.compute)
    source.version, source.fail = 2, True
    clock.now += CACHE_TTL_S + 1
    assert answers.get("k", source.read_version, source.compute) == first
    settle(answers, "k")
    assert "refreshing a cached view failed" in caplog.text
    source.fail = False
    assert answers.get("k", source.read_version, source.compute) == first  # a new refresh starts
    settle(answers, "k")
    assert answers.get("k", source.read_version, source.compute) == "answer of version 2 (#3)"
    source.fail = True
    clock.now += STALE_S + 1
    with pytest.raises(RuntimeError):  # too old to serve: the caller computes, and sees the error
        answers.get("k", source.read_version, source.compute)


def test_least_recently_used_answers_leave_first():
    clock, source = Clock(), Source()
    answers = _Answers(2, clock)
    for key in ("a", "b", "a", "c"):
        answers.get(key, source.read_version, source.compute)
    assert list(answers._items) == ["a", "c"] and source.calls == 3

