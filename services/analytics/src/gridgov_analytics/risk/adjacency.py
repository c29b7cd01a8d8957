"""Grid adjacency: queen contiguity of the grid polygons, the spatial neighbourhood of the hot-spot statistics.

Two grids are neighbours when their boundaries touch, at an edge or a single corner (queen), within a small
tolerance so that boundaries traced with rounding still meet. A grid with no neighbour (an island) is linked to
its nearest grid, both ways, so every location has a neighbourhood. Pure: shapely geometry in, arrays out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import shapely
from shapely import STRtree

DEFAULT_TOLERANCE = 1e-6  # in the boundaries' units: about 0.1 m for WGS84 degrees


@dataclass(frozen=True, eq=False)
class Adjacency:
    """Symmetric binary neighbours of each location, without the location itself (CSR arrays)."""

    codes: tuple[str, ...]
    indptr: np.ndarray
    indices: np.ndarray
    islands: tuple[str, ...] = ()  # the locations that had no touching neighbour and got their nearest one
    _index: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {code: i for i, code in enumerate(self.codes)})

    def __len__(self) -> int:
        return len(self.codes)

    def index(self, code: str) -> int:
        """The row of ``code`` in the arrays (KeyError when unknown)."""
        return self._index[code]

    def neighbours(self, code: str) -> list[str]:
        """The codes of the neighbours of ``code``."""
        i = self._index[code]
        return [self.codes[j] for j in self.indices[self.indptr[i]:self.indptr[i + 1]]]

    @cached_property
    def degree(self) -> np.ndarray:
        """The number of neighbours of each location."""
        return np.diff(self.indptr)

    @cached_property
    def matrix(self) -> Any:
        """The binary weights as a scipy CSR matrix (no self-loops)."""
        from scipy.sparse import csr_matrix

        n = len(self.codes)
        return csr_matrix((np.ones(len(self.indices)), self.indices, self.indptr), shape=(n, n))

    @cached_property
    def w(self) -> Any:
        """The same neighbours as a libpysal ``W`` (binary), imported on first use: libpysal is slow to load."""
        from libpysal.weights import W

        neighbours = {code: self.neighbours(code) for code in self.codes}
        return W(neighbours, id_order=list(self.codes), silence_warnings=True)

    @classmethod
    def from_neighbours(cls, codes: Sequence[str], neighbours: Mapping[str, Sequence[str]]) -> Adjacency:
        """An adjacency from a neighbour list (made symmetric; self-links dropped)."""
        index = {code: i for i, code in enumerate(codes)}
        pairs = {(index[a], index[b]) for a, nbrs in neighbours.items() for b in nbrs if a != b}
        pairs |= {(j, i) for i, j in pairs}
        return cls._from_pairs(tuple(codes), pairs, ())

    @classmethod
    def _from_pairs(cls, codes: tuple[str, ...], pairs: set[tuple[int, int]] | np.ndarray,
                    islands: tuple[str, ...]) -> Adjacency:
        arr = np.array(sorted(pairs), dtype=np.int64).reshape(-1, 2) if not isinstance(pairs, np.ndarray) else pairs
        order = np.lexsort((arr[:, 1], arr[:, 0]))
        arr = arr[order]
        counts = np.bincount(arr[:, 0], minlength=len(codes))
        indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        return cls(codes, indptr, arr[:, 1].astype(np.int64).copy(), islands)


def grid_adjacency(codes: list[str], boundaries: list[Any], tolerance: float = DEFAULT_TOLERANCE) -> Adjacency:
    """Queen contiguity of the grids' boundaries within ``tolerance``; islands get their nearest grid."""
    if len(codes) != len(boundaries):
        raise ValueError("one boundary per code")
    if len(set(codes)) != len(codes):
        raise ValueError("grid codes must be unique")
    geoms = np.asarray(boundaries, dtype=object)
    if len(geoms) == 0:
        return Adjacency((), np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.int64))
    tree = STRtree(geoms)
    left, right = tree.query(shapely.buffer(geoms, tolerance), predicate="intersects")
    keep = left != right
    pairs = np.stack([left[keep], right[keep]], axis=1)
    has = np.zeros(len(geoms), dtype=bool)
    has[pairs[:, 0]] = True
    lonely = np.flatnonzero(~has)
    islands: tuple[str, ...] = ()
    if len(lonely) and len(geoms) > 1:
        # nearest other grid, linked both ways so the weights stay symmetric
        src, dst = tree.query_nearest(geoms[lonely], exclusive=True, all_matches=False)
        found = np.stack([lonely[src], dst], axis=1)
        pairs = np.concatenate([pairs, found, found[:, ::-1]])
        islands = tuple(codes[i] for i in lonely)
    pairs = np.unique(pairs, axis=0)
    return Adjacency._from_pairs(tuple(codes), pairs, islands)
