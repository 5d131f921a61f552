"""A stand-in for AWS's console federation endpoint (moto has none), on 127.0.0.1.

It checks ``getSigninToken`` the way AWS documents it for a custom identity broker
(IAM User Guide, "Enable custom identity broker access to the AWS console"): a GET of
``/federation`` with ``Action=getSigninToken``, ``Session`` a JSON object holding
exactly ``sessionId``, ``sessionKey`` and ``sessionToken`` (non-empty strings), and an
optional ``SessionDuration`` of 900..43200. A well-formed request gets
``{"SigninToken": ...}``; anything else a 400, as the real endpoint answers. Every
request is recorded for the test to inspect.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SESSION_FIELDS = {"sessionId", "sessionKey", "sessionToken"}


@dataclass
class SigninRequest:
    """One request as the stand-in saw it, and what it found wrong (empty: well-formed)."""

    path: str
    params: dict[str, str]
    session: dict[str, object] = field(default_factory=dict)
    problem: str = ""


def check(path: str, params: dict[str, str]) -> SigninRequest:
    """Validate a getSigninToken request as AWS documents it."""
    request = SigninRequest(path, params)
    if path != "/federation":
        request.problem = f"path {path!r} is not /federation"
    elif params.get("Action") != "getSigninToken":
        request.problem = f"Action {params.get('Action')!r} is not getSigninToken"
    else:
        try:
            session = json.loads(params.get("Session", ""))
        except ValueError:
            session = None
        if not isinstance(session, dict) or set(session) != SESSION_FIELDS or not all(
                isinstance(value, str) and value for value in session.values()):
            request.problem = "Session is not a JSON object of sessionId, sessionKey and sessionToken"
        else:
            request.session = session
        duration = params.get("SessionDuration")
        if duration is not None and not (duration.isdigit() and 900 <= int(duration) <= 43200):
            request.problem = f"SessionDuration {duration!r} is not 900..43200"
    return request


class SigninStandIn:
    """``with SigninStandIn() as signin:`` serves ``signin.url``; ``signin.requests`` records."""

    def __init__(self) -> None:
        self.requests: list[SigninRequest] = []
        # Set to refuse every request (400), as AWS refuses a session it will not sign in.
        self.refuse = ""
        self._lock = threading.Lock()
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                split = urllib.parse.urlsplit(self.path)
                params = dict(urllib.parse.parse_qsl(split.query, keep_blank_values=True))
                request = check(split.path, params)
                if stand_in.refuse and not request.problem:
                    request.problem = stand_in.refuse
                with stand_in._lock:
                    stand_in.requests.append(request)
                    number = len(stand_in.requests)
                body = (json.dumps({"SigninToken": f"stand-in-token-{number}"}) if not request.problem
                        else f"<Error>{request.problem}</Error>").encode()
                self.send_response(400 if request.problem else 200)
                self.send_header("Content-Type", "text/xml" if request.problem else "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                """Quiet: the test output is no place for an access log."""

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/federation"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> SigninStandIn:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
