"""SHA-256 for the cache-hit path, without OpenSSL.

``hashlib`` loads OpenSSL's libcrypto when imported: about 2.5 ms and 4 MiB of a
cache hit that hashes a few hundred bytes (measured with ``python -X importtime``).
CPython's own SHA-256 module gives the same digests for a tenth of that; hashlib
stays the fallback for an interpreter without it.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:  # the private modules have no stubs; they are hashlib's sha256 without OpenSSL
    from hashlib import sha256 as _sha256
else:
    try:  # CPython up to 3.11
        from _sha256 import sha256 as _sha256
    except ImportError:  # CPython 3.12 on, or no such module at all
        try:
            from _sha2 import sha256 as _sha256
        except ImportError:
            from hashlib import sha256 as _sha256


def sha256(data: bytes) -> bytes:
    return _sha256(data).digest()


def sha256_hex(data: bytes) -> str:
    return _sha256(data).hexdigest()
