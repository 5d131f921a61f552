"""A recording reverse proxy in front of moto: counts, records and perturbs AWS calls.

moto keeps no request count and checks neither MFA codes nor durations, so tests
point ``AWS_ENDPOINT_URL`` here instead. For every request the proxy records the
action (``Action=`` of the query protocol used by STS and IAM, or the suffix of
``X-Amz-Target`` for the JSON protocol used by ECR), its parameters, the access
key that signed it and the region it was signed for. On demand it answers with throttling or another error instead
of forwarding, delays a request, or rewrites the ``expiresAt`` of ECR's
GetAuthorizationToken (moto's is in 2015).

MFA sessions: moto's GetSessionToken hands out a fixed example key its own IAM
enforcement rejects, and checks no code. For the users whose keys a test registers
(:meth:`RecordingProxy.issue_mfa_sessions`), the proxy plays STS for GetSessionToken
with a ``SerialNumber``: it refuses a missing code or one the test marked wrong
(:meth:`RecordingProxy.reject_mfa_code`) as AWS does, and otherwise hands out a
session of its own (an ``ASIA`` key id, a secret and a token, expiring after
``DurationSeconds``). A request signed with such a session must carry its token and
be signed with its secret (checked as STS checks them); the proxy records it as
signed by the session's key id, then signs it again with the user's own key and
forwards it, so moto authorises it as that user, as AWS authorises a GetSessionToken
session.

In-process: ``RecordingProxy(upstream).start()`` (the pytest fixture). As a process:
``python -m tests.tools.recording_proxy --upstream URL --port N``, controlled through
``ProxyClient(url)``, which has the same methods as ``RecordingProxy`` and talks to the
``/__proxy__/`` JSON endpoints.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import re
import secrets
import string
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CONTROL = "/__proxy__/"
# Headers that describe one hop, not the message: never copied across the proxy.
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te",
              "trailer", "upgrade", "content-length"}
SIGNER = re.compile(r"Credential=([A-Z0-9]+)/")
SIGNATURE = re.compile(r"Signature=([0-9a-f]+)")
SIGNED_HEADERS = re.compile(r"SignedHeaders=([^,\s]+)")
# The SigV4 credential scope: KEY/DATE/REGION/SERVICE/aws4_request.
SCOPE = re.compile(r"Credential=[A-Z0-9]+/\d{8}/([^/,]+)/([^/,]+)/aws4_request")


@dataclass
class Record:
    """One request as the proxy saw it."""

    action: str
    params: dict[str, Any]
    access_key_id: str | None
    json_protocol: bool
    path: str
    time: float
    status: int = 0  # what the client got back
    # What a replay needs, so tests can look for it where it must never be (a --debug log).
    signature: str = ""  # the SigV4 signature of the Authorization header
    payload_sha256: str = ""  # the hash of the body, the last line of SigV4's canonical request
    # The region and service the request was signed for (its credential scope): where the client meant
    # to send it, whatever endpoint it reached.
    region: str = ""
    service: str = ""


@dataclass
class Fault:
    """A perturbation for one action ("*" for any): an error answer and/or a delay."""

    count: int  # how many requests it still applies to
    status: int = 0  # 0: forward the request (after the delay)
    code: str = ""
    message: str = ""
    delay: float = 0.0


@dataclass
class Session:
    """An MFA session the proxy issued, and the user key it stands for."""

    secret_access_key: str
    session_token: str
    expires: float
    user_key_id: str
    user_secret: str


@dataclass
class ProxyState:
    """Everything a test can read or set; all access goes through ``lock``."""

    records: list[Record] = field(default_factory=list)
    faults: dict[str, list[Fault]] = field(default_factory=dict)
    ecr_expires_in: float | None = None
    sts_expires_in: float | None = None
    # MFA sessions: the users the proxy issues them for (key id -> secret), the sessions issued
    # (session key id -> Session) and the codes to refuse (code -> how many more times).
    mfa_users: dict[str, str] = field(default_factory=dict)
    sessions: dict[str, Session] = field(default_factory=dict)
    rejected_codes: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Set on reset so that requests sleeping in an injected delay stop waiting.
    wake: threading.Event = field(default_factory=threading.Event)


def parse_request(path: str, headers: Any, body: bytes) -> tuple[str, dict[str, Any], bool]:
    """Return (action, parameters, is_json_protocol) for an AWS request."""
    target = headers.get("X-Amz-Target")
    if target:
        try:
            params = json.loads(body or b"{}")
        except ValueError:
            params = {}
        return target.rsplit(".", 1)[-1], params, True
    query = urllib.parse.urlsplit(path).query
    form = body.decode("utf-8", "replace") if body else ""
    fields = urllib.parse.parse_qs("&".join(p for p in (query, form) if p), keep_blank_values=True)
    params = {name: values[0] for name, values in fields.items()}
    return params.pop("Action", "") or urllib.parse.urlsplit(path).path, params, False


def error_body(fault: Fault, json_protocol: bool) -> tuple[bytes, str]:
    """An error response in the shape botocore parses for the request's protocol."""
    if json_protocol:
        body = json.dumps({"__type": fault.code, "message": fault.message})
        return body.encode(), "application/x-amz-json-1.1"
    kind = "Receiver" if fault.status >= 500 else "Sender"
    xml = (f"<ErrorResponse><Error><Type>{kind}</Type><Code>{fault.code}</Code>"
           f"<Message>{fault.message}</Message></Error>"
           f"<RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>")
    return xml.encode(), "text/xml"


