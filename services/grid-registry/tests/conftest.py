"""Shared by grid-registry's tests: the generated city's lattice as an independent lookup oracle, and the parity
points (inside, outside, on every grid vertex and on every grid edge)."""

import numpy as np
import pytest

from gridgov_grid_registry.grids.generator import GeneratedCity, generated
from gridgov_grid_registry.grids.index import Answers


def oracle_answers(city: GeneratedCity, answers: Answers, points: np.ndarray,
                   removed: frozenset[str] = frozenset()) -> np.ndarray:
    """The answer of each point worked out from the lattice alone: the (up to four) cells whose closed square
    holds the point; the smallest grid code among them (grids in ``removed`` are missing), else the smallest
    town code, else unlocated."""
    x, y = points[:, 0], points[:, 1]
    ny, nx = city.cell_grid.shape
    big = np.iinfo(np.int64).max
    grid_label = city.cell_grid.copy()
    if removed:
        gone = np.array([c in removed for c in city.grid_codes])
        grid_label[(grid_label >= 0) & gone[np.maximum(grid_label, 0)]] = -1
    best_grid = np.full(len(points), big)
    best_town = np.full(len(points), big)
    col = np.searchsorted(city.xs, x, side="right") - 1
    row = np.searchsorted(city.ys, y, side="right") - 1
    for dc in (0, -1):
        for dr in (0, -1):
            c, r = col + dc, row + dr
            # The cell (c, r) holds the point if it exists and the point is within its closed square.
            ok = (c >= 0) & (c < nx) & (r >= 0) & (r < ny)
            cc, rr = np.clip(c, 0, nx - 1), np.clip(r, 0, ny - 1)
            ok &= (city.xs[cc] <= x) & (x <= city.xs[cc + 1]) & (city.ys[rr] <= y) & (y <= city.ys[rr + 1])
            g = np.where(ok, grid_label[rr, cc], -1)
            t = np.where(ok, city.cell_town[rr, cc], -1)
            best_grid = np.minimum(best_grid, np.where(g >= 0, g, big))
            best_town = np.minimum(best_town, np.where(t >= 0, t, big))
    grid_answer = np.array([answers.answer_of_code.get(c, -1) for c in city.grid_codes] + [0])
    town_answer = np.array([answers.answer_of_code[c] for c in city.town_codes] + [0])
    out = np.where(best_town < big, town_answer[np.minimum(best_town, len(city.town_codes))], 0)
    return np.where(best_grid < big, grid_answer[np.minimum(best_grid, len(city.grid_codes))], out)


def parity_points(city: GeneratedCity, random_count: int = 75_000) -> np.ndarray:
    """Random points over (and beyond) the city, every grid vertex, and the midpoint of every grid edge."""
    rng = np.random.default_rng(20240501)
    west, east = city.xs[0] - 0.05, city.xs[-1] + 0.05
    south, north = city.ys[0] - 0.05, city.ys[-1] + 0.05
    random = np.stack([rng.uniform(west, east, random_count), rng.uniform(south, north, random_count)], axis=1)
    rings = [np.asarray(a.geometry.exterior.coords) for a in city.grid_set.areas if a.level == "grid"]
    vertices = np.unique(np.concatenate(rings), axis=0)
    # Edges are axis-aligned, so a midpoint lies exactly on its edge in floating point.
    mids = np.unique(np.concatenate([(r[:-1] + r[1:]) / 2 for r in rings]), axis=0)
    return np.concatenate([random, vertices, mids])


def holey(city: GeneratedCity, every: int = 37) -> frozenset[str]:
    """Every ``every``-th grid code: removing them leaves town_only holes inside towns."""
    return frozenset(city.grid_codes[::every])


@pytest.fixture(scope="session")
def city() -> GeneratedCity:
    return generated("dongguan")


@pytest.fixture(scope="session")
def oracle():
    """``oracle(city, answers, points, removed=frozenset())``: the lattice's answer for each point."""
    return oracle_answers


@pytest.fixture(scope="session")
def parity(city) -> np.ndarray:
    """The parity points of the demo city (over 100,000)."""
    return parity_points(city)


@pytest.fixture(scope="session")
def removed_grids(city) -> frozenset[str]:
    """The grids the holey variant of the demo city lacks."""
    return holey(city)
