"""Time-ordered ids (UUIDv7, RFC 9562) for the rows and bus messages the services create.

Why not uuid4: these ids are primary keys (reports, tickets, deliveries, alarm groups …) and the message ids every
idempotent consumer records in its handled table, which only grows. A random key goes to a random page of its
index: once the index outgrows the cache, each insert reads and dirties a page of its own, and each commit writes
those pages again (the WAL in SQLite, full-page images in PostgreSQL). A UUIDv7 begins with its 48-bit Unix time in
milliseconds, so new keys land at the end of the index, on the pages the last commits already hold. Measured on a
handled table of 2 million rows, 3 rows per commit (issue #18, ``bench/ids_index_growth.py``): see its results.

The other 74 bits: a 12-bit counter (RFC 9562's method 1: ids made in one process in the same millisecond stay in
order; it starts at a random value below 2,048 each millisecond) and 62 random bits from ``os.urandom`` — still
unguessable. An id tells the moment it was made, which every row here stores in the clear anyway. Where an id is a
bearer secret or names a stored file (phone-code requests, uploaded photos, a worker's claim token) it stays uuid4.
"""

from __future__ import annotations

import os
import threading
import time
import uuid

_VERSION_AND_VARIANT = (0x7 << 76) | (0b10 << 62)
_RANDOM_62 = (1 << 62) - 1
_COUNTER_MAX = 0xFFF
_lock = threading.Lock()
_state = [0, 0]  # the last id's millisecond and counter (this process; a forked child's own ids differ by chance)


def uuid7_int(ms: int | None = None) -> int:
    """The 128 bits of a new UUIDv7 of now (or of Unix millisecond ``ms``), after every earlier one of this process."""
    if ms is None:
        ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")  # 80 bits: 11 for a new millisecond's counter, 62 for rand_b
    with _lock:
        last_ms, counter = _state
        if ms > last_ms:
            counter = rand >> 69
        else:  # the same millisecond, or the wall clock stepped back: keep counting from the last id
            ms, counter = last_ms, counter + 1
            if counter > _COUNTER_MAX:  # 4,096 ids in one millisecond: borrow the next one
                ms, counter = ms + 1, 0
        _state[0], _state[1] = ms, counter
    return (ms << 80) | _VERSION_AND_VARIANT | (counter << 64) | (rand & _RANDOM_62)


def new_uuid() -> uuid.UUID:
    """A new time-ordered id (UUIDv7) as a ``uuid.UUID``: the default id of a bus envelope."""
    return uuid.UUID(int=uuid7_int())


def new_id() -> str:
    """A new time-ordered id (UUIDv7) as its 36-character text: the key of a new row."""
    return str(uuid.UUID(int=uuid7_int()))


def uuid7_text(ms: int, tail: bytes) -> str:
    """The text of the UUIDv7 of Unix millisecond ``ms`` whose other 74 bits are taken from the 10 bytes ``tail``
    (version and variant bits overwritten): for deterministic ids, e.g. the demo history's, from a hash of a name.
    Formatted by hand: building a ``uuid.UUID`` to print it costs more than the hash."""
    h = bytearray(ms.to_bytes(6, "big"))
    h += tail[:10]
    h[6] = (h[6] & 0x0F) | 0x70
    h[8] = (h[8] & 0x3F) | 0x80
    x = h.hex()
    return f"{x[:8]}-{x[8:12]}-{x[12:16]}-{x[16:20]}-{x[20:]}"