def rewrite_ecr_expiry(body: bytes, seconds: float) -> bytes:
    """Set every ``authorizationData[].expiresAt`` to now + ``seconds`` (epoch seconds)."""
    data = json.loads(body)
    for item in data.get("authorizationData", []):
        item["expiresAt"] = time.time() + seconds
    return json.dumps(data).encode()


def rewrite_sts_expiry(body: bytes, seconds: float) -> bytes:
    """Set a session's ``<Expiration>`` to now + ``seconds`` (STS itself refuses under 900 s)."""
    moment = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + seconds))
    return re.sub(rb"<Expiration>[^<]*</Expiration>", f"<Expiration>{moment}</Expiration>".encode(), body)


MFA_DENIED = "MultiFactorAuthentication failed with invalid MFA one time pass code. "
STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/"


def session_token_body(key_id: str, session: Session) -> bytes:
    """STS's GetSessionToken answer for ``session``."""
    moment = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(session.expires))
    return (f'<GetSessionTokenResponse xmlns="{STS_NS}"><GetSessionTokenResult><Credentials>'
            f"<AccessKeyId>{key_id}</AccessKeyId><SecretAccessKey>{session.secret_access_key}</SecretAccessKey>"
            f"<SessionToken>{session.session_token}</SessionToken><Expiration>{moment}</Expiration>"
            "</Credentials></GetSessionTokenResult><ResponseMetadata><RequestId>"
            "00000000-0000-0000-0000-000000000000</RequestId></ResponseMetadata></GetSessionTokenResponse>").encode()


