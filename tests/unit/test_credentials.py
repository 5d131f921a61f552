"""The Credentials value object: round trips, expiry maths, repr hygiene."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from assumer.credentials import Credentials, parse_timestamp

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


def test_json_round_trip() -> None:
    creds = Credentials("AKID", "secret", "token", NOW)
    assert Credentials.from_json(creds.to_json()) == creds


@pytest.mark.parametrize("text", ["", "[]", "{}", '{"AccessKeyId": "A"}', "not json",
                                  '{"AccessKeyId":1,"SecretAccessKey":"s"}'])
def test_malformed_json_is_a_value_error(text: str) -> None:
    with pytest.raises(ValueError):
        Credentials.from_json(text)


def test_freshness_uses_the_minimum_ttl() -> None:
    creds = Credentials("A", "s", "t", NOW + timedelta(seconds=901))
    assert creds.is_fresh(NOW, 900)
    assert not creds.is_fresh(NOW + timedelta(seconds=2), 900)
    assert Credentials("A", "s").is_fresh(NOW, 10**9)


def test_timestamps_with_offsets_and_z() -> None:
    assert parse_timestamp("2026-01-01T09:00:00+09:00") == NOW
    assert parse_timestamp("2026-01-01T00:00:00Z") == NOW


def test_repr_hides_secrets() -> None:
    text = repr(Credentials("AKID", "very-secret", "very-token", NOW))
    assert "very-secret" not in text and "very-token" not in text


def test_renewal_rule_serves_a_short_session_for_half_its_lifetime() -> None:
    """Issue 10: min(ASSUMER_MIN_TTL, lifetime / 2); a 900 s session is reused for 450 s, not never."""
    creds = Credentials("A", "s", "t", NOW + timedelta(seconds=900), obtained=NOW)
    assert creds.lifetime() == 900
    assert creds.is_fresh(NOW, 900)
    assert creds.is_fresh(NOW + timedelta(seconds=450), 900)
    assert not creds.is_fresh(NOW + timedelta(seconds=451), 900)
    # A long session keeps the minimum: renewed once fewer than 900 s are left.
    long = Credentials("A", "s", "t", NOW + timedelta(hours=1), obtained=NOW)
    assert long.is_fresh(NOW + timedelta(seconds=2700), 900)
    assert not long.is_fresh(NOW + timedelta(seconds=2701), 900)


def test_obtained_is_kept_in_the_cache_entry_but_not_in_the_aws_mapping() -> None:
    creds = Credentials("AKID", "secret", "token", NOW + timedelta(hours=1), obtained=NOW)
    assert Credentials.from_json(creds.to_json()) == creds
    assert "Obtained" not in creds.to_mapping()  # credential_process output never grows a field
    assert Credentials.from_json(creds._replace(obtained=None).to_json()).obtained is None
    with pytest.raises(ValueError):
        Credentials.from_json('{"AccessKeyId":"A","SecretAccessKey":"s","Obtained":5}')
