"""Distance between perceptual hashes as dispatch compares them (issue #14)."""

import pytest

from gridgov_common.phash import hamming


def test_hamming_counts_differing_bits_of_hex_and_int_hashes():
    assert hamming("0000000000000000", "0000000000000000") == 0
    assert hamming("ffffffffffffffff", "0000000000000000") == 64
    assert hamming("8000000000000001", 0) == 2
    assert hamming(0b1011, 0b0110) == 3


@pytest.mark.parametrize("bad", ["1" + "0" * 16, "-1", "xyz", -1, 1 << 64])
def test_hamming_of_value_that_is_not_a_64_bit_hash_raises(bad):
    with pytest.raises(ValueError):
        hamming(bad, 0)