def resigned_headers(method: str, url: str, headers: dict[str, str], body: bytes, session: Session,
                     region: str, service: str) -> dict[str, str]:
    """``headers`` signed again (SigV4) with the user's own key, the session token dropped."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    dropped = {"authorization", "x-amz-date", "x-amz-security-token"}
    request = AWSRequest(method=method, url=url, data=body,
                         headers={k: v for k, v in headers.items() if k.lower() not in dropped})
    SigV4Auth(Credentials(session.user_key_id, session.user_secret), service, region).add_auth(request)
    return dict(request.headers.items())


def signed_by(method: str, url: str, headers: Any, body: bytes, key_id: str, secret: str, region: str,
              service: str) -> bool:
    """Whether the request's SigV4 signature is the one ``secret`` makes (as STS checks a session's)."""
    import hmac

    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    authorization = headers.get("Authorization", "")
    names, signature = SIGNED_HEADERS.search(authorization), SIGNATURE.search(authorization)
    if not names or not signature or not headers.get("X-Amz-Date"):
        return False
    wanted = set(names.group(1).split(";"))
    request = AWSRequest(method=method, url=url, data=body,
                         headers={k: v for k, v in headers.items() if k.lower() in wanted})
    request.context["timestamp"] = headers["X-Amz-Date"]
    auth = SigV4Auth(Credentials(key_id, secret), service, region)
    expected = auth.signature(auth.string_to_sign(request, auth.canonical_request(request)), request)
    return hmac.compare_digest(expected, signature.group(1))


def _random(alphabet: str, length: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


class Handler(BaseHTTPRequestHandler):
    """Forwards to ``server.upstream`` unless a fault says otherwise; serves ``/__proxy__/``."""

    server: _Server

    def do_GET(self) -> None:
        self._handle()

    do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_GET

    def log_message(self, *args: Any) -> None:
        """Quiet: the test output is no place for an access log."""

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.path.startswith(CONTROL):
            self._control(body)
            return
        proxy = self.server.proxy
        action, params, json_protocol = parse_request(self.path, self.headers, body)
        authorization = self.headers.get("Authorization", "")
        signer, signature = SIGNER.search(authorization), SIGNATURE.search(authorization)
        scope = SCOPE.search(authorization)
        record = Record(action, params, signer.group(1) if signer else None, json_protocol,
                        urllib.parse.urlsplit(self.path).path, time.time(),
                        signature=signature.group(1) if signature else "",
                        payload_sha256=hashlib.sha256(body).hexdigest(),
                        region=scope.group(1) if scope else "", service=scope.group(2) if scope else "")
        fault = proxy._take_fault(action, record)
        if fault and fault.delay:
            proxy.state.wake.wait(fault.delay)
        if fault and fault.status:
            payload, content_type = error_body(fault, json_protocol)
            self._reply(record, fault.status, [("Content-Type", content_type),
                        ("x-amzn-ErrorType", fault.code)], payload)
            return
        headers_out = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        if record.access_key_id in proxy.state.sessions:  # signed with an MFA session the proxy issued
            answer = self._session_signed(record, headers_out, body)
            if isinstance(answer, dict):
                headers_out = answer
            else:
                self._reply(record, answer[0], [("Content-Type", "text/xml")], answer[1])
                return
        elif (action == "GetSessionToken" and params.get("SerialNumber")
              and record.access_key_id in proxy.state.mfa_users):
            status, payload = proxy._issue_session(record)
            self._reply(record, status, [("Content-Type", "text/xml")], payload)
            return
        status, headers, payload = self._forward(body, headers_out)
        expires_in = proxy.state.ecr_expires_in
        if action == "GetAuthorizationToken" and status == 200 and expires_in is not None:
            payload = rewrite_ecr_expiry(payload, expires_in)
        sts_expires_in = proxy.state.sts_expires_in
        if action in ("AssumeRole", "GetSessionToken") and status == 200 and sts_expires_in is not None:
            payload = rewrite_sts_expiry(payload, sts_expires_in)
        self._reply(record, status, headers, payload)

    def _session_signed(self, record: Record, headers: dict[str, str],
                        body: bytes) -> dict[str, str] | tuple[int, bytes]:
        """A request signed with an issued MFA session: its headers signed as the user, or an error answer."""
        session = self.server.proxy.state.sessions[record.access_key_id or ""]
        if self.headers.get("X-Amz-Security-Token") != session.session_token:
            fault = Fault(1, 403, "InvalidClientTokenId", "The security token included in the request is invalid.")
            return 403, error_body(fault, False)[0]
        if time.time() >= session.expires:
            fault = Fault(1, 400, "ExpiredToken", "The security token included in the request is expired")
            return 400, error_body(fault, False)[0]
        url = f"http://{self.headers.get('Host', '127.0.0.1')}{self.path}"
        if not signed_by(self.command, url, self.headers, body, record.access_key_id or "",
                         session.secret_access_key, record.region or "us-east-1", record.service or "sts"):
            fault = Fault(1, 403, "SignatureDoesNotMatch", "The request signature we calculated does not match "
                          "the signature you provided.")
            return 403, error_body(fault, False)[0]
        return resigned_headers(self.command, url, headers, body, session, record.region or "us-east-1",
                                record.service or "sts")

    def _forward(self, body: bytes, headers: dict[str, str]) -> tuple[int, list[tuple[str, str]], bytes]:
        upstream = urllib.parse.urlsplit(self.server.upstream)
        conn = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=300)
        try:
            # Host is kept as the client sent it: it is part of the SigV4 signature moto checks.
            conn.request(self.command, self.path, body=body, headers=headers)
            response = conn.getresponse()
            payload = response.read()
            kept = [(k, v) for k, v in response.getheaders() if k.lower() not in HOP_BY_HOP]
            return response.status, kept, payload
        finally:
            conn.close()

    def _reply(self, record: Record | None, status: int, headers: list[tuple[str, str]],
               payload: bytes) -> None:
        if record is not None:
            record.status = status
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def _control(self, body: bytes) -> None:
        """``POST /__proxy__/<method>`` with JSON keyword arguments calls that method."""
        name = urllib.parse.urlsplit(self.path).path[len(CONTROL):]
        method = getattr(self.server.proxy, name, None)
        if name not in RecordingProxy.REMOTE or method is None:
            self._reply(None, 404, [], b'{"error": "unknown control method"}')
            return
        try:
            result = method(**json.loads(body or b"{}"))
        except (TypeError, ValueError) as exc:
            self._reply(None, 400, [], json.dumps({"error": str(exc)}).encode())
            return
        if isinstance(result, list):
            result = [asdict(r) if isinstance(r, Record) else r for r in result]
        self._reply(None, 200, [("Content-Type", "application/json")],
                    json.dumps({"result": result}).encode())


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    upstream: str
    proxy: RecordingProxy


class RecordingProxy:
    """The proxy and its state, run in a background thread of the current process."""

    # The methods that /__proxy__/ exposes to other processes (and ProxyClient mirrors).
    REMOTE = ("reset", "requests", "count", "params", "throttle", "fail", "delay",
              "set_ecr_expiry", "set_sts_expiry", "issue_mfa_sessions", "reject_mfa_code")

    def __init__(self, upstream: str, *, port: int = 0) -> None:
        self.state = ProxyState()
        self._server = _Server(("127.0.0.1", port), Handler)
        self._server.upstream = upstream.rstrip("/")
        self._server.proxy = self
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread: threading.Thread | None = None

    def start(self) -> RecordingProxy:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                        name="recording-proxy")
        self._thread.start()
        return self

    def stop(self) -> None:
        self.state.wake.set()
        self._server.shutdown()
        self._server.server_close()

    def serve_forever(self) -> None:
        self._server.serve_forever()

    # -- faults ---------------------------------------------------------------

    def _take_fault(self, action: str, record: Record) -> Fault | None:
        """Record the request and consume the first fault that applies to it."""
        with self.state.lock:
            self.state.records.append(record)
            for key in (action, "*"):
                queue = self.state.faults.get(key, [])
                if queue:
                    fault = queue[0]
                    fault.count -= 1
                    if fault.count <= 0:
                        queue.pop(0)
                    return fault
        return None

    def _add_fault(self, action: str, fault: Fault) -> None:
        with self.state.lock:
            self.state.faults.setdefault(action, []).append(fault)

    def throttle(self, action: str, count: int = 1) -> None:
        """Answer the next ``count`` calls of ``action`` with STS's Throttling error."""
        self.fail(action, 400, "Throttling", "Rate exceeded", count=count)

    def fail(self, action: str, status: int, code: str, message: str, count: int = 1) -> None:
        """Answer the next ``count`` calls of ``action`` with this error, not forwarding them."""
        self._add_fault(action, Fault(count, status, code, message))

    def delay(self, action: str, seconds: float, count: int = 1) -> None:
        """Hold the next ``count`` calls of ``action`` for ``seconds`` before forwarding."""
        self._add_fault(action, Fault(count, delay=seconds))

    def set_ecr_expiry(self, seconds: float | None) -> None:
        """Rewrite GetAuthorizationToken's ``expiresAt`` to now + seconds (None: leave it)."""
        with self.state.lock:
            self.state.ecr_expires_in = seconds

    def set_sts_expiry(self, seconds: float | None) -> None:
        """Rewrite the ``Expiration`` of AssumeRole and GetSessionToken sessions to now + seconds (None: leave it)."""
        with self.state.lock:
            self.state.sts_expires_in = seconds

    # -- MFA sessions ---------------------------------------------------------

    def issue_mfa_sessions(self, access_key_id: str, secret_access_key: str) -> None:
        """Answer GetSessionToken with a SerialNumber signed by this user key with a session of the proxy's own.

        Kept across :meth:`reset` (the users of the populated world are registered once).
        """
        with self.state.lock:
            self.state.mfa_users[access_key_id] = secret_access_key

    def reject_mfa_code(self, code: str, count: int = 1) -> None:
        """Refuse the next ``count`` GetSessionToken calls with ``code`` as AWS refuses a wrong code."""
        with self.state.lock:
            self.state.rejected_codes[code] = count

    def _issue_session(self, record: Record) -> tuple[int, bytes]:
        code = str(record.params.get("TokenCode", ""))
        with self.state.lock:
            if not code or self.state.rejected_codes.get(code, 0) > 0:
                if code:
                    self.state.rejected_codes[code] -= 1
                return 403, error_body(Fault(1, 403, "AccessDenied", MFA_DENIED), False)[0]
            duration = int(record.params.get("DurationSeconds") or 43200)
            if self.state.sts_expires_in is not None:
                duration = int(self.state.sts_expires_in)
            key_id = "ASIA" + _random(string.ascii_uppercase + string.digits, 16)
            session = Session(_random(string.ascii_letters + string.digits, 40),
                              _random(string.ascii_letters + string.digits, 120), time.time() + duration,
                              record.access_key_id or "", self.state.mfa_users[record.access_key_id or ""])
            self.state.sessions[key_id] = session
        return 200, session_token_body(key_id, session)

    def reset(self) -> None:
        """Forget records and faults, and release requests held in a delay."""
        with self.state.lock:
            self.state.wake.set()
            self.state.wake = threading.Event()
            self.state.records.clear()
            self.state.faults.clear()
            self.state.ecr_expires_in = None
            self.state.sts_expires_in = None
            self.state.sessions.clear()
            self.state.rejected_codes.clear()

    # -- reading --------------------------------------------------------------

    def requests(self, action: str | None = None) -> list[Record]:
        """Every recorded request, oldest first, or only those of ``action``."""
        with self.state.lock:
            return [r for r in self.state.records if action is None or r.action == action]

    def count(self, action: str) -> int:
        """How many requests of ``action`` reached the proxy (faulted ones included)."""
        return len(self.requests(action))

    def params(self, action: str) -> list[dict[str, Any]]:
        """The parameters of each request of ``action``, oldest first."""
        return [r.params for r in self.requests(action)]


