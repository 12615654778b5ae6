"""Property tests for the miner and the masks: any input, any order, any round trip."""

from __future__ import annotations

import json
import string

from hypothesis import given, settings
from hypothesis import strategies as st

from gardener.masking import mask
from gardener.mining import Miner, fingerprint, mine
from gardener.model import WILDCARD

# Messages from a few templates with drawn values, mixed with arbitrary text: enough structure for
# the grouping to do real work, enough noise to find the corners.
_WORD = st.text(string.ascii_lowercase, min_size=1, max_size=6)
_VALUE = st.one_of(st.integers(0, 10**6).map(str), _WORD, st.sampled_from(
    ["true", "0x1f", "10.0.0.1:80", "/var/x/1", "'a.b'", "<*>", "12ms", "a=1"]))
_TEMPLATED = st.builds(
    lambda shape, a, b: shape.format(a, b), st.sampled_from([
        "user {} logged in from {}", "GET /api/{} {}", "disk {} is {} full", "{} {}",
        "Timeout after {}s in {}", "retry {} of {}"]), _VALUE, _VALUE)
_NOISE = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
MESSAGES = st.lists(st.one_of(_TEMPLATED, _TEMPLATED, _NOISE), max_size=40)


@given(MESSAGES)
def test_one_pair_per_message_and_equal_text_equal_pair(messages: list[str]) -> None:
    result = mine(messages)
    assert len(result) == len(messages)
    seen: dict[str, tuple[int, str]] = {}
    for message, pair in zip(messages, result, strict=True):
        assert seen.setdefault(message, pair) == pair
        assert isinstance(pair[0], int) and isinstance(pair[1], str)


@given(MESSAGES, st.randoms(use_true_random=False))
def test_input_order_changes_neither_grouping_nor_templates(messages: list[str], rng: object
                                                            ) -> None:
    shuffled = list(messages)
    rng.shuffle(shuffled)  # type: ignore[attr-defined]
    first = dict(zip(messages, mine(messages), strict=True))
    second = dict(zip(shuffled, mine(shuffled), strict=True))
    for message in messages:
        assert first[message][1] == second[message][1]
        assert fingerprint(first[message][1]) == fingerprint(second[message][1])
    for a in messages:
        for b in messages:
            assert (first[a][0] == first[b][0]) == (second[a][0] == second[b][0])


@given(MESSAGES, MESSAGES)
@settings(max_examples=60)
def test_json_round_trip_preserves_resolve_and_later_adds(before: list[str], after: list[str]
                                                          ) -> None:
    miner = Miner()
    keys = miner.add_all(before)
    copy = Miner.from_json(json.loads(json.dumps(miner.to_json())))
    for key in keys:
        assert copy.resolve(key) == miner.resolve(key)
    assert miner.add_all(after) == copy.add_all(after)
    assert miner.clusters() == copy.clusters()


@given(st.lists(st.sampled_from(["a", "b", WILDCARD, "<*>ms", "x=<*>", "(<*>)"]), max_size=8))
def test_fingerprint_ignores_pure_wildcards(tokens: list[str]) -> None:
    template = " ".join(tokens)
    padded = " ".join(t for token in tokens for t in (token, WILDCARD))
    assert fingerprint(template) == fingerprint(padded)
    assert len(fingerprint(template)) == 16


@given(_NOISE)
def test_masking_any_text_gives_clean_tokens(text: str) -> None:
    tokens = mask(text)
    assert len(tokens) <= len(text.split())
    assert all(token and not any(c.isspace() for c in token) for token in tokens)
    assert mask(" ".join(tokens)) == tokens  # masking its own output changes nothing


_ID_CORES = st.one_of(
    st.builds(lambda head, tail: head + tail, st.sampled_from(string.ascii_letters),
              st.text(string.ascii_letters + string.digits + "_", max_size=30)),
    st.builds(lambda parts: "-".join(parts), st.tuples(*(
        st.text("0123456789abcdefABCDEF", min_size=n, max_size=n) for n in (8, 4, 4, 4, 12)))))
_ID_TOKENS = st.builds(lambda pre, core, post: pre + core + post, st.one_of(
    st.text("([{'\"", max_size=2), st.builds(lambda key: key + "=", st.one_of(
        st.text(string.ascii_letters + "_", min_size=1, max_size=8),
        st.sampled_from(["true", "null", "None", "nil", "id", "user"])))),
    _ID_CORES, st.text(")]},;.'\"!?:=", max_size=3))


@given(_ID_TOKENS)
def test_the_whole_token_shortcut_finds_what_the_shapes_find(token: str) -> None:
    """`Masker._learn` skips the shape regex for id words and UUIDs; it must agree with it."""
    from gardener.masking import _ID_DIGITS, _ID_TOKEN, _plain_number, _spans

    shape = token.translate(str.maketrans("0123456789", "1111111111"))
    whole = _ID_TOKEN.fullmatch(shape)
    if whole and (whole["uuid"] or whole["word"].count("1") >= _ID_DIGITS):
        slow = _plain_number(shape)
        assert (slow if slow is not None else _spans(shape)) == (whole.span(2),)


_IDS = st.one_of(
    st.builds(lambda head, tail: head + tail, st.sampled_from("uiUt"),
              st.text("abcdef0123456789_", min_size=4, max_size=16)),
    st.uuids().map(str), st.integers(0, 10**9).map(str), st.sampled_from(["v2", "ssh2", "x"]))
_LIKE_LOGS = st.builds(
    lambda shape, a, b, c: shape.format(a, b, c), st.sampled_from([
        "Loaded {} messages for thread {} (user {}) in 3.4ms",
        "Request {} completed: GET /api/threads/{}/messages?page={} -> 200 in 5ms",
        "WebSocket connected: user={} connection_id={} id={}",
        "POST /v2/users/{}/orders/{} {}", "'GET /{}/{}' from {}", "GET {} {} {}",
        "token={}, null={}, user=\"{}\"", "Jul {} 12:00:01 {} {} bytes", "{} {} {}"]),
    _IDS, _IDS, _IDS)


@settings(max_examples=300)
@given(st.lists(_LIKE_LOGS, min_size=1, max_size=30))
def test_a_shared_masker_masks_as_a_fresh_one(messages: list[str]) -> None:
    """The caches (by shape, and by `_alike` key for ids and routes) never change a result."""
    from gardener.masking import Masker

    shared = Masker()
    for message in messages:
        assert shared.form(message) == tuple(Masker().mask(message)), message
