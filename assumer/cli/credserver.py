"""``exec --server``: a local credentials endpoint that keeps a long command's session fresh.

It speaks the container-credentials protocol the AWS SDKs and CLI already use
(``AWS_CONTAINER_CREDENTIALS_FULL_URI`` with ``AWS_CONTAINER_AUTHORIZATION_TOKEN``):
on 127.0.0.1, a random port, a random 32-byte token compared in constant time.
Each answer is the current session; a background thread renews it through the
keyring cache and its single-flight lock before the renewal rule says it is due
(so a request never waits for STS, and an MFA prompt, if one is needed, comes
ahead of time on the terminal). When it cannot renew, the endpoint answers with an
error the SDKs report, never with an expired session.
"""

from __future__ import annotations

import hmac
import json
import secrets
import signal
import threading
from collections.abc import Callable
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from assumer import logs, ui
from assumer.credentials import Credentials, format_timestamp, utcnow

# A session is handed out only while it has this long to live (or a tenth of its lifetime,
# if less): an SDK must be able to use it; botocore refreshes 10 minutes ahead anyway.
SERVE_MARGIN = 30.0
# After a failed renewal, try again this often (or sooner, as expiry nears).
RETRY_EVERY = 30.0
# How long the command's end waits for a renewal in flight.
JOIN_TIMEOUT = 5.0

SessionSource = Callable[[], Credentials]


class CredentialServer:
    """The endpoint and its renewing thread; ``with`` starts both, leaving stops them and closes the port."""

    def __init__(self, first: Credentials, renew: SessionSource, *, label: str, min_ttl: float,
                 now: Callable[[], datetime] = utcnow) -> None:
        self.token = secrets.token_urlsafe(32)
        logs.register_secret(self.token)  # matches no redaction pattern: never in a --debug line
        self._renew = renew
        self._label = label
        self._min_ttl = min_ttl
        self._now = now
        self._lock = threading.Lock()
        self._current = self._stamped(first)
        self._failure = ""
        self._stop = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}/"
        self._threads = [
            threading.Thread(target=_without_signals(self._httpd.serve_forever), name="assumer-server", daemon=True),
            threading.Thread(target=_without_signals(self._keep_fresh), name="assumer-renewal", daemon=True),
        ]

    def __enter__(self) -> CredentialServer:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        # A renewal in flight (an STS call, a keyring write) gets its time bounds to finish.
        self._threads[1].join(timeout=JOIN_TIMEOUT)

    # -- what a request gets -------------------------------------------------------

    def answer(self, authorization: str | None) -> tuple[int, dict[str, str]]:
        """(HTTP status, JSON body) for a request carrying ``authorization``."""
        if authorization is None or not hmac.compare_digest(authorization.encode(), self.token.encode()):
            return 401, {"code": "AccessDenied", "message": "missing or wrong authorization token"}
        with self._lock:
            current, failure = self._current, self._failure
        if current.seconds_left(self._now()) < min(SERVE_MARGIN, (current.lifetime() or 0.0) / 10):
            why = f": {failure}" if failure else ""
            return 503, {"code": "ExpiredToken",
                         "message": f"assumer could not renew the session of profile {self._label!r}{why}"}
        body = {"AccessKeyId": current.access_key_id, "SecretAccessKey": current.secret_access_key,
                "Token": current.session_token or ""}
        if current.expiration is not None:
            body["Expiration"] = format_timestamp(current.expiration)
        return 200, body

    # -- renewal ---------------------------------------------------------------------

    def _stamped(self, credentials: Credentials) -> Credentials:
        # The rule needs the session's lifetime; one that came without its start started now.
        return credentials if credentials.obtained else credentials._replace(obtained=self._now())

    def _seconds_until_due(self) -> float:
        with self._lock:
            current = self._current
        lifetime = current.lifetime() or 0.0
        threshold = min(self._min_ttl, lifetime / 2)
        return current.seconds_left(self._now()) - threshold

    def _keep_fresh(self) -> None:
        while not self._stop.wait(max(self._seconds_until_due(), 0.0)):
            try:
                fresh = self._stamped(self._renew())
            except Exception as exc:  # noqa: BLE001 - any failure: say it once, keep serving what is valid, retry
                reason = str(exc) or type(exc).__name__
                with self._lock:
                    changed, self._failure = reason != self._failure, reason
                    left = self._current.seconds_left(self._now())
                if changed:
                    ui.warn(f"the credentials server could not renew the session of profile {self._label!r}: "
                            f"{reason}")
                if self._stop.wait(max(min(RETRY_EVERY, left / 4), 1.0)):
                    return
                continue
            with self._lock:
                if fresh.expiration is None or self._current.expiration is None or \
                        fresh.expiration > self._current.expiration:
                    self._current, self._failure = fresh, ""
            if self._seconds_until_due() <= 0:  # renewed, yet already due: do not spin
                self._stop.wait(RETRY_EVERY)


def _without_signals(target: Callable[[], None]) -> Callable[[], None]:
    """``target`` in a thread that never receives the signals exec forwards to its command.

    The kernel hands a process signal to any thread that does not block it; one landing
    here would leave the main thread asleep in waitpid, and the command would never get
    it. Request threads inherit the mask of the serving thread.
    """

    def run() -> None:
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT})
        target()

    return run


def _handler(server: CredentialServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, body = server.answer(self.headers.get("Authorization"))
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: no access log on the command's terminal."""

    return Handler
