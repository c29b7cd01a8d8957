"""The alarm replay for sensing's benchmark (issue #16), pure: which alarm each producer sends, in what order.

A generator only — it sends nothing. The benchmark that replays it (8 concurrent producers into sensing on the
embedded stack and on Kafka + PostgreSQL) imports ``replay`` and ``expected_counts``:

- ``count`` alarms (1,000,000 by default) drawn from a device set (``gridgov_sensing.devices.placement``:
  450,000 devices), each alarm one (device, alarm type) the device runs — under the default fingerprint fields
  (catalog code, device, grid) and the seeded types, that pair is the fingerprint;
- repeats follow a bounded Zipf law over the pairs (rank r drawn with probability ∝ r^-a): a few cameras repeat
  thousands of times, most pairs once or never, as in a real alarm storm;
- a share of alarms (``pair_share``) is sent twice — two different alarms (two alarm ids) of the same fingerprint,
  the second handed to another producer and stamped 0–4 ms after the first (< 5 ms), so the two race through
  ingest: the ThingsBoard #15583 case. The benchmark must then see 0 duplicate open cases and exact counts;
- ``occurred_at`` advances at ``rate_per_s`` from ``start`` (which the benchmark sets to its own now, so every
  alarm is inside ingest's window), confidences stay above every seeded type's threshold unless
  ``low_confidence_share`` asks for some below it, and ``alarm_id`` is unique per alarm.

    from bench.sensing_alarms_gen import replay, expected_counts
    alarms = list(replay(devices, start=now))          # ReplayAlarm rows, in send order
    by_producer = [a for a in alarms if a.producer == p]
    body = {"alarms": [a.payload(start) for a in batch]}

``python bench/sensing_alarms_gen.py --count 100000`` prints the plan's shape (distinct fingerprints, the top
pair's repeats, pairs injected, generation time) for a quick look; it places the devices itself on a synthetic
square city so it needs no running service.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import numpy as np

COUNT = 1_000_000
ZIPF_A = 1.0  # the top fingerprint gets ~7 % of 1.5 M pairs' alarms; 1.1 makes it ~12 %
PAIR_SHARE = 0.02  # of alarms, sent twice within < 5 ms
PAIR_GAP_MS = 5  # strictly below this
PRODUCERS = 8
RATE_PER_S = 10_000.0  # occurred_at spacing: the benchmark's target ingest rate
HIGH_CONFIDENCE = (0.9, 0.999)  # above every seeded type's min_confidence (the highest is 0.85)


class DeviceLike(Protocol):
    """What the replay reads of a device (``DeviceRow`` has it)."""

    device_id: str
    kind: str
    algorithms: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ReplayAlarm:
    """One alarm of the replay: its place in the send order, its producer, when it occurred (ms after start)."""

    seq: int
    producer: int
    offset_ms: float
    device_id: str
    alarm_type: str
    confidence: float | None
    alarm_id: str
    paired: bool  # the second of a same-fingerprint pair

    def payload(self, start: datetime) -> dict[str, Any]:
        """The alarm as ``POST /v1/alarms`` takes it (one element of ``alarms``)."""
        body: dict[str, Any] = {"alarm_id": self.alarm_id, "device_id": self.device_id, "alarm_type": self.alarm_type,
                                "state": "firing", "severity": "minor",
                                "occurred_at": (start + timedelta(milliseconds=self.offset_ms)).isoformat()}
        if self.confidence is not None:
            body["confidence"] = self.confidence
        return body


def zipf_ranks(rng: np.random.Generator, items: int, size: int, a: float) -> np.ndarray:
    """``size`` ranks in ``0..items-1`` drawn from a bounded Zipf law (P(r) ∝ (r+1)^-a)."""
    if items < 1:
        raise ValueError("no items to draw from")
    weights = np.arange(1, items + 1, dtype=float) ** -a
    cdf = np.cumsum(weights)
    cdf /= cdf[-1]
    return np.minimum(np.searchsorted(cdf, rng.random(size), side="right"), items - 1)


def pairs_of(devices: Sequence[DeviceLike]) -> list[tuple[str, str, bool]]:
    """Every (device id, alarm type, is camera) a device set can raise, in device order."""
    return [(d.device_id, t, d.kind == "camera") for d in devices for t in d.algorithms]


def replay(devices: Sequence[DeviceLike], *, start: datetime, count: int = COUNT, seed: int = 16,
           zipf_a: float = ZIPF_A, pair_share: float = PAIR_SHARE, producers: int = PRODUCERS,
           rate_per_s: float = RATE_PER_S, low_confidence_share: float = 0.0) -> Iterator[ReplayAlarm]:
    """``count`` alarms in send order (pairs included in the count); deterministic for the same arguments.

    ``start`` only names the run in the alarm ids (so two runs on one database never collide); times are offsets.
    """
    if count < 0 or producers < 1 or rate_per_s <= 0 or not 0 <= pair_share < 1:
        raise ValueError("count ≥ 0, producers ≥ 1, rate > 0, 0 ≤ pair_share < 1")
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware (occurred_at is an aware datetime)")
    pairs = pairs_of(devices)
    rng = np.random.default_rng(seed)
    # Zipf ranks map onto the pairs through a seeded permutation, so the hot pairs are spread over the city.
    order = rng.permutation(len(pairs))
    firsts = count - int(round(count * pair_share / (1 + pair_share)))  # firsts + their twins = count
    ranks = order[zipf_ranks(rng, len(pairs), firsts, zipf_a)] if firsts else np.empty(0, dtype=np.int64)
    twin = np.zeros(firsts, dtype=bool)
    twin[rng.choice(firsts, min(count - firsts, firsts), replace=False)] = True
    gaps = rng.uniform(0.0, PAIR_GAP_MS - 0.5, firsts)  # ms; strictly below 5 even after float rounding
    conf = rng.uniform(*HIGH_CONFIDENCE, firsts)
    low = rng.random(firsts) < low_confidence_share
    conf[low] = rng.uniform(0.05, 0.5, int(low.sum()))
    run = start.strftime("%Y%m%dT%H%M%S")
    seq = 0
    step_ms = 1000.0 / rate_per_s
    for i in range(firsts):
        device_id, alarm_type, camera = pairs[int(ranks[i])]
        confidence = round(float(conf[i]), 3) if camera else None
        offset = i * step_ms
        producer = i % producers
        yield ReplayAlarm(seq, producer, offset, device_id, alarm_type, confidence, f"bench-{run}-{seed}-{seq}", False)
        seq += 1
        if twin[i]:
            other = (producer + 1 + i % (producers - 1)) % producers if producers > 1 else producer
            yield ReplayAlarm(seq, other, offset + float(gaps[i]), device_id, alarm_type, confidence,
                              f"bench-{run}-{seed}-{seq}", True)
            seq += 1


def expected_counts(alarms: Sequence[ReplayAlarm]) -> Counter[tuple[str, str]]:
    """How many alarms each (device, alarm type) — each fingerprint under the default fields — must have counted."""
    return Counter((a.device_id, a.alarm_type) for a in alarms)


def _square_city(n_devices: int, seed: int) -> list[Any]:
    """A device set on a synthetic 20×20-grid square city (for ``--count`` summaries without the registry)."""
    from shapely.geometry import box

    from gridgov_sensing.devices.placement import place_devices

    grids = [(f"G{i:03d}{j:03d}", f"V{i:03d}", "441900004", box(113.7 + i * 0.002, 23.0 + j * 0.002,
                                                                113.702 + i * 0.002, 23.002 + j * 0.002))
             for i in range(20) for j in range(20)]
    return list(place_devices(grids, n_devices, seed))


def main() -> None:
    """Print the shape of a replay (no service involved)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=COUNT)
    parser.add_argument("--devices", type=int, default=450_000)
    parser.add_argument("--seed", type=int, default=16)
    args = parser.parse_args()
    devices = _square_city(args.devices, args.seed)
    t0 = time.perf_counter()
    alarms = list(replay(devices, start=datetime(2026, 12, 2, 8, 0, tzinfo=UTC), count=args.count, seed=args.seed))
    took = time.perf_counter() - t0
    counts = expected_counts(alarms)
    twins = [a for a in alarms if a.paired]
    print(f"alarms {len(alarms):,} from {len(devices):,} devices in {took:.1f} s; fingerprints {len(counts):,}; "
          f"top fingerprint {counts.most_common(1)[0][1]:,} alarms; pairs {len(twins):,}; "
          f"producers {len({a.producer for a in alarms})}")


if __name__ == "__main__":
    main()
