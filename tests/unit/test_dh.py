"""The Secret Service session's Diffie-Hellman: the fixed-base table and method against pow()."""

from __future__ import annotations

import secrets

import pytest

from assumer.store import dh

# RFC 2409 6.2: 2^1024 - 2^960 - 1 + 2^64 * (floor(2^894 * pi) + 129093), so its top and bottom 64 bits
# are all ones (the test also compares it with the copy in the benchmark's own script).
RFC_2409_PRIME_TOP_AND_BOTTOM = (1 << 64) - 1


def test_the_prime_is_rfc_2409s_second_oakley_group() -> None:
    assert dh.PRIME.bit_length() == 1024
    assert dh.PRIME >> 960 == RFC_2409_PRIME_TOP_AND_BOTTOM
    assert dh.PRIME & RFC_2409_PRIME_TOP_AND_BOTTOM == RFC_2409_PRIME_TOP_AND_BOTTOM
    assert pow(2, dh.PRIME - 1, dh.PRIME) == 1  # Fermat: a probable prime
    assert pow(2, (dh.PRIME - 1) // 2, dh.PRIME) == 1  # p = 7 mod 8: 2 is a quadratic residue, as for this group
    from tests.bench.jeepney_read import DH_PRIME  # written out independently, from the RFC

    assert dh.PRIME == DH_PRIME


def test_the_table_is_two_to_the_powers_of_sixteen() -> None:
    assert tuple(pow(2, 16 ** i, dh.PRIME) for i in range(dh.EXPONENT_BITS // 4)) == dh._POWERS


@pytest.mark.parametrize("private", [0, 1, 2, 15, 16, 17, 255, 16 ** 63, (1 << 256) - 1, (1 << 255) + 1,
                                     int("f" * 64, 16) ^ int("0f" * 32, 16)])
def test_public_value_is_pow_for_edge_exponents(private: int) -> None:
    assert dh.public_value(private) == pow(2, private, dh.PRIME)


def test_public_value_is_pow_for_random_exponents() -> None:
    for _ in range(500):
        private = secrets.randbits(256)
        assert dh.public_value(private) == pow(2, private, dh.PRIME)


@pytest.mark.parametrize("private", [-1, 1 << 256])
def test_an_exponent_out_of_range_is_refused(private: int) -> None:
    with pytest.raises(ValueError, match="out of range"):
        dh.public_value(private)


def test_both_sides_agree() -> None:
    ours, theirs = secrets.randbits(256), secrets.randbits(256)
    assert dh.shared_secret(dh.public_value(theirs), ours) == dh.shared_secret(dh.public_value(ours), theirs)