class ProxyClient:
    """``RecordingProxy``'s methods, for a proxy running in another process."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

    def _call(self, name: str, **kwargs: Any) -> Any:
        request = urllib.request.Request(f"{self.url}{CONTROL}{name}", method="POST",
                                         data=json.dumps(kwargs).encode(),
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())["result"]

    def requests(self, action: str | None = None) -> list[Record]:
        return [Record(**r) for r in self._call("requests", action=action)]

    def __getattr__(self, name: str) -> Any:
        if name not in RecordingProxy.REMOTE:
            raise AttributeError(name)
        return lambda *args, **kwargs: self._call(name, **_named(name, args, kwargs))


def _named(name: str, args: tuple, kwargs: dict[str, Any]) -> dict[str, Any]:
    """Turn positional arguments into keywords, using RecordingProxy's signature."""
    import inspect

    bound = inspect.signature(getattr(RecordingProxy, name)).bind(None, *args, **kwargs)
    return {k: v for k, v in bound.arguments.items() if k != "self"}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upstream", required=True, help="moto's URL, e.g. http://127.0.0.1:5000")
    parser.add_argument("--port", type=int, default=0, help="loopback port (default: a free one)")
    args = parser.parse_args(argv)
    proxy = RecordingProxy(args.upstream, port=args.port)
    print(proxy.url, flush=True)  # the caller learns the port when it asked for any
    try:
        proxy.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
