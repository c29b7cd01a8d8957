"""Benchmark: the Kafka client's own CPU per message — kafka-python (gridgov's bus) against confluent-kafka
(librdkafka) — on a real broker, with gridgov's bus settings (issues #16 and #18).

Why: on Kafka + PostgreSQL the services spend more CPU per report and per alarm than on the embedded stack, and
py-spy put a share of it in kafka-python's pure-Python record building and parsing. This measures that share alone:
each round, in a fresh child process per client (in turn: kafka-python with its statistics on, as the bus ran until
2026-12-06, kafka-python as the bus runs now, confluent-kafka), a fresh topic of 4 partitions gets ``--messages``
keyed messages of 800 bytes (a ticket event's size), published as the outbox relay publishes (batches of 200, then
wait for every acknowledgement: acks=all, idempotent, one request in flight, linger 2 ms, 256 KB batches, no
statistics — ``gridgov_common.bus.kafka.KafkaBus``'s settings), then read back by a new consumer group as the
consumer runner reads (polls of up to 100, a synchronous commit after each). CPU is the child's own (user + system,
the client's background threads included); the broker's is not in it.

confluent-kafka is not one of gridgov's dependencies: run this with it added for the run only.

Run:  deploy/local/kafka.sh start && deploy/local/kafka.sh wait
      uv run --frozen --with confluent-kafka==2.16.1 python bench/kafka_clients.py [--messages 40000] [--rounds 3]
          [--bootstrap 127.0.0.1:19092] [--save]
Results: bench/results/kafka_clients.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "kafka_clients.json"
PUBLISH_BATCH = 200  # messages per publish call (an outbox relay's batch)
POLL = 100  # records per poll (the consumer runner's default)
PARTITIONS = 4
VALUE_BYTES = 800
TIMEOUT_S = 120.0
# "kafka-python" runs with the bus's settings (its statistics off since 2026-12-06); "kafka-python+metrics" with
# them on, as the bus ran before.
CLIENTS = ("kafka-python+metrics", "kafka-python", "confluent-kafka")


def _cpu() -> float:
    t = os.times()
    return t.user + t.system


def _new_topic(bootstrap: str) -> str:
    """A fresh topic with ``PARTITIONS`` partitions (kafka-python's admin client: both children use the same)."""
    from kafka.admin import KafkaAdminClient, NewTopic

    name = f"bench-clients-{uuid.uuid4().hex[:8]}"
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        admin.create_topics([NewTopic(name, PARTITIONS, 1)])
        deadline = time.monotonic() + 30
        while not any(d["partitions"] for d in admin.describe_topics([name]) if d["error_code"] == 0):
            if time.monotonic() > deadline:
                raise TimeoutError(f"topic {name} has no partitions after 30 s")
            time.sleep(0.2)
    finally:
        admin.close()
    return name


def _kafka_python(bootstrap: str, topic: str, n: int, value: bytes, metrics: bool = False) -> dict:
    """Publish and read back ``n`` messages with kafka-python, as ``gridgov_common.bus.kafka`` does."""
    from kafka import KafkaConsumer, KafkaProducer
    from kafka.structs import OffsetAndMetadata

    producer = KafkaProducer(bootstrap_servers=[bootstrap], acks="all", enable_idempotence=True, retries=2**31 - 1,
                             max_in_flight_requests_per_connection=1, linger_ms=2, batch_size=262_144,
                             request_timeout_ms=15000, metrics_enabled=metrics)
    producer.send(topic, key=b"warm-up", value=value).get(30)  # connections and metadata outside the timing
    c0, t0 = _cpu(), time.perf_counter()
    for start in range(0, n, PUBLISH_BATCH):
        futures = [producer.send(topic, key=str(i).encode(), value=value)
                   for i in range(start, min(n, start + PUBLISH_BATCH))]
        producer.flush(timeout=30)
        for future in futures:
            future.get(timeout=30)
    publish = (_cpu() - c0, time.perf_counter() - t0)
    producer.close()

    consumer = KafkaConsumer(topic, bootstrap_servers=[bootstrap], group_id=f"bench-{uuid.uuid4().hex[:8]}",
                             enable_auto_commit=False, auto_offset_reset="earliest", metrics_enabled=metrics)
    got, c0, t0 = 0, _cpu(), time.perf_counter()
    while got < n + 1 and time.perf_counter() - t0 < TIMEOUT_S:
        batches = consumer.poll(timeout_ms=1000, max_records=POLL)
        offsets = {tp: OffsetAndMetadata(records[-1].offset + 1, "", -1) for tp, records in batches.items() if records}
        got += sum(len(records) for records in batches.values())
        if offsets:
            consumer.commit(offsets)
    consume = (_cpu() - c0, time.perf_counter() - t0)
    consumer.close(autocommit=False)
    return {"publish": publish, "consume": consume, "read": got}


def _confluent(bootstrap: str, topic: str, n: int, value: bytes) -> dict:
    """The same with confluent-kafka: the same acknowledgements awaited, the same poll size and commits."""
    from confluent_kafka import Consumer, Producer

    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "enable.idempotence": True,
                         "max.in.flight.requests.per.connection": 1, "linger.ms": 2, "batch.size": 262_144})
    producer.produce(topic, key=b"warm-up", value=value)
    producer.flush(30)
    failed: list = []

    def delivered(err, _msg) -> None:  # noqa: ANN001 - librdkafka's callback
        if err is not None:
            failed.append(err)

    c0, t0 = _cpu(), time.perf_counter()
    for start in range(0, n, PUBLISH_BATCH):
        for i in range(start, min(n, start + PUBLISH_BATCH)):
            producer.produce(topic, key=str(i).encode(), value=value, on_delivery=delivered)
        if producer.flush(30) or failed:
            raise RuntimeError(f"not acknowledged: {failed[:3]}")
    publish = (_cpu() - c0, time.perf_counter() - t0)

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"bench-{uuid.uuid4().hex[:8]}",
                         "enable.auto.commit": False, "auto.offset.reset": "earliest"})
    consumer.subscribe([topic])
    got, c0, t0 = 0, _cpu(), time.perf_counter()
    while got < n + 1 and time.perf_counter() - t0 < TIMEOUT_S:
        records = [m for m in consumer.consume(num_messages=POLL, timeout=1.0) if m.error() is None]
        got += len(records)
        if records:
            consumer.commit(asynchronous=False)
    consume = (_cpu() - c0, time.perf_counter() - t0)
    consumer.close()
    return {"publish": publish, "consume": consume, "read": got}


