"""Ports for servers the tests start (services, moto, SMTP, uvicorn in a thread), on loopback."""

from __future__ import annotations

import random
import socket
from pathlib import Path


def _service_ports() -> range:
    """Ports to give services: outside the kernel's ephemeral range, from which outgoing connections take theirs."""
    try:
        low, high = map(int, Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    except (OSError, ValueError):
        low, high = 32768, 60999  # Linux's default
    # From 20000: deploy/local's Kafka (19092, 19093), PostgreSQL (15432) and Mosquitto (11883) are below, so a
    # service never takes the port of one a fault test has stopped and is about to start again.
    return range(20000, low) if low - 20000 >= 5000 else range(high + 1, 65536)


_handed_out: set[int] = set()


def free_port() -> int:
    """A TCP port free on loopback now, outside the ephemeral range, not handed out before by this process.

    A port the kernel picked (bind to 0) is an ephemeral one: between this check and the service's own bind, an
    outgoing connection of any process (a Kafka client's, a database driver's) could take it, and the service
    failed to start ("address already in use", seen once in CI)."""
    ports, pick = _service_ports(), random.SystemRandom()
    for _ in range(500):
        port = pick.choice(ports)
        if port in _handed_out:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    raise RuntimeError(f"no free port in {ports}")
