"""The lean Secret Service read with a ``plain`` session, or an encrypted one as SecretStorage does it.

``keyring_read.py`` runs :func:`read` as two of its rows, which differ only in the
session: the calls ``assumer/store/secretservice.py``'s ``Reader`` makes (Locked,
SearchItems, OpenSession, GetSecret), one after another on jeepney's blocking
connection (the reader itself pipelines them), then for ``dh`` the key
agreement and decryption of keyring's SecretStorage (``secretstorage/dhcrypto.py``):
a 1024-bit private exponent and AES from ``cryptography``; ``dh-python`` does what the
reader does (a 256-bit exponent, AES in Python: ``assumer/store/aes.py``). They show
what each choice costs a cache hit; README "Security" has the figures and the decision.
"""

from __future__ import annotations

import os
import sys

# RFC 2409, section 6.2: the second Oakley group (what the Secret Service specification names).
DH_PRIME = int(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DDEF9519B3CD"
    "3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7EDEE386BFB5A899FA5AE9F2"
    "4117C4B1FE649286651ECE65381FFFFFFFFFFFFFFFF", 16)
ALGORITHM = "dh-ietf1024-sha256-aes128-cbc-pkcs7"


def hkdf_sha256(secret: bytes, length: int = 16) -> bytes:
    """RFC 5869 with an empty salt and info, as libsecret and SecretStorage derive the AES key."""
    import hashlib
    import hmac

    prk = hmac.new(b"\0" * 32, secret, hashlib.sha256).digest()
    return hmac.new(prk, b"\x01", hashlib.sha256).digest()[:length]


def read(service: str, username: str, mode: str) -> str | None:
    from jeepney import DBusAddress, Properties, new_method_call
    from jeepney.io.blocking import open_dbus_connection

    collection = DBusAddress("/org/freedesktop/secrets/aliases/default", "org.freedesktop.secrets",
                             "org.freedesktop.Secret.Collection")
    secrets = DBusAddress("/org/freedesktop/secrets", "org.freedesktop.secrets", "org.freedesktop.Secret.Service")
    with open_dbus_connection(os.environ["DBUS_SESSION_BUS_ADDRESS"]) as conn:
        ((_sig, locked),) = conn.send_and_get_reply(Properties(collection).get("Locked"), timeout=30).body
        assert locked is False
        (paths,) = conn.send_and_get_reply(
            new_method_call(collection, "SearchItems", "a{ss}", ({"username": username, "service": service},)),
            timeout=30).body
        if not paths:
            return None
        if mode == "plain":  # what the released reader did
            _output, session = conn.send_and_get_reply(
                new_method_call(secrets, "OpenSession", "sv", ("plain", ("s", ""))), timeout=30).body
        else:  # "dh": SecretStorage's 1024-bit exponent; "dh-python": the reader's 256-bit one
            private = int.from_bytes(os.urandom(128 if mode == "dh" else 32), "big")
            public = pow(2, private, DH_PRIME).to_bytes(128, "big")
            (_sig, server_public), session = conn.send_and_get_reply(
                new_method_call(secrets, "OpenSession", "sv", (ALGORITHM, ("ay", public))), timeout=30).body
            shared = pow(int.from_bytes(bytes(server_public), "big"), private, DH_PRIME).to_bytes(128, "big")
            if mode == "dh-python":  # the reader's HKDF, which does without hashlib (and OpenSSL)
                from assumer.store.secretservice import hmac_sha256

                key = hmac_sha256(hmac_sha256(b"\0" * 32, shared), b"\x01")[:16]
            else:
                key = hkdf_sha256(shared)
        item = DBusAddress(paths[0], "org.freedesktop.secrets", "org.freedesktop.Secret.Item")
        ((_session, params, value, _type),) = conn.send_and_get_reply(
            new_method_call(item, "GetSecret", "o", (session,)), timeout=30).body
    if mode == "plain":
        return bytes(value).decode("utf-8")
    if mode == "dh-python":
        from assumer.store import aes

        return aes.unpad_pkcs7(aes.decrypt_cbc(key, bytes(params), bytes(value))).decode("utf-8")
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    decryptor = Cipher(algorithms.AES(key), modes.CBC(bytes(params))).decryptor()
    padded = decryptor.update(bytes(value)) + decryptor.finalize()
    return padded[:-padded[-1]].decode("utf-8")


if __name__ == "__main__":  # python secretservice_session.py SERVICE USERNAME plain|dh|dh-python
    print(read(sys.argv[1], sys.argv[2], sys.argv[3]))
