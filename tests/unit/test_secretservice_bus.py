"""The lean reader's D-Bus exchange, against a fake session bus in this process.

The fake (a thread on a Unix socket) is a message bus and a Secret Service in one:
it answers the authentication, Hello and the five calls with jeepney's own
messages, encrypts the secret with ``cryptography`` for the session the reader
opens, and records what it was sent and when. That shows what the real bus
cannot: the order calls go out in, which of them wait for an answer, that
GetSecret is never sent when a check fails, replies taken out of order, a
refused authentication, a bus that does not answer and a reader that hangs up
with answers still to come. The exchange with the real gnome-keyring is
tests/integration/test_secretservice_real.py.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from jeepney import HeaderFields, Message, MessageType, Parser, new_error, new_method_return, new_signal
from jeepney.bus_messages import message_bus

from assumer.store import dh, secretservice
from assumer.store.secretservice import Fallback

COLLECTION = "/org/freedesktop/secrets/collection/login"
ITEM = COLLECTION + "/1"
SESSION = "/org/freedesktop/secrets/session/s1"
SECRET = "päss—ワード"

# A method's answer: (signature, body) for a return, an error name, NO_REPLY or HANG_UP.
Answer = tuple[str, tuple[Any, ...]] | str
NO_REPLY, HANG_UP = "no reply", "hang up"


class FakeBus:
    """One connection's worth of session bus and Secret Service."""

    def __init__(self, path: Path, *, auth_reply: bytes = b"OK 0123456789abcdef0123456789abcdef\r\n") -> None:
        self.address = f"unix:path={path}"
        self.auth_reply = auth_reply
        self.auth = b""  # what the client sent before its messages
        self.calls: list[str] = []  # members, in the order they arrived
        self.paths: dict[str, list[str]] = {}  # member: the object paths it was called on
        self.arrived: dict[str, float] = {}  # member: when the read that completed it returned
        self.answered: dict[str, float] = {}  # member: when its reply was sent
        self.hung_up = 0.0  # when the client's end-of-file was read
        self.delay: dict[str, float] = {}  # member: seconds its reply is sent late, from a timer
        self.answers: dict[str, Callable[[Message], Answer]] = {
            "ReadAlias": lambda msg: ("o", (COLLECTION if msg.body == ("default",) else "/",)),
            "Get": lambda msg: ("v", (("b", False),)),
            "SearchItems": lambda msg: ("ao", ([ITEM],)),
            "OpenSession": self.open_session,
            "GetSecret": self.get_secret,
        }
        self.held: list[bytes] = []  # replies kept back, sent in reverse after the last of `hold`
        self.hold: set[str] = set()
        self.server_public = 0  # 0: a real public key; else this one
        self.key = b""
        self._listener = socket.socket(socket.AF_UNIX)
        self._listener.bind(str(path))
        self._listener.listen(1)
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._serial = 0
        self._timers: list[threading.Timer] = []

    def __enter__(self) -> FakeBus:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._listener.close()
        self._thread.join(timeout=5)
        for timer in self._timers:
            timer.join(timeout=5)

    def seen(self) -> list[str]:
        """The members called, once the client has hung up and everything it sent is read."""
        self._thread.join(timeout=5)
        assert not self._thread.is_alive()
        return self.calls

    def open_session(self, msg: Message) -> Answer:
        algorithm, (_signature, client_public) = msg.body
        assert algorithm == "dh-ietf1024-sha256-aes128-cbc-pkcs7"
        private = int.from_bytes(os.urandom(32), "big")
        public = self.server_public or pow(2, private, dh.PRIME)
        shared = pow(int.from_bytes(bytes(client_public), "big"), private, dh.PRIME)
        # HKDF-SHA256, no salt, no info (RFC 5869), from the standard library: the reader's oracle.
        prk = hmac.new(b"\0" * 32, shared.to_bytes(128, "big"), hashlib.sha256).digest()
        self.key = hmac.new(prk, b"\x01", hashlib.sha256).digest()[:16]
        return ("vo", (("ay", public.to_bytes(128, "big")), SESSION))

    def get_secret(self, msg: Message) -> Answer:
        assert msg.body == (SESSION,)
        iv = os.urandom(16)
        padder = padding.PKCS7(128).padder()
        padded = padder.update(SECRET.encode()) + padder.finalize()
        encryptor = Cipher(algorithms.AES(self.key), modes.CBC(iv)).encryptor()
        return ("(oayays)", ((SESSION, iv, encryptor.update(padded) + encryptor.finalize(), "text/plain"),))

    def _send(self, conn: socket.socket, message: Message) -> None:
        self._serial += 1
        data = message.serialise(serial=self._serial)
        if message.header.message_type != MessageType.signal and self.hold:
            self.held.append(data)
            return
        conn.sendall(data)

    def _serve(self) -> None:
        try:
            conn, _ = self._listener.accept()
            with conn:
                self._converse(conn)
        except OSError:  # the listener closed, or the client hung up before all was answered
            return

    def _converse(self, conn: socket.socket) -> None:
        received = b""
        while b"BEGIN\r\n" not in received:
            data = conn.recv(4096)
            if not data:
                self.hung_up = time.monotonic()
                return
            received += data
            if b"\r\n" in received and self.auth_reply:
                conn.sendall(self.auth_reply)  # the server's one line, once AUTH has arrived
                self.auth_reply = b""
        self.auth, _, rest = received.partition(b"BEGIN\r\n")
        self.auth += b"BEGIN\r\n"
        parser = Parser()
        parser.add_data(rest)
        arrived = time.monotonic()
        while True:
            for msg in iter(parser.get_next_message, None):
                self.arrived[msg.header.fields[HeaderFields.member]] = arrived
                if not self._answer(conn, msg):
                    return
            data = conn.recv(4096)
            arrived = time.monotonic()
            if not data:
                self.hung_up = arrived
                return
            parser.add_data(data)

    def _answer(self, conn: socket.socket, msg: Message) -> bool:
        """Answer ``msg``; False to hang up."""
        member = msg.header.fields[HeaderFields.member]
        self.calls.append(member)
        self.paths.setdefault(member, []).append(msg.header.fields[HeaderFields.path])
        if member == "Hello":
            self._send(conn, new_method_return(msg, "s", (":1.42",)))
            self._send(conn, new_signal(message_bus, "NameAcquired", "s", (":1.42",)))
            return True
        answer = self.answers[member](msg)
        if answer == HANG_UP:
            return False
        if answer == NO_REPLY:
            return True
        if isinstance(answer, str):
            reply = new_error(msg, answer, "s", ("refused",))
        else:
            reply = new_method_return(msg, *answer)
        if member in self.delay:
            self._serial += 1
            timer = threading.Timer(self.delay[member], self._send_late, (conn, member, reply.serialise(self._serial)))
            self._timers.append(timer)
            timer.start()
            return True
        self._send(conn, reply)
        self.answered[member] = time.monotonic()
        self.hold.discard(member)
        if self.held and not self.hold:
            for data in reversed(self.held):
                conn.sendall(data)
            self.held.clear()
        return True

    def _send_late(self, conn: socket.socket, member: str, data: bytes) -> None:
        self.answered[member] = time.monotonic()
        with contextlib.suppress(OSError):  # the client may have gone: what the test looks at
            conn.sendall(data)


