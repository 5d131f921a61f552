"""AES-128-CBC decryption in pure Python, for the Secret Service's encrypted session.

The lean Secret Service reader (:mod:`assumer.store.secretservice`) opens a
``dh-ietf1024-sha256-aes128-cbc-pkcs7`` session, as keyring and libsecret do, so
that the secret does not cross the bus in the clear. Importing ``cryptography``
for the one AES decryption this needs cost about 25 ms per cache hit (measured:
README, Security); importing this module and decrypting a session (about 1.5 KB)
cost a fraction of a millisecond, and nothing is imported.

This is FIPS-197's equivalent inverse cipher (section 5.3.5), computed on all the
blocks at once: CBC decryption deciphers every block independently, so the state is
kept "byte-sliced", as 16 strings each holding one byte position of every block.
InvSubBytes and the GF(2^8) multiplications of InvMixColumns are then one
``bytes.translate`` per table over the whole message, InvShiftRows and the row
rotations of InvMixColumns are slices, and the XORs are done on the whole state as
one integer: about twenty Python operations per round, each over the whole message.

The tables below are literals, so that importing builds nothing;
``tests/unit/test_aes.py`` derives them again from the GF(2^8) arithmetic and
compares, and checks the cipher against FIPS-197 appendix C.1 and against
``cryptography`` on random inputs. Only decryption is here: assumer never encrypts.
Table lookups indexed by secret data leak timing through the CPU cache to code
running on the same machine; such code can already ask the Secret Service for the
secret itself (see the threat model), so that is no loss.
"""

from __future__ import annotations

__all__ = ["decrypt_cbc", "unpad_pkcs7"]

