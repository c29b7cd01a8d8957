"""Synthetic space-time cubes with planted patterns: the ground truth the hot-spot statistics are measured on.

A background of Poisson counts (the same rate everywhere: pure noise) with, planted on small clusters of adjacent
locations, rates shaped over time as each emerging class describes them:

- new: background until the final step, then ``new_peak`` times the background;
- intensifying: from ``low`` to ``high`` times the background, rising linearly over the steps;
- persistent: ``level`` times the background in every step;
- diminishing: from ``high`` down to ``low`` times the background.

Clusters are a seed location and its nearest neighbours (breadth first), kept two neighbourhoods apart from each
other so that one pattern's statistics do not see another's. Deterministic for a seed. Pure: numpy only.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from gridgov_analytics.risk.adjacency import Adjacency

KINDS = ("new", "intensifying", "persistent", "diminishing")


@dataclass(frozen=True)
class Shapes:
    """The rate multipliers of the planted patterns (times the background rate)."""

    new_peak: float = 6.0
    low: float = 3.5
    high: float = 8.0
    level: float = 4.0

    def multiplier(self, kind: str, steps: int) -> np.ndarray:
        """The rate multiplier of ``kind`` over ``steps`` steps."""
        if kind == "new":
            out = np.ones(steps)
            out[-1] = self.new_peak
            return out
        if kind == "intensifying":
            return np.linspace(self.low, self.high, steps)
        if kind == "diminishing":
            return np.linspace(self.high, self.low, steps)
        if kind == "persistent":
            return np.full(steps, self.level)
        raise ValueError(f"unknown kind {kind!r}")


@dataclass(frozen=True)
class PlantedPattern:
    """One planted pattern: its kind (the class it should get, ``<kind>_hot``) and its locations (rows)."""

    kind: str
    rows: tuple[int, ...]

    @property
    def expected_class(self) -> str:
        """The emerging class this pattern should be given."""
        return f"{self.kind}_hot"


@dataclass(frozen=True)
class PlantedCube:
    """Counts per location and step, and the patterns planted in them."""

    counts: np.ndarray  # int64 [n_locations, n_steps]
    patterns: tuple[PlantedPattern, ...]
    background: float


def noise_cube(n_locations: int, n_steps: int, background: float = 4.0, seed: int = 15) -> np.ndarray:
    """Pure Poisson noise: the same rate in every bin."""
    return np.random.default_rng(seed).poisson(background, size=(n_locations, n_steps)).astype(np.int64)


def _ball(adj: Adjacency, start: int, hops: int) -> set[int]:
    """The locations within ``hops`` neighbour steps of ``start``."""
    seen = {start}
    frontier = deque([(start, 0)])
    while frontier:
        node, depth = frontier.popleft()
        if depth == hops:
            continue
        for nb in adj.indices[adj.indptr[node]:adj.indptr[node + 1]]:
            if int(nb) not in seen:
                seen.add(int(nb))
                frontier.append((int(nb), depth + 1))
    return seen


def _cluster(adj: Adjacency, seed_row: int, size: int) -> list[int]:
    """The seed and its nearest neighbours, breadth first, ``size`` locations at most."""
    out = [seed_row]
    seen = {seed_row}
    frontier = deque([seed_row])
    while frontier and len(out) < size:
        node = frontier.popleft()
        for nb in sorted(int(j) for j in adj.indices[adj.indptr[node]:adj.indptr[node + 1]]):
            if nb not in seen and len(out) < size:
                seen.add(nb)
                out.append(nb)
                frontier.append(nb)
    return out


def planted_cube(adj: Adjacency, *, n_steps: int = 52, n_patterns: int = 30, kinds: tuple[str, ...] = KINDS,
                 cluster_size: int = 5, background: float = 4.0, shapes: Shapes | None = None,
                 seed: int = 15) -> PlantedCube:
    """A Poisson background with ``n_patterns`` patterns planted, the kinds taken in turn."""
    shapes = shapes or Shapes()
    rng = np.random.default_rng(seed)
    n = len(adj)
    rates = np.full((n, n_steps), float(background))
    blocked: set[int] = set()
    patterns: list[PlantedPattern] = []
    for row in rng.permutation(n):
        if len(patterns) == n_patterns:
            break
        row = int(row)
        if row in blocked or adj.degree[row] < 3:
            continue
        rows = _cluster(adj, row, cluster_size)
        if len(rows) < cluster_size or any(r in blocked for r in rows):
            continue
        kind = kinds[len(patterns) % len(kinds)]
        rates[rows, :] = background * shapes.multiplier(kind, n_steps)[None, :]
        patterns.append(PlantedPattern(kind, tuple(rows)))
        for r in rows:  # keep the next clusters out of this one's neighbourhood and theirs out of its
            blocked |= _ball(adj, r, 3)
    if len(patterns) < n_patterns:
        raise ValueError(f"room for {len(patterns)} patterns only, {n_patterns} asked")
    counts = rng.poisson(rates).astype(np.int64)
    return PlantedCube(counts, tuple(patterns), float(background))


def lattice(rows: int, cols: int, queen: bool = True) -> Adjacency:
    """A rows × cols lattice of locations ``r<i>c<j>`` with queen (or rook) contiguity."""
    codes = [f"r{i}c{j}" for i in range(rows) for j in range(cols)]
    steps = [(-1, 0), (1, 0), (0, -1), (0, 1)]
    if queen:
        steps += [(-1, -1), (-1, 1), (1, -1), (1, 1)]
    neighbours = {
        f"r{i}c{j}": [f"r{i + di}c{j + dj}" for di, dj in steps if 0 <= i + di < rows and 0 <= j + dj < cols]
        for i in range(rows) for j in range(cols)
    }
    return Adjacency.from_neighbours(codes, neighbours)