@pytest.fixture
def bus(tmp_path: Path) -> Iterator[FakeBus]:
    with FakeBus(tmp_path / "bus") as fake:
        yield fake


def lookup(fake: FakeBus) -> str | None:
    return lookup_at(fake.address)


def lookup_at(address: str) -> str | None:
    with secretservice.Reader(address, miss_is_final=True) as reader:
        return reader._lookup("assumer", "key")


def test_reads_the_secret_with_auth_hello_and_calls_pipelined(bus: FakeBus) -> None:
    assert lookup(bus) == SECRET
    assert bus.seen() == ["Hello", "ReadAlias", "OpenSession", "Get", "SearchItems", "GetSecret"]
    # sd-bus's pipelined authentication: EXTERNAL with our uid, then BEGIN without waiting for OK.
    assert bus.auth == b"\0AUTH EXTERNAL " + str(os.geteuid()).encode().hex().encode() + b"\r\nBEGIN\r\n"


def test_the_session_is_opened_only_after_the_service_has_answered(bus: FakeBus) -> None:
    """gnome-keyring aborts on an OpenSession it handles before it has registered the caller.

    Its first answer shows that it has; so OpenSession leaves after it, not with it.
    """
    bus.delay["ReadAlias"] = 0.2
    assert lookup(bus) == SECRET
    assert bus.arrived["OpenSession"] > bus.answered["ReadAlias"]