# SubBytes, for the key schedule.
_SBOX = bytes.fromhex(
    "637c777bf26b6fc53001672bfed7ab76ca82c97dfa5947f0add4a2af9ca472c0"
    "b7fd9326363ff7cc34a5e5f171d8311504c723c31896059a071280e2eb27b275"
    "09832c1a1b6e5aa0523bd6b329e32f8453d100ed20fcb15b6acbbe394a4c58cf"
    "d0efaafb434d338545f9027f503c9fa851a3408f929d38f5bcb6da2110fff3d2"
    "cd0c13ec5f974417c4a77e3d645d197360814fdc222a908846eeb814de5e0bdb"
    "e0323a0a4906245cc2d3ac629195e479e7c8376d8dd54ea96c56f4ea657aae08"
    "ba78252e1ca6b4c6e8dd741f4bbd8b8a703eb5664803f60e613557b986c11d9e"
    "e1f8981169d98e949b1e87e9ce5528df8ca1890dbfe6426841992d0fb054bb16"
)
# InvSubBytes, for the last round.
_INV_SBOX = bytes.fromhex(
    "52096ad53036a538bf40a39e81f3d7fb7ce339829b2fff87348e4344c4dee9cb"
    "547b9432a6c2233dee4c950b42fac34e082ea16628d924b2765ba2496d8bd125"
    "72f8f66486689816d4a45ccc5d65b6926c704850fdedb9da5e154657a78d9d84"
    "90d8ab008cbcd30af7e45805b8b34506d02c1e8fca3f0f02c1afbd0301138a6b"
    "3a9111414f67dcea97f2cfcef0b4e67396ac7422e7ad3585e2f937e81c75df6e"
    "47f11a711d29c5896fb7620eaa18be1bfc563e4bc6d279209adbc0fe78cd5af4"
    "1fdda8338807c731b11210592780ec5f60517fa919b54a0d2de57a9f93c99cef"
    "a0e03b4dae2af5b0c8ebbb3c83539961172b047eba77d626e169146355210c7d"
)
# InvSubBytes, then a multiplication by 14 in GF(2^8).
_INV_SBOX_TIMES_14 = bytes.fromhex(
    "517e1a3a3b1fac4b20ad88f54fc526b5de25455dc3818d6b0315bf95d458498e"
    "75f49927bef0c97d63e59762b1bbfef9708f9452ab72e366b22f86d3302302ed"
    "8aa7f34e6506d1c434a205a40b405ebd3e96dd4d9171046019d68967b007e779"
    "a17cf80009321e6cfd0f3d360a689b240c93b41b80615a1ce2c03c120ef22d14"
    "57afeea3f75c445b8bcbb6b8d742138485d2aec71ddc0d772ba91147a8a05622"
    "87d98c98a6a5da3f2c506a54f6902e829f696fcfc810e8dbcd6eec83e6aa21ef"
    "ba4aea29312ac63574fce033f1417f177643cce49e4cc1469d01fafbb392e96d"
    "9a3759ebceb7e17a9c551873535fdf78cab938c216bc28ff3908d8647bd548d0"
)
# InvSubBytes, then a multiplication by 11 in GF(2^8).
_INV_SBOX_TIMES_11 = bytes.fromhex(
    "5053c396cbf1ab9355f69125fcd7808f496798e10212a3c6e795ebda2dd32944"
    "6a786bddb61766b418826045e0841c94581987b723e2572a07039aa5f2b2ba5c"
    "2b92f0a1cdd51f8a9da0327539aa0651f93dae46b5056fff2497cc77bd8838db"
    "47e9c9008348ac4efb561e276421d13ab10fd29e4fa269160ae5431d0badb9c8"
    "854cbbfd9fbcc53476dc6863ca1040207df8116d4bf3ecd06c99fa22c41ad8ef"
    "c7c1fe36cf2826a4e40d9b62c2e85ef5be7ca9b33ba76e7b09f401a8657e08e6"
    "d9ced4d6af3130c037a6b0154af70e2f8d4d54dfe31bb87f045d732e5a523313"
    "8c7a8e89ee35ed3c593f79bfea5b1486813e2c5f720c8b4171de9c9061707442"
)
# InvSubBytes, then a multiplication by 13 in GF(2^8).
_INV_SBOX_TIMES_13 = bytes.fromhex(
    "a765a45e6b455803fa6d764cd7cb44a35a1b0ec075f097f95f9c7a59832169c8"
    "89793e714fadac3a4a31337f77aea02b68fd6cf8d3028fab28c27b0887a56a82"
    "1cb4f2e2f4be62fe5355e1ebecef9f108a0605bd8d5dd415fbe9439e428b5bee"
    "0a0f1e0086ed7072ff38d539d9a6542e67e79691c5204b1aba2ae0170dc7a8a9"
    "1907dd6026f53b7e29c6fcf1dc852211243d32a12f3052e316b948648c3f2c90"
    "4ed1a20b81de8ebf9d92cc4613b8f7af80932d12997d63bb7818b79a6ee6cfe8"
    "9b36097cb2239466bccad0d898da50f6d6b04d04b5881f51ea3574411dd25647"
    "610c143c27c9e5b1df73ce37cdaa6fdbf3c43440c325499501b3e4c184b65c57"
)
# InvSubBytes, then a multiplication by 9 in GF(2^8).
_INV_SBOX_TIMES_9 = bytes.fromhex(
    "f4411727ab9dfae33076cc02e52a3562b1baeafe2f4c46d38f926d52be74e0c9"
    "c28e58b9e18820cedf1a5153646b81084845de7b734b1f55ebb5c53728bf0316"
    "cf790769da0534a62ef38af68360716e21dd3ee654c4065098bd40d9e88919c8"
    "7c428400802b115a0e85ae2d0f5c5b360a57ee9bc0dc771293a0221b098bb61e"
    "f175997f017266fb4323ede4316397c64abbf9299eb286c1b37094e9fcf07d33"
    "4938cad4f57ab7ad3a785f7e8dd839c35dd0d525ac189c3b26599a4f95ffbc15"
    "e76f9fb0a43fa5a24e8290a704eccd914defaa96d16a2c655e8c870b67db10d6"
    "d7a1f813a9611c47d2f214c7f7fd3d44af6824a31de23c0da80cb456cb326cb8"
)

# The round constants of the key schedule: 2^i in GF(2^8).
_RCON = (0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0x1B, 0x36)

# A block's state is a 4x4 matrix of bytes filled column by column (FIPS-197 3.4):
# byte j of a block is in row j % 4, column j // 4. The sliced state of n blocks is
# 16 cells of n bytes (one byte of every block), row by row: cell 4 * row + column
# holds the blocks' bytes _ROW_MAJOR[cell].
_ROW_MAJOR = (0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15)


