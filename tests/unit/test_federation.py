"""assumer.core.federation: partitions, endpoints, destinations and the getSigninToken exchange."""

from __future__ import annotations

import io
import json
import urllib.error
import urllib.parse

import pytest

from assumer.cli.login_commands import check_browser
from assumer.core import federation
from assumer.credentials import Credentials
from assumer.errors import AuthError, ConfigError, NetworkError

SESSION = Credentials("ASIAEXAMPLEEXAMPLE01", "secret/key+value", "token//value==")


@pytest.mark.parametrize("role_arn, region, partition", [
    ("arn:aws:iam::123456789012:role/R", "cn-north-1", "aws"),  # the role's ARN wins
    ("arn:aws-cn:iam::123456789012:role/R", None, "aws-cn"),
    (None, "cn-northwest-1", "aws-cn"), (None, "us-gov-west-1", "aws-us-gov"), (None, "us-iso-east-1", "aws-iso"),
    (None, "us-isob-east-1", "aws-iso-b"), (None, "eu-west-1", "aws"), (None, None, "aws"),
])
def test_partition_of(role_arn: str | None, region: str | None, partition: str) -> None:
    assert federation.partition_of(role_arn=role_arn, region=region) == partition


@pytest.mark.parametrize("partition, host", [
    ("aws", "signin.aws.amazon.com"), ("aws-cn", "signin.amazonaws.cn"), ("aws-us-gov", "signin.amazonaws-us-gov.com"),
])
def test_the_partition_picks_the_sign_in_host(partition: str, host: str) -> None:
    assert federation.federation_endpoint(partition, {}) == f"https://{host}/federation"


def test_a_partition_without_an_endpoint_names_the_variable() -> None:
    with pytest.raises(ConfigError, match="ASSUMER_FEDERATION_URL"):
        federation.federation_endpoint("aws-iso", {})


def test_the_variable_overrides_and_must_be_a_url() -> None:
    assert federation.federation_endpoint("aws-iso", {"ASSUMER_FEDERATION_URL": "https://x.example/f"}) == \
        "https://x.example/f"
    with pytest.raises(ConfigError, match="is not a URL"):
        federation.federation_endpoint("aws", {"ASSUMER_FEDERATION_URL": "signin.example"})
    # The session's secret travels in that request: plain http only to this machine.
    with pytest.raises(ConfigError, match="plain http to another host"):
        federation.federation_endpoint("aws", {"ASSUMER_FEDERATION_URL": "http://signin.example/federation"})
    assert federation.federation_endpoint("aws", {"ASSUMER_FEDERATION_URL": "http://127.0.0.1:8/f"}) == \
        "http://127.0.0.1:8/f"


@pytest.mark.parametrize("partition, region, destination, url", [
    ("aws", "eu-west-1", None, "https://console.aws.amazon.com/console/home?region=eu-west-1"),
    ("aws", None, None, "https://console.aws.amazon.com/console/home"),
    ("aws", "eu-west-1", "s3", "https://console.aws.amazon.com/s3/home?region=eu-west-1"),
    ("aws", "eu-west-1", "ec2/home#Instances", "https://console.aws.amazon.com/ec2/home?region=eu-west-1#Instances"),
    ("aws", "eu-west-1", "cloudwatch#alarms", "https://console.aws.amazon.com/cloudwatch/home?region=eu-west-1#alarms"),
    ("aws", "eu-west-1", "ecr/repositories?region=us-east-1",
     "https://console.aws.amazon.com/ecr/repositories?region=us-east-1"),
    ("aws-cn", "cn-north-1", None, "https://console.amazonaws.cn/console/home?region=cn-north-1"),
    ("aws", "eu-west-1", "https://example.com/x", "https://example.com/x"),
])
def test_destination(partition: str, region: str | None, destination: str | None, url: str) -> None:
    assert federation.destination_url(partition, region, destination) == url