def test_the_collection_is_addressed_by_its_own_path_not_the_alias(bus: FakeBus) -> None:
    """gnome-keyring rewrites /aliases/default on a thread that races its main loop: never sent there."""
    assert lookup(bus) == SECRET
    assert bus.paths["ReadAlias"] == ["/org/freedesktop/secrets"]
    assert bus.paths["Get"] == bus.paths["SearchItems"] == [COLLECTION]
    assert not [path for paths in bus.paths.values() for path in paths if "/aliases/" in path]


def test_a_first_answer_of_no_collection_is_asked_again(bus: FakeBus) -> None:
    """What gnome-keyring answers a ReadAlias handled before it registered the caller."""
    answers = iter(["/", COLLECTION])
    bus.answers["ReadAlias"] = lambda msg: ("o", (next(answers),))
    assert lookup(bus) == SECRET
    assert bus.seen().count("ReadAlias") == 2


def test_no_default_collection_falls_back_before_any_session_is_opened(bus: FakeBus) -> None:
    bus.answers["ReadAlias"] = lambda msg: ("o", ("/",))
    with pytest.raises(Fallback, match="no default collection"):
        lookup(bus)
    assert bus.seen() == ["Hello", "ReadAlias", "ReadAlias"]


@pytest.mark.parametrize("outcome", ["no item", "locked", "unused"])
def test_the_reader_hangs_up_only_once_every_call_is_answered(bus: FakeBus, outcome: str) -> None:
    """A miss, a locked collection and a caller that declined leave the session's answer in flight."""
    bus.delay["OpenSession"] = 0.3
    if outcome == "no item":
        bus.answers["SearchItems"] = lambda msg: ("ao", ([],))
        assert lookup(bus) is None
    elif outcome == "locked":
        bus.answers["Get"] = lambda msg: ("v", (("b", True),))
        with pytest.raises(Fallback, match="locked"):
            lookup(bus)
    else:
        secretservice.Reader(bus.address, miss_is_final=True).close()
    bus.seen()
    assert bus.hung_up > bus.answered["OpenSession"]


def test_replies_in_another_order_are_matched_by_serial(bus: FakeBus) -> None:
    def open_session(msg: Message) -> Answer:
        bus.hold = {"OpenSession", "Get", "SearchItems"}  # their replies then go out newest first
        return bus.open_session(msg)

    bus.answers["OpenSession"] = open_session
    assert lookup(bus) == SECRET


def test_a_locked_collection_falls_back_and_the_secret_is_never_asked_for(bus: FakeBus) -> None:
    bus.answers["Get"] = lambda msg: ("v", (("b", True),))
    with pytest.raises(Fallback, match="locked"):
        lookup(bus)
    assert "GetSecret" not in bus.seen()


def test_no_item_is_none_and_the_secret_is_never_asked_for(bus: FakeBus) -> None:
    bus.answers["SearchItems"] = lambda msg: ("ao", ([],))
    assert lookup(bus) is None
    assert "GetSecret" not in bus.seen()


def test_the_first_item_is_read_as_keyring_reads_it(bus: FakeBus) -> None:
    bus.answers["SearchItems"] = lambda msg: ("ao", ([ITEM, ITEM + "0"],))
    asked: list[str] = []

    def get_secret(msg: Message) -> Answer:
        asked.append(msg.header.fields[HeaderFields.path])
        return bus.get_secret(msg)

    bus.answers["GetSecret"] = get_secret
    assert lookup(bus) == SECRET
    assert asked == [ITEM]


