"""The picker's pure parts: fuzzy ranking, key splitting, what a key does, what is drawn."""

from __future__ import annotations

import pytest

from assumer.cli.picker import Choice, Screen, fuzzy_score, ranked, split_keys

PROFILES = [Choice("prod-admin", "Admin @ 111111111111"), Choice("prod-readonly", "ReadOnly @ 111111111111"),
            Choice("staging-admin", "Admin @ 222222222222"), Choice("dev", "keys"), Choice("r"), Choice("r2")]


def names(choices: list[Choice]) -> list[str]:
    return [choice.name for choice in choices]


@pytest.mark.parametrize("query, expected", [
    ("", ["prod-admin", "prod-readonly", "staging-admin", "dev", "r", "r2"]),  # config order
    ("pa", ["prod-admin"]),  # p...a at a word start; prod-readonly has an "a" too, further in
    ("admin", ["prod-admin", "staging-admin"]),
    ("sa", ["staging-admin"]),
    ("r", ["r", "r2"]),  # exact and shorter first
    ("PROD", ["prod-admin", "prod-readonly"]),  # case-insensitive
    ("xyz", []),
    ("111", []),  # the detail is shown, not searched
])
def test_ranking(query: str, expected: list[str]) -> None:
    assert names(ranked(PROFILES, query))[:len(expected)] == expected
    if not expected:
        assert ranked(PROFILES, query) == []


def test_a_subsequence_matches_and_a_substring_scores_higher() -> None:
    scattered, contiguous = fuzzy_score("pad", "prod-admin"), fuzzy_score("adm", "prod-admin")
    assert scattered is not None and contiguous is not None and contiguous > scattered
    assert fuzzy_score("nimda", "prod-admin") is None  # order matters


@pytest.mark.parametrize("data, keys", [
    (b"r\r", [b"r", b"\r"]),
    (b"\x1b[B\r", [b"\x1b[B", b"\r"]),
    (b"\x1bOA", [b"\x1bOA"]),
    (b"\x1b", [b"\x1b"]),
    (b"\x1b[1;5A", [b"\x1b[1;5A"]),
    ("é\x7f".encode(), ["é".encode(), b"\x7f"]),
])
def test_split_keys(data: bytes, keys: list[bytes]) -> None:
    assert split_keys(data) == keys


def test_keys_move_filter_erase_and_pick() -> None:
    screen = Screen(PROFILES, "profile> ")
    assert screen.key(b"\x1b[B") is None and screen.key(b"\x1b[B") is None
    assert screen.key(b"\x1b[A") is None
    assert screen.key(b"\r") == "prod-readonly"
    for key in (b"s", b"t", b"x"):
        screen.key(key)
    assert screen.matches == [] and screen.key(b"\r") is None  # Enter on nothing picks nothing
    screen.key(b"\x7f")
    assert screen.query == "st" and names(screen.matches) == ["staging-admin"]
    screen.key(b"\x15")
    assert screen.query == "" and len(screen.matches) == len(PROFILES)
    screen.key(b"\x1b[A")  # up at the top stays at the top
    assert screen.selected == 0


@pytest.mark.parametrize("key", [b"\x1b", b"\x03", b"\x04"])
def test_escape_ctrl_c_and_ctrl_d_cancel(key: bytes) -> None:
    with pytest.raises(KeyboardInterrupt):
        Screen(PROFILES, "> ").key(key)


def test_control_bytes_are_not_typed_into_the_query() -> None:
    screen = Screen(PROFILES, "> ")
    screen.key(b"\x1b[C")  # right arrow: ignored
    screen.key(b"\x07")
    assert screen.query == ""


def test_lines_mark_the_selection_show_the_detail_and_fit_the_width() -> None:
    screen = Screen(PROFILES, "profile> ")
    screen.key(b"\x1b[B")
    lines = screen.lines(200)
    assert lines[0] == "profile>   6/6"
    assert lines[1].startswith("  prod-admin ") and lines[2].startswith("> prod-readonly")
    assert lines[2].endswith("ReadOnly @ 111111111111")
    assert all(len(line) <= 29 for line in screen.lines(30))


def test_a_long_list_scrolls_with_the_selection() -> None:
    many = [Choice(f"p{index:02}") for index in range(30)]
    screen = Screen(many, "> ")
    for _ in range(15):
        screen.key(b"\x1b[B")
    shown = screen.lines(80)[1:]
    assert len(shown) == 10 and shown[-1].startswith("> p15")
