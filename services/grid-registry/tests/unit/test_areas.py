import pytest

from gridgov_grid_registry.grids.areas import child_code, level_of, parent_of


def test_child_code_appends_three_digit_sequence():
    assert child_code("441900", 4) == "441900004"
    assert child_code("441900004", 2) == "441900004002"
    assert child_code("441900004002", 1) == "441900004002001"


@pytest.mark.parametrize("seq", [0, 1000, -1])
def test_child_code_out_of_range_sequence_is_refused(seq):
    with pytest.raises(ValueError, match="outside 1..999"):
        child_code("441900", seq)


@pytest.mark.parametrize(
    ("code", "level", "parent"),
    [
        ("441900004", "town", None),
        ("441900004002", "village", "441900004"),
        ("441900004002001", "grid", "441900004002"),
        ("44190000400", None, None),
        ("4419000040020011", None, None),
        ("44190000400200a", None, None),
        ("", None, None),
    ],
)
def test_level_of_code_follows_its_length(code, level, parent):
    assert level_of(code) == level
    assert parent_of(code) == parent