def test_the_search_is_for_service_and_username_only(bus: FakeBus) -> None:
    queries: list[object] = []

    def search(msg: Message) -> Answer:
        queries.append(msg.body)
        return ("ao", ([ITEM],))

    bus.answers["SearchItems"] = search
    lookup(bus)
    assert queries == [({"username": "key", "service": "assumer"},)]


@pytest.mark.parametrize("failing", ["ReadAlias", "Get", "SearchItems", "OpenSession", "GetSecret"])
def test_an_error_reply_falls_back_with_its_name(bus: FakeBus, failing: str) -> None:
    bus.answers[failing] = lambda msg: "org.freedesktop.Secret.Error.IsLocked"
    with pytest.raises(Fallback, match="IsLocked"):
        lookup(bus)


def test_errors_are_reported_in_keyrings_order(bus: FakeBus) -> None:
    # Both fail; keyring would have stopped at the first, so the reason is the first's.
    bus.answers["Get"] = lambda msg: "org.freedesktop.DBus.Error.UnknownObject"
    bus.answers["SearchItems"] = lambda msg: "org.freedesktop.DBus.Error.Failed"
    with pytest.raises(Fallback, match="UnknownObject"):
        lookup(bus)


@pytest.mark.parametrize("public", [1, dh.PRIME - 1], ids=["1", "p-1"])
def test_an_unusable_server_key_falls_back_before_the_secret_is_asked_for(bus: FakeBus, public: int) -> None:
    bus.server_public = public
    with pytest.raises(Fallback, match="unusable public key"):
        lookup(bus)
    assert "GetSecret" not in bus.seen()


def test_a_secret_that_does_not_decrypt_falls_back(bus: FakeBus) -> None:
    def wrong_key(msg: Message) -> Answer:
        bus.key = os.urandom(16)
        return bus.get_secret(msg)

    bus.answers["GetSecret"] = wrong_key
    with pytest.raises(Fallback, match="did not decrypt"):
        lookup(bus)


def test_a_refused_authentication_falls_back(tmp_path: Path) -> None:
    with FakeBus(tmp_path / "bus", auth_reply=b"REJECTED EXTERNAL\r\n") as fake, pytest.raises(
        Fallback, match="refused authentication"
    ):
        lookup(fake)


def test_a_bus_that_does_not_answer_times_out(bus: FakeBus, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(secretservice, "_CALL_TIMEOUT", 1.0)
    bus.answers["Get"] = lambda msg: NO_REPLY
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        lookup(bus)
    # Once: hanging up does not wait out the limit a second time for the answer that never came.
    assert time.monotonic() - started < 1.9


def test_a_bus_that_closes_the_connection_is_an_error(bus: FakeBus) -> None:
    bus.answers["Get"] = lambda msg: HANG_UP
    with pytest.raises(ConnectionError):  # reset while reading, or a broken pipe while writing
        lookup(bus)


def test_work_between_opening_and_reading_does_not_count_against_the_authentication(
    bus: FakeBus, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cache hit opens the reader, then computes its key: the bus's answers wait on the socket meanwhile."""
    monkeypatch.setattr(secretservice, "_AUTH_TIMEOUT", 0.1)
    with secretservice.Reader(bus.address, miss_is_final=True) as reader:
        time.sleep(0.3)  # longer than the authentication may take, shorter than a call's timeout
        assert reader.get_password("assumer", "key") == SECRET


def test_a_bus_that_never_authenticates_times_out_after_the_authentication_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(secretservice, "_AUTH_TIMEOUT", 0.2)
    with socket.socket(socket.AF_UNIX) as silent:  # listens, never answers (the backlog accepts the client)
        silent.bind(str(tmp_path / "bus"))
        silent.listen(1)
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            lookup_at(f"unix:path={tmp_path / 'bus'}")
        assert time.monotonic() - started < 5  # the authentication's limit, not a call's 30 s