@pytest.mark.parametrize("session_name, name", [
    ("assumer-alice", "assumer-alice"), ("assumer-" + "x" * 60, ("assumer-" + "x" * 60)[:32]), ("a", "assumer"),
    ("assumer-a b", "assumer-a-b"),
])
def test_federated_user_name_follows_sts_rules(session_name: str, name: str) -> None:
    assert federation.federated_user_name(session_name) == name


class Recorder:
    """A urlopen stand-in: records the URL, answers ``body`` or raises ``error``."""

    def __init__(self, body: bytes = b'{"SigninToken": "tok"}', error: Exception | None = None) -> None:
        self.body, self.error, self.urls = body, error, []

    def __call__(self, url: str, timeout: float) -> io.BytesIO:
        self.urls.append(url)
        if self.error:
            raise self.error
        return io.BytesIO(self.body)


def test_get_signin_token_sends_the_session_as_json() -> None:
    opener = Recorder()
    token = federation.signin_token(SESSION, endpoint="https://s/federation", session_duration=3600, timeout=1,
                                    opener=opener)
    assert token == "tok"
    [url] = opener.urls
    params = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
    assert params["Action"] == "getSigninToken" and params["SessionDuration"] == "3600"
    assert json.loads(params["Session"]) == {"sessionId": SESSION.access_key_id,
                                             "sessionKey": SESSION.secret_access_key,
                                             "sessionToken": SESSION.session_token}


def test_no_session_duration_when_none_is_allowed() -> None:
    opener = Recorder()
    federation.signin_token(SESSION, endpoint="https://s/federation", session_duration=None, timeout=1, opener=opener)
    assert "SessionDuration" not in opener.urls[0]


@pytest.mark.parametrize("seconds", [899, 43201])
def test_console_session_bounds(seconds: int) -> None:
    with pytest.raises(ConfigError, match=r"900\.\.43200"):
        federation.signin_token(SESSION, endpoint="https://s/f", session_duration=seconds, timeout=1, opener=Recorder())


def test_long_term_keys_never_reach_the_endpoint() -> None:
    opener = Recorder()
    with pytest.raises(ConfigError):
        federation.signin_token(Credentials("AKIA", "secret"), endpoint="https://s/f", session_duration=None,
                                timeout=1, opener=opener)
    assert opener.urls == []


@pytest.mark.parametrize("error, kind", [
    (urllib.error.HTTPError("https://s/f", 400, "Bad Request", {}, None), AuthError),
    (urllib.error.HTTPError("https://s/f", 503, "Unavailable", {}, None), NetworkError),
    (urllib.error.URLError("connection refused"), NetworkError),
    (TimeoutError("timed out"), NetworkError),
])
def test_endpoint_failures_are_one_line_errors(error: Exception, kind: type) -> None:
    with pytest.raises(kind):
        federation.signin_token(SESSION, endpoint="https://s/f", session_duration=None, timeout=1,
                                opener=Recorder(error=error))


@pytest.mark.parametrize("body", [b"not json", b"{}", b'{"SigninToken": ""}', b"[]"])
def test_an_answer_without_a_token_is_refused(body: bytes) -> None:
    with pytest.raises(AuthError):
        federation.signin_token(SESSION, endpoint="https://s/f", session_duration=None, timeout=1,
                                opener=Recorder(body=body))


def test_login_url() -> None:
    url = federation.login_url("https://s/federation", "tok", destination="https://console.aws.amazon.com/")
    assert dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query)) == {
        "Action": "login", "Issuer": "assumer", "Destination": "https://console.aws.amazon.com/", "SigninToken": "tok"}


@pytest.mark.parametrize("environ, platform, ok", [
    ({}, "linux", False), ({"DISPLAY": ":0"}, "linux", True), ({"WAYLAND_DISPLAY": "w"}, "linux", True),
    ({"BROWSER": "firefox"}, "linux", True), ({}, "darwin", True), ({}, "win32", True),
])
def test_a_browser_is_started_only_where_one_can_show_a_page(environ: dict[str, str], platform: str,
                                                            ok: bool) -> None:
    if ok:
        check_browser(environ, platform)
    else:
        with pytest.raises(ConfigError, match="--print"):
            check_browser(environ, platform)
