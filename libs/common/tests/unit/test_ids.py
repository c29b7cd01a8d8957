"""Time-ordered ids (``gridgov_common.ids``): UUIDv7 with the time of their making, in order, unique across threads."""

from __future__ import annotations

import threading
import time
import uuid

from gridgov_common.bus.envelope import Envelope
from gridgov_common.ids import new_id, new_uuid, uuid7_int, uuid7_text


def _ms(u: uuid.UUID) -> int:
    return u.int >> 80


def test_an_id_is_a_uuid7_carrying_the_millisecond_it_was_made():
    before = time.time_ns() // 1_000_000
    made = uuid.UUID(new_id())
    after = time.time_ns() // 1_000_000
    assert (made.version, made.variant) == (7, uuid.RFC_4122)
    # The id may run ahead of the clock only by milliseconds borrowed by a burst (none here beyond one).
    assert before <= _ms(made) <= after + 1


def test_ids_of_one_process_sort_in_the_order_they_were_made():
    made = [new_id() for _ in range(20_000)]  # many in each millisecond: the counter keeps them in order
    assert made == sorted(made)
    assert len(set(made)) == len(made)


def test_a_clock_stepping_back_does_not_break_the_order():
    first = uuid7_int()
    past = uuid7_int(ms=(first >> 80) - 60_000)  # the wall clock stepped a minute back
    assert past > first
    assert past >> 80 == first >> 80 or past >> 80 == (first >> 80) + 1


def test_more_than_4096_ids_in_one_millisecond_borrow_the_next_one():
    ms = time.time_ns() // 1_000_000 - 5  # a millisecond already past: every call counts on from the last id
    made = [uuid7_int(ms=ms) for _ in range(9_000)]
    assert made == sorted(made) and len(set(made)) == len(made)
    assert (made[-1] >> 80) - (made[0] >> 80) >= 1  # the 12-bit counter ran over at least once
    assert all(uuid.UUID(int=x).version == 7 for x in made[::500])


def test_threads_making_ids_at_once_never_make_the_same_one():
    out: list[list[str]] = [[] for _ in range(4)]

    def make(slot: list[str]) -> None:
        slot.extend(new_id() for _ in range(5_000))

    threads = [threading.Thread(target=make, args=(slot,)) for slot in out]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    every = [i for slot in out for i in slot]
    assert len(set(every)) == 20_000
    assert all(slot == sorted(slot) for slot in out)  # each thread's own ids are in its order too


def test_an_envelope_gets_a_time_ordered_id():
    a = Envelope(type="t", producer="p", key="k", correlation_id="c", payload={})
    b = Envelope(type="t", producer="p", key="k", correlation_id="c", payload={})
    assert a.id.version == 7 and str(a.id) < str(b.id)
    assert new_uuid().version == 7


def test_a_deterministic_id_keeps_its_time_and_the_tail_it_was_given():
    tail = bytes(range(200, 210))
    made = uuid.UUID(uuid7_text(1_764_000_000_123, tail))
    assert (made.version, made.variant, _ms(made)) == (7, uuid.RFC_4122, 1_764_000_000_123)
    # Only the version nibble and the two variant bits of the tail are overwritten.
    assert made.bytes[6] & 0x0F == tail[0] & 0x0F and made.bytes[7] == tail[1]
    assert made.bytes[8] & 0x3F == tail[2] & 0x3F and made.bytes[9:] == tail[3:]
    assert uuid7_text(1_764_000_000_123, tail) == str(made)  # the same text every time