def decrypt_cbc(key: bytes, iv: bytes, data: bytes) -> bytes:
    """AES-128-CBC decryption of ``data`` (a whole number of blocks); the padding is left on."""
    if len(iv) != 16 or len(data) % 16:
        raise ValueError("AES-CBC needs a 16-byte IV and whole 16-byte blocks")
    n = len(data) // 16
    keys = _round_keys(key, n)
    if not n:
        return b""
    size, row = 16 * n, 4 * n
    # InvShiftRows: row r (4 cells) turns r cells to the right; row 0 stays.
    shift = (slice(0, row), slice(2 * row - n, 2 * row), slice(row, 2 * row - n),
             slice(3 * row - 2 * n, 3 * row), slice(2 * row, 3 * row - 2 * n),
             slice(4 * row - 3 * n, 4 * row), slice(3 * row, 4 * row - 3 * n))
    state = int.from_bytes(b"".join([data[j::16] for j in _ROW_MAJOR]), "big") ^ keys[0]
    for round_key in keys[1:10]:
        # InvShiftRows commutes with InvSubBytes: the order of FIPS-197's figure 15 does not matter.
        sliced = state.to_bytes(size, "big")
        state = _inv_mix_columns(b"".join([sliced[part] for part in shift]), row) ^ round_key
    sliced = state.to_bytes(size, "big")
    state = int.from_bytes(b"".join([sliced[part] for part in shift]).translate(_INV_SBOX), "big") ^ keys[10]
    sliced = state.to_bytes(size, "big")
    blocks = bytearray(size)
    for cell, j in enumerate(_ROW_MAJOR):
        blocks[j::16] = sliced[cell * n:(cell + 1) * n]
    # CBC: each block XOR the ciphertext block before it, the first XOR the IV.
    plain = int.from_bytes(blocks, "big") ^ int.from_bytes(iv + data[:-16], "big")
    return plain.to_bytes(size, "big")


def _inv_mix_columns(state: bytes, row: int) -> int:
    """InvSubBytes then InvMixColumns of the sliced ``state``, whose rows are ``row`` bytes long.

    Row r of each column becomes 14 a_r ^ 11 a_{r+1} ^ 13 a_{r+2} ^ 9 a_{r+3}
    (FIPS-197 5.3.3): the state, its rows taken 0, 1, 2 or 3 rows further down
    (rotations of the sliced state), times each multiplier, XORed.
    """
    size = 4 * row
    doubled = state + state
    return (int.from_bytes(state.translate(_INV_SBOX_TIMES_14), "big")
            ^ int.from_bytes(doubled[row:row + size].translate(_INV_SBOX_TIMES_11), "big")
            ^ int.from_bytes(doubled[2 * row:2 * row + size].translate(_INV_SBOX_TIMES_13), "big")
            ^ int.from_bytes(doubled[3 * row:3 * row + size].translate(_INV_SBOX_TIMES_9), "big"))


def _round_keys(key: bytes, n: int) -> list[int]:
    """The 11 round keys of the equivalent inverse cipher, in the order used, each spread over n blocks.

    The encryption key schedule, reversed, with InvMixColumns applied to the 9 inner
    round keys (FIPS-197 5.3.5). Each key is laid out as the sliced state is, every
    byte repeated n times, as an integer to XOR with the state.
    """
    if len(key) != 16:
        raise ValueError("AES-128 needs a 16-byte key")
    sbox = _SBOX
    w0, w1, w2, w3 = (int.from_bytes(key[i:i + 4], "big") for i in range(0, 16, 4))
    schedule = [key]
    for rcon in _RCON:  # four words a round: FIPS-197 5.2 with Nk = 4
        w0 ^= ((sbox[(w3 >> 16) & 0xFF] ^ rcon) << 24 | sbox[(w3 >> 8) & 0xFF] << 16 | sbox[w3 & 0xFF] << 8
               | sbox[w3 >> 24])
        w1 ^= w0
        w2 ^= w1
        w3 ^= w2
        schedule.append((w0 << 96 | w1 << 64 | w2 << 32 | w3).to_bytes(16, "big"))
    # The 11 encryption round keys as 11 blocks, sliced: cell c of round i's key is at 11 * c + i.
    blocks = b"".join(schedule)
    sliced = b"".join([blocks[j::16] for j in _ROW_MAJOR])
    # SubBytes first cancels the InvSubBytes of _inv_mix_columns: InvMixColumns alone.
    mixed = _inv_mix_columns(sliced.translate(sbox), 44).to_bytes(176, "big")
    # 0, 1, ..., 15 each repeated n times: translating it spreads a 16-byte key over the sliced state.
    cells = b"".join([bytes((cell,)) * n for cell in range(16)])
    ordered = [sliced[10::11]] + [mixed[i::11] for i in range(9, 0, -1)] + [sliced[0::11]]
    return [int.from_bytes(cells.translate(round_key.ljust(256, b"\0")), "big") for round_key in ordered]


def unpad_pkcs7(padded: bytes) -> bytes:
    """``padded`` without its PKCS#7 padding; ValueError if it has none."""
    count = padded[-1] if padded else 0
    if not 1 <= count <= 16 or padded[-count:] != bytes([count]) * count:
        raise ValueError("bad PKCS#7 padding")
    return padded[:-count]
