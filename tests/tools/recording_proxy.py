"""A recording reverse proxy in front of moto: counts, records and perturbs AWS calls.

moto keeps no request count and checks neither MFA codes nor durations, so tests
point ``AWS_ENDPOINT_URL`` here instead. For every request the proxy records the
action (``Action=`` of the query protocol used by STS and IAM, or the suffix of
``X-Amz-Target`` for the JSON protocol used by ECR), its parameters, the access
key that signed it and the region it was signed for. On demand it answers with throttling or another error instead
of forwarding, delays a request, or rewrites the ``expiresAt`` of ECR's
GetAuthorizationToken (moto's is in 2015).

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
class ProxyState:
    """Everything a test can read or set; all access goes through ``lock``."""

    records: list[Record] = field(default_factory=list)
    faults: dict[str, list[Fault]] = field(default_factory=dict)
    ecr_expires_in: float | None = None
    sts_expires_in: float | None = None
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
        status, headers, payload = self._forward(body)
        expires_in = proxy.state.ecr_expires_in
        if action == "GetAuthorizationToken" and status == 200 and expires_in is not None:
            payload = rewrite_ecr_expiry(payload, expires_in)
        sts_expires_in = proxy.state.sts_expires_in
        if action in ("AssumeRole", "GetSessionToken") and status == 200 and sts_expires_in is not None:
            payload = rewrite_sts_expiry(payload, sts_expires_in)
        self._reply(record, status, headers, payload)

    def _forward(self, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        upstream = urllib.parse.urlsplit(self.server.upstream)
        conn = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=300)
        try:
            # Host is kept as the client sent it: it is part of the SigV4 signature moto checks.
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
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
              "set_ecr_expiry", "set_sts_expiry")

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

    def reset(self) -> None:
        """Forget records and faults, and release requests held in a delay."""
        with self.state.lock:
            self.state.wake.set()
            self.state.wake = threading.Event()
            self.state.records.clear()
            self.state.faults.clear()
            self.state.ecr_expires_in = None
            self.state.sts_expires_in = None

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
