"""AES-128-CBC decryption in pure Python, for the Secret Service's encrypted session.

The lean Secret Service reader (:mod:`assumer.store.secretservice`) opens a
``dh-ietf1024-sha256-aes128-cbc-pkcs7`` session, as keyring and libsecret do, so
that the secret does not cross the bus in the clear. Importing ``cryptography``
for the one AES decryption this needs cost about 25 ms per cache hit (measured:
README, Security); these tables and one decryption of a session (about 1.5 KB)
cost a few milliseconds, and nothing is imported.

This is FIPS-197's equivalent inverse cipher with 32-bit lookup tables, checked
against FIPS-197 appendix C.1 and against ``cryptography`` on random inputs
(``tests/unit/test_aes.py``). Only decryption is here: assumer never encrypts.
Table lookups indexed by secret data leak timing through the CPU cache to code
running on the same machine; such code can already ask the Secret Service for the
secret itself (see the threat model), so that is no loss.
"""

from __future__ import annotations

__all__ = ["decrypt_cbc", "unpad_pkcs7"]


def _field_tables() -> tuple[list[int], list[int]]:
    """exp and log tables of GF(2^8) with generator 3, modulo x^8 + x^4 + x^3 + x + 1."""
    exp, log = [0] * 510, [0] * 256
    value = 1
    for power in range(255):
        exp[power] = exp[power + 255] = value
        log[value] = power
        value ^= ((value << 1) ^ (0x1B if value & 0x80 else 0)) & 0xFF  # value * 3
    return exp, log


_EXP, _LOG = _field_tables()


def _mul(a: int, b: int) -> int:
    return _EXP[_LOG[a] + _LOG[b]] if a and b else 0


def _sboxes() -> tuple[list[int], list[int]]:
    sbox = [0] * 256
    for value in range(256):
        inverse = _EXP[255 - _LOG[value]] if value else 0
        affine = inverse
        for shift in (1, 2, 3, 4):
            affine ^= ((inverse << shift) | (inverse >> (8 - shift))) & 0xFF
        sbox[value] = affine ^ 0x63
    inverse_sbox = [0] * 256
    for value, substituted in enumerate(sbox):
        inverse_sbox[substituted] = value
    return sbox, inverse_sbox


def _inverse_round_table(inverse_sbox: list[int]) -> list[int]:
    """InvSubBytes followed by InvMixColumns of one byte, as a column (multipliers 14, 9, 13, 11)."""
    exp, log = _EXP, _LOG
    l14, l9, l13, l11 = log[14], log[9], log[13], log[11]
    table = []
    for s in inverse_sbox:
        if s:
            ls = log[s]
            table.append((exp[ls + l14] << 24) | (exp[ls + l9] << 16) | (exp[ls + l13] << 8) | exp[ls + l11])
        else:
            table.append(0)
    return table


_SBOX, _INV_SBOX = _sboxes()
# The other three columns are rotations of the first.
_TD0 = _inverse_round_table(_INV_SBOX)
_TD1 = [((t >> 8) | (t << 24)) & 0xFFFFFFFF for t in _TD0]
_TD2 = [((t >> 16) | (t << 16)) & 0xFFFFFFFF for t in _TD0]
_TD3 = [((t >> 24) | (t << 8)) & 0xFFFFFFFF for t in _TD0]


def _round_keys(key: bytes) -> list[int]:
    """The decryption key schedule: the encryption one reversed, InvMixColumns on the inner rounds."""
    if len(key) != 16:
        raise ValueError("AES-128 needs a 16-byte key")
    words = [int.from_bytes(key[i:i + 4], "big") for i in range(0, 16, 4)]
    rcon = 1
    for i in range(4, 44):
        word = words[i - 1]
        if i % 4 == 0:
            word = ((_SBOX[(word >> 16) & 0xFF] << 24) | (_SBOX[(word >> 8) & 0xFF] << 16)
                    | (_SBOX[word & 0xFF] << 8) | _SBOX[word >> 24]) ^ (rcon << 24)
            rcon = _mul(rcon, 2)
        words.append(words[i - 4] ^ word)
    keys = words[40:44]
    for round_ in range(9, 0, -1):
        for word in words[4 * round_:4 * round_ + 4]:
            keys.append(_TD0[_SBOX[word >> 24]] ^ _TD1[_SBOX[(word >> 16) & 0xFF]]
                        ^ _TD2[_SBOX[(word >> 8) & 0xFF]] ^ _TD3[_SBOX[word & 0xFF]])
    return keys + words[0:4]


def decrypt_cbc(key: bytes, iv: bytes, data: bytes) -> bytes:
    """AES-128-CBC decryption of ``data`` (a whole number of blocks); the padding is left on."""
    if len(iv) != 16 or len(data) % 16:
        raise ValueError("AES-CBC needs a 16-byte IV and whole 16-byte blocks")
    dk = _round_keys(key)
    td0, td1, td2, td3, inv = _TD0, _TD1, _TD2, _TD3, _INV_SBOX
    out = bytearray()
    previous = int.from_bytes(iv, "big")
    for offset in range(0, len(data), 16):
        block = int.from_bytes(data[offset:offset + 16], "big")
        s0 = (block >> 96) ^ dk[0]
        s1 = ((block >> 64) & 0xFFFFFFFF) ^ dk[1]
        s2 = ((block >> 32) & 0xFFFFFFFF) ^ dk[2]
        s3 = (block & 0xFFFFFFFF) ^ dk[3]
        for k in range(4, 40, 4):
            s0, s1, s2, s3 = (
                td0[s0 >> 24] ^ td1[(s3 >> 16) & 255] ^ td2[(s2 >> 8) & 255] ^ td3[s1 & 255] ^ dk[k],
                td0[s1 >> 24] ^ td1[(s0 >> 16) & 255] ^ td2[(s3 >> 8) & 255] ^ td3[s2 & 255] ^ dk[k + 1],
                td0[s2 >> 24] ^ td1[(s1 >> 16) & 255] ^ td2[(s0 >> 8) & 255] ^ td3[s3 & 255] ^ dk[k + 2],
                td0[s3 >> 24] ^ td1[(s2 >> 16) & 255] ^ td2[(s1 >> 8) & 255] ^ td3[s0 & 255] ^ dk[k + 3],
            )
        plain = (
            ((inv[s0 >> 24] << 24 | inv[(s3 >> 16) & 255] << 16 | inv[(s2 >> 8) & 255] << 8 | inv[s1 & 255])
             ^ dk[40]) << 96
            | ((inv[s1 >> 24] << 24 | inv[(s0 >> 16) & 255] << 16 | inv[(s3 >> 8) & 255] << 8 | inv[s2 & 255])
               ^ dk[41]) << 64
            | ((inv[s2 >> 24] << 24 | inv[(s1 >> 16) & 255] << 16 | inv[(s0 >> 8) & 255] << 8 | inv[s3 & 255])
               ^ dk[42]) << 32
            | ((inv[s3 >> 24] << 24 | inv[(s2 >> 16) & 255] << 16 | inv[(s1 >> 8) & 255] << 8 | inv[s0 & 255])
               ^ dk[43])
        )
        out += (plain ^ previous).to_bytes(16, "big")
        previous = block
    return bytes(out)


def unpad_pkcs7(padded: bytes) -> bytes:
    """``padded`` without its PKCS#7 padding; ValueError if it has none."""
    count = padded[-1] if padded else 0
    if not 1 <= count <= 16 or padded[-count:] != bytes([count]) * count:
        raise ValueError("bad PKCS#7 padding")
    return padded[:-count]
