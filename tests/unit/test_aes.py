"""The pure-Python AES-128-CBC decryption of the Secret Service's encrypted session.

Checked against FIPS-197 (appendix C.1, the AES-128 example) and against
``cryptography`` (installed with keyring's SecretStorage) on random keys and data;
the whole exchange with the real gnome-keyring is in
tests/integration/test_secretservice_real.py. The module's tables are literals: they
are derived here again from the arithmetic of GF(2^8) and compared.
"""

from __future__ import annotations

import os

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from assumer.store import aes
from assumer.store.aes import decrypt_cbc, unpad_pkcs7


def field_tables() -> tuple[list[int], list[int]]:
    """exp and log tables of GF(2^8) with generator 3, modulo x^8 + x^4 + x^3 + x + 1 (FIPS-197 4.1, 4.2)."""
    exp, log = [0] * 510, [0] * 256
    value = 1
    for power in range(255):
        exp[power] = exp[power + 255] = value
        log[value] = power
        value ^= ((value << 1) ^ (0x1B if value & 0x80 else 0)) & 0xFF  # value * 3
    return exp, log


EXP, LOG = field_tables()


def mul(a: int, b: int) -> int:
    return EXP[LOG[a] + LOG[b]] if a and b else 0


def sbox() -> list[int]:
    """SubBytes (FIPS-197 5.1.1): the multiplicative inverse, then the affine transformation."""
    table = []
    for value in range(256):
        inverse = EXP[255 - LOG[value]] if value else 0
        affine = inverse
        for shift in (1, 2, 3, 4):
            affine ^= ((inverse << shift) | (inverse >> (8 - shift))) & 0xFF
        table.append(affine ^ 0x63)
    return table


def inverse_sbox() -> list[int]:
    table = [0] * 256
    for value, substituted in enumerate(sbox()):
        table[substituted] = value
    return table


def test_the_tables_are_the_ones_gf256_gives() -> None:
    assert bytes(sbox()) == aes._SBOX
    assert sbox()[0x53] == 0xED  # FIPS-197 figure 7
    assert bytes(inverse_sbox()) == aes._INV_SBOX
    # InvMixColumns' multipliers (FIPS-197 5.3.3), each after InvSubBytes.
    for factor, table in [(14, aes._INV_SBOX_TIMES_14), (11, aes._INV_SBOX_TIMES_11),
                          (13, aes._INV_SBOX_TIMES_13), (9, aes._INV_SBOX_TIMES_9)]:
        assert table == bytes(mul(factor, s) for s in inverse_sbox()), factor
    assert tuple(EXP[LOG[2] * i % 255] for i in range(10)) == aes._RCON  # 2^i


def test_fips_197_appendix_c1() -> None:
    key = bytes(range(16))
    cipher = bytes.fromhex("69c4e0d86a7b0430d8cdb78070b4c55a")
    # One block with a zero IV is the plain block cipher.
    assert decrypt_cbc(key, bytes(16), cipher) == bytes.fromhex("00112233445566778899aabbccddeeff")


def test_fips_197_appendix_c1_in_several_blocks() -> None:
    # The same block at each position of a longer message: the blocks are deciphered together.
    key, block = bytes(range(16)), bytes.fromhex("00112233445566778899aabbccddeeff")
    cipher = bytes.fromhex("69c4e0d86a7b0430d8cdb78070b4c55a")
    for count in (2, 3, 7):
        for position in range(count):
            data = bytearray(16 * count)
            data[16 * position:16 * position + 16] = cipher
            plain = decrypt_cbc(key, bytes(16), bytes(data))
            # CBC: XOR the previous ciphertext block (here zeros, or the known one).
            assert plain[16 * position:16 * position + 16] == block


@pytest.mark.parametrize("size", [16, 32, 48, 80, 1392, 1536, 4096, 65552])
def test_matches_cryptography_on_random_input(size: int) -> None:
    for _ in range(10):
        key, iv, data = os.urandom(16), os.urandom(16), os.urandom(size)
        encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
        assert decrypt_cbc(key, iv, encryptor.update(data) + encryptor.finalize()) == data


def test_matches_cryptography_on_extreme_keys_and_data() -> None:
    for key in (bytes(16), b"\xff" * 16):
        for data in (bytes(64), b"\xff" * 64, bytes(range(256))):
            encryptor = Cipher(algorithms.AES(key), modes.CBC(bytes(16))).encryptor()
            assert decrypt_cbc(key, bytes(16), encryptor.update(data) + encryptor.finalize()) == data


def test_no_blocks_decrypt_to_nothing() -> None:
    assert decrypt_cbc(bytes(16), bytes(16), b"") == b""


def test_pkcs7() -> None:
    assert unpad_pkcs7(b"abc" + bytes([13]) * 13) == b"abc"
    assert unpad_pkcs7(bytes([16]) * 16) == b""
    for bad in (b"", b"abc\x00", b"abc\x11", b"ab\x01\x02"):
        with pytest.raises(ValueError):
            unpad_pkcs7(bad)


@pytest.mark.parametrize(("key", "iv", "data"), [(b"k" * 15, bytes(16), bytes(16)), (bytes(16), bytes(8), bytes(16)),
                                                 (bytes(16), bytes(16), bytes(17)), (b"k" * 17, bytes(16), b"")])
def test_wrong_sizes_are_refused(key: bytes, iv: bytes, data: bytes) -> None:
    with pytest.raises(ValueError):
        decrypt_cbc(key, iv, data)


@pytest.mark.parametrize("key", [b"", b"\0" * 32, os.urandom(32), os.urandom(64)])
def test_the_session_keys_hmac_is_rfc_2104(key: bytes) -> None:
    import hashlib
    import hmac

    from assumer.store.secretservice import hmac_sha256

    message = os.urandom(128)
    assert hmac_sha256(key, message) == hmac.new(key, message, hashlib.sha256).digest()