def child(client: str, bootstrap: str, n: int) -> None:
    """One client's measurement on a fresh topic; one JSON line on stdout."""
    topic = _new_topic(bootstrap)
    value = os.urandom(VALUE_BYTES // 2).hex().encode()
    if client == "confluent-kafka":
        run = _confluent(bootstrap, topic, n, value)
    else:
        run = _kafka_python(bootstrap, topic, n, value, metrics=client.endswith("+metrics"))
    (pub_cpu, pub_s), (con_cpu, con_s) = run["publish"], run["consume"]
    print(json.dumps({
        "client": client, "messages": n, "read": run["read"],  # n and the warm-up message
        "publish_cpu_us_per_message": round(pub_cpu / n * 1e6, 2), "publish_per_s": round(n / pub_s),
        "consume_cpu_us_per_message": round(con_cpu / max(1, run["read"]) * 1e6, 2),
        "consume_per_s": round(run["read"] / con_s)}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=40_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--bootstrap", default="127.0.0.1:19092")
    parser.add_argument("--child", choices=CLIENTS, help=argparse.SUPPRESS)
    parser.add_argument("--save", action="store_true")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.bootstrap, args.messages)
        return
    import confluent_kafka  # noqa: F401 - fail here, not in a child, when the run lacks it
    import kafka

    runs: list[dict] = []
    for _ in range(args.rounds):
        for client in CLIENTS:
            out = subprocess.run([sys.executable, __file__, "--child", client, "--bootstrap", args.bootstrap,
                                  "--messages", str(args.messages)], capture_output=True, text=True, check=True,
                                 timeout=4 * TIMEOUT_S)
            runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(runs[-1], file=sys.stderr)
    medians = {client: {key: statistics.median(r[key] for r in runs if r["client"] == client)
                        for key in ("publish_cpu_us_per_message", "consume_cpu_us_per_message", "publish_per_s",
                                    "consume_per_s")}
               for client in CLIENTS}
    result = {"when": datetime.now(UTC).isoformat(timespec="seconds"), "machine": f"{os.cpu_count()} cores",
              "load_after": [round(x, 2) for x in os.getloadavg()],
              "versions": {"kafka-python": kafka.__version__, "confluent-kafka": confluent_kafka.__version__,
                           "librdkafka": confluent_kafka.libversion()[0]},
              "messages": args.messages, "value_bytes": VALUE_BYTES, "publish_batch": PUBLISH_BATCH, "poll": POLL,
              "medians": medians, "runs": runs}
    print(json.dumps(result, indent=1))
    if args.save:
        previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else None
        if previous:  # newest first, one flat list (not a list nested one level deeper at every save)
            result["previous"] = [previous, *previous.pop("previous", [])]
        RESULTS.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
