"""Parity, in-memory half: over 100,000 points (random, every grid vertex, every grid edge), the STRtree
answers exactly as the lattice the city was cut from, with and without holes (town_only). The PostGIS half is
tests/api/test_postgis.py::test_locate_on_postgis_matches_strtree_over_parity_points."""

import numpy as np

from gridgov_grid_registry.grids.index import GridIndex


def test_strtree_matches_lattice_over_parity_points(city, parity, oracle, removed_grids):
    assert len(parity) >= 100_000
    full = GridIndex(city.grid_set.areas, city.grid_set.version)
    got = full.answer_many(parity[:, 0], parity[:, 1])
    assert np.array_equal(got, oracle(city, full.answers, parity))
    holes = GridIndex([a for a in city.grid_set.areas if a.code not in removed_grids], "holey")
    got = holes.answer_many(parity[:, 0], parity[:, 1])
    want = oracle(city, holes.answers, parity, removed_grids)
    assert np.array_equal(got, want)
    statuses = {holes.answers.location(a).status for a in np.unique(got)}
    assert statuses == {"located", "town_only", "unlocated"}
    # The single-point path agrees with the batch path.
    sample = parity[::50]
    assert [holes.answer(x, y) for x, y in sample.tolist()] == got[::50].tolist()
