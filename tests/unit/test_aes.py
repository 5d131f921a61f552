"""The pure-Python AES-128-CBC decryption of the Secret Service's encrypted session.

Checked against FIPS-197 (appendix C.1, the AES-128 example) and against
``cryptography`` (installed with keyring's SecretStorage) on random keys and data;
the whole exchange with the real gnome-keyring is in
tests/integration/test_secretservice_real.py.
"""

from __future__ import annotations

import os

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from assumer.store.aes import decrypt_cbc, unpad_pkcs7


def test_fips_197_appendix_c1() -> None:
    key = bytes(range(16))
    cipher = bytes.fromhex("69c4e0d86a7b0430d8cdb78070b4c55a")
    # One block with a zero IV is the plain block cipher.
    assert decrypt_cbc(key, bytes(16), cipher) == bytes.fromhex("00112233445566778899aabbccddeeff")


@pytest.mark.parametrize("size", [16, 32, 1392, 4096])
def test_matches_cryptography_on_random_input(size: int) -> None:
    for _ in range(10):
        key, iv, data = os.urandom(16), os.urandom(16), os.urandom(size)
        encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
        assert decrypt_cbc(key, iv, encryptor.update(data) + encryptor.finalize()) == data


def test_pkcs7() -> None:
    assert unpad_pkcs7(b"abc" + bytes([13]) * 13) == b"abc"
    assert unpad_pkcs7(bytes([16]) * 16) == b""
    for bad in (b"", b"abc\x00", b"abc\x11", b"ab\x01\x02"):
        with pytest.raises(ValueError):
            unpad_pkcs7(bad)


@pytest.mark.parametrize(("key", "iv", "data"), [(b"k" * 15, bytes(16), bytes(16)), (bytes(16), bytes(8), bytes(16)),
                                                 (bytes(16), bytes(16), bytes(17))])
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
