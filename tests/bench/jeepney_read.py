"""The limit: the least a Python program can do to answer a cache hit, read one secret over jeepney.

    python tests/bench/jeepney_read.py SERVICE USERNAME plain|encrypted

Start the interpreter, open the session bus, ask the default collection whether it is
locked, SearchItems, OpenSession, GetSecret, print the secret: the four calls
``assumer/store/secretservice.py`` makes, each waiting for its reply as jeepney's
blocking connection does (assumer's reader sends them without waiting where the
answers allow, and asks for the session before it computes the cache key), and
nothing else (no keyring, no configuration, no cache key, no rendering). ``compare.py`` and ``keyring_read.py`` time
it as two baseline rows:

* ``plain``: the session of the Secret Service specification's ``plain`` algorithm,
  the secret in the clear on the bus: the floor;
* ``encrypted``: the session assumer opens (``dh-ietf1024-sha256-aes128-cbc-pkcs7``:
  a 256-bit Diffie-Hellman exponent, HKDF-SHA256 from CPython's own SHA-256, no
  OpenSSL), so that the cached hits are also compared with the same job done by a
  program with no other work. The AES-128-CBC decryption is the one piece taken from
  assumer, ``assumer/store/aes.py`` (a leaf module, stdlib only): the standard library
  has no AES, and ``cryptography`` would load OpenSSL and cost more than the reader
  does (tests/bench/README.md).

Only the standard library and jeepney are imported at module level, so that the script
costs what its imports and round trips cost.
"""

import os
import sys

from jeepney import DBusAddress, Properties, new_method_call
from jeepney.io.blocking import open_dbus_connection

BUS_NAME = "org.freedesktop.secrets"
IFACE = "org.freedesktop.Secret."
# RFC 2409, section 6.2: the second Oakley group (what the Secret Service specification names).
DH_PRIME = int(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DDEF9519B3CD"
    "3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7EDEE386BFB5A899FA5AE9F2"
    "4117C4B1FE649286651ECE65381FFFFFFFFFFFFFFFF", 16)
ALGORITHM = "dh-ietf1024-sha256-aes128-cbc-pkcs7"


def hmac_sha256(key: bytes, message: bytes) -> bytes:
    """RFC 2104 with CPython's SHA-256 (``hmac`` would import hashlib, hence OpenSSL)."""
    try:
        from _sha256 import sha256  # CPython up to 3.11
    except ImportError:
        from _sha2 import sha256  # CPython 3.12 on
    block = key.ljust(64, b"\0")
    inner = sha256(bytes(b ^ 0x36 for b in block) + message).digest()
    return sha256(bytes(b ^ 0x5C for b in block) + inner).digest()


def read(service: str, username: str, mode: str) -> str | None:
    collection = DBusAddress("/org/freedesktop/secrets/aliases/default", BUS_NAME, IFACE + "Collection")
    secrets = DBusAddress("/org/freedesktop/secrets", BUS_NAME, IFACE + "Service")
    with open_dbus_connection(os.environ["DBUS_SESSION_BUS_ADDRESS"]) as conn:
        ((_sig, locked),) = conn.send_and_get_reply(Properties(collection).get("Locked"), timeout=30).body
        if locked is not False:
            raise SystemExit("the default collection is locked")
        (paths,) = conn.send_and_get_reply(
            new_method_call(collection, "SearchItems", "a{ss}", ({"username": username, "service": service},)),
            timeout=30).body
        if not paths:
            return None
        if mode == "plain":
            _output, session = conn.send_and_get_reply(
                new_method_call(secrets, "OpenSession", "sv", ("plain", ("s", ""))), timeout=30).body
        else:
            private = int.from_bytes(os.urandom(32), "big")
            public = pow(2, private, DH_PRIME).to_bytes(128, "big")
            (_sig, server_public), session = conn.send_and_get_reply(
                new_method_call(secrets, "OpenSession", "sv", (ALGORITHM, ("ay", public))), timeout=30).body
            shared = pow(int.from_bytes(bytes(server_public), "big"), private, DH_PRIME).to_bytes(128, "big")
            key = hmac_sha256(hmac_sha256(b"\0" * 32, shared), b"\x01")[:16]
        item = DBusAddress(paths[0], BUS_NAME, IFACE + "Item")
        ((_session, params, value, _type),) = conn.send_and_get_reply(
            new_method_call(item, "GetSecret", "o", (session,)), timeout=30).body
    if mode == "plain":
        return bytes(value).decode("utf-8")
    from assumer.store import aes

    return aes.unpad_pkcs7(aes.decrypt_cbc(key, bytes(params), bytes(value))).decode("utf-8")


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[3] not in ("plain", "encrypted"):
        raise SystemExit(__doc__.splitlines()[2].strip())
    print(read(sys.argv[1], sys.argv[2], sys.argv[3]))
