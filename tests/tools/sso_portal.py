"""A small stand-in for the IAM Identity Center (SSO) portal and its OIDC token endpoint.

moto has no SSO portal. botocore's SSO provider calls ``GetRoleCredentials``
(``GET /federation/credentials`` with the access token in ``x-amz-sso_bearer_token``)
at ``AWS_ENDPOINT_URL_SSO`` and refreshes a token with ``CreateToken`` (``POST /token``)
at ``AWS_ENDPOINT_URL_SSO_OIDC``; this server answers both on 127.0.0.1, handing out
the session it was given (a real one from moto, so it can sign STS calls), and records
every request. :func:`write_token` writes the token file ``aws sso login`` would:
``~/.aws/sso/cache/<sha1 of the sso_session name, or of the start URL>.json``.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
import urllib.parse
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


def write_token(home: Path, name: str, *, access_token: str, expires_in: float, start_url: str,
                refresh_token: str | None = None) -> Path:
    """The SSO cache file for ``name`` (an sso_session name, or a legacy profile's start URL)."""
    expires = datetime.now(timezone.utc) + timedelta(seconds=expires_in)
    token: dict[str, Any] = {"startUrl": start_url, "region": "us-east-1", "accessToken": access_token,
                             "expiresAt": expires.strftime("%Y-%m-%dT%H:%M:%SZ")}
    if refresh_token:
        token.update(refreshToken=refresh_token, clientId="client-id", clientSecret="client-secret",
                     registrationExpiresAt=(expires + timedelta(days=90)).strftime("%Y-%m-%dT%H:%M:%SZ"))
    # sha1 names the file, as botocore and the AWS CLI name it: not a security use.
    digest = hashlib.sha1(name.encode(), usedforsecurity=False).hexdigest()
    path = home / ".aws" / "sso" / "cache" / f"{digest}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(token), encoding="utf-8")
    return path


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, *args: Any) -> None:
        """Quiet."""

    def _json(self, status: int, body: dict[str, Any], error_type: str = "") -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        if error_type:
            self.send_header("x-amzn-ErrorType", error_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self) -> None:
        portal = self.server.portal
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        token = self.headers.get("x-amz-sso_bearer_token", "")
        portal.record("GetRoleCredentials", token=token, **query)
        if url.path != "/federation/credentials" or token not in portal.valid_tokens:
            self._json(401, {"message": "Session token not found or invalid"}, "UnauthorizedException")
            return
        self._json(200, {"roleCredentials": {
            "accessKeyId": portal.access_key_id, "secretAccessKey": portal.secret_access_key,
            "sessionToken": portal.session_token, "expiration": int((time.time() + 3600) * 1000),
        }})

    def do_POST(self) -> None:
        portal = self.server.portal
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        portal.record("CreateToken", **{k: str(v) for k, v in body.items()})
        refreshed = portal.refreshes.get(str(body.get("refreshToken")))
        if urllib.parse.urlsplit(self.path).path != "/token" or refreshed is None:
            self._json(400, {"error": "invalid_grant"}, "InvalidGrantException")
            return
        portal.valid_tokens.add(refreshed)
        self._json(200, {"accessToken": refreshed, "tokenType": "Bearer", "expiresIn": 3600})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    portal: SsoPortal


class SsoPortal:
    """``url`` serves both endpoints; ``valid_tokens`` are accepted, ``refreshes`` map refresh -> new token."""

    def __init__(self, access_key_id: str, secret_access_key: str, session_token: str) -> None:
        self.access_key_id = access_key_id
        self.secret_access_key = secret_access_key
        self.session_token = session_token
        self.valid_tokens: set[str] = set()
        self.refreshes: dict[str, str] = {}
        self.requests: list[dict[str, str]] = []
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.portal = self
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def record(self, action: str, **fields: str) -> None:
        with self._lock:
            self.requests.append({"action": action, **fields})

    def start(self) -> SsoPortal:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
