"""Template miner: golden groupings and masks, stable ids, state across runs, fingerprints."""

from __future__ import annotations

import json
import random
import string
from collections import defaultdict
from pathlib import Path

import pytest

from gardener.masking import mask
from gardener.mining import FORMAT_VERSION, MinedCluster, Miner, fingerprint, mine

GOLDEN = Path(__file__).resolve().parent / "golden" / "mining"


def rows(name: str) -> list[list[str]]:
    """Tab-separated rows of a golden file, comments skipped."""
    lines = (GOLDEN / name).read_text(encoding="utf-8").splitlines()
    return [line.split("\t") for line in lines if line and not line.startswith("#")]


def test_cloud_messages_group_as_the_golden_file_says() -> None:
    golden = rows("cloud.tsv")
    result = mine([message for _, _, message in golden])
    clusters_of: dict[str, set[int]] = defaultdict(set)
    for (label, template, message), (cluster_id, mined) in zip(golden, result, strict=True):
        clusters_of[label].add(cluster_id)
        assert mined == template, message
    split = {label: ids for label, ids in clusters_of.items() if len(ids) > 1}
    assert not split, f"one failure split into several clusters: {split}"
    owners: dict[int, str] = {}
    for label, ids in clusters_of.items():
        (cluster_id,) = ids
        assert owners.setdefault(cluster_id, label) == label, f"{label} merged into {owners}"


def test_typed_masks_match_the_golden_file() -> None:
    for message, expected in rows("masking.tsv"):
        assert " ".join(mask(message)) == expected, message


def test_one_pair_per_message_in_order_and_equal_text_equal_pair() -> None:
    messages = ["disk /dev/sda1 is 91% full", "disk /dev/sdb2 is 97% full", "worker started",
                "disk /dev/sda1 is 91% full"]
    result = mine(messages)
    assert len(result) == 4
    assert result[0] == result[3]
    assert result[0][0] == result[1][0] and result[2][0] != result[0][0]
    assert result[2][1] == "worker started"
    assert mine([]) == []


def test_same_text_gets_the_same_key() -> None:
    miner = Miner()
    first = miner.add("Container called exit(3).")
    assert miner.add("Container called exit(3).") == first
    assert miner.resolve(first).size == 2


def test_request_routes_and_status_classes_stay_apart() -> None:
    routes = [f"GET /api/{name} 2xx" for name in ("users", "orders", "threads", "health")]
    messages = routes * 3 + ["GET /api/users 5xx", "POST /api/users 2xx"]
    templates = {template for _, template in mine(messages)}
    assert templates == set(routes) | {"GET /api/users 5xx", "POST /api/users 2xx"}


def test_a_new_error_is_not_merged_into_an_old_one() -> None:
    old = [f"Payment provider returned HTTP 502 for order {n}" for n in range(20)]
    new = ["Payment provider timed out after 30s for order 7"]
    result = mine(old + new)
    assert result[-1][0] != result[0][0]
    assert result[-1][1] == "Payment provider timed out after <*>s for order <*>"


def test_clusters_generalise_as_values_arrive_and_keep_their_ids() -> None:
    miner = Miner()
    alice = miner.add("Login failed for user alice from 10.0.0.1")
    first = miner.resolve(alice)
    bob = miner.add("Login failed for user bob from 10.0.0.2")
    # two values could be two constants; as more arrive the position becomes a variable
    for name in ("carol", "dave", "erin", "frank"):
        miner.add(f"Login failed for user {name} from 10.0.0.9")
    now = miner.resolve(alice)
    assert now == miner.resolve(bob)
    assert now.template == "Login failed for user <*> from <*>"
    assert now.id == first.id and now.size == 6
    assert now.fingerprint == fingerprint(now.template)


def test_state_saved_after_one_run_matches_clusters_in_the_next(tmp_path: Path) -> None:
    run1 = Miner()
    keys1 = {text: run1.add(text) for text in (
        "Database initialization timeout after 8.0s in staging",
        "GET /api/threads/<*>/messages 5xx",
        "Redis connection pool: 9/30 connections in use")}
    before = {text: run1.resolve(key) for text, key in keys1.items()}
    state = tmp_path / "miner.json"
    state.write_text(json.dumps(run1.to_json()), encoding="utf-8")

    run2 = Miner.from_json(json.loads(state.read_text(encoding="utf-8")))
    again = {
        "Database initialization timeout after 8.0s in staging":
            run2.add("Database initialization timeout after 12.5s in staging"),
        "GET /api/threads/<*>/messages 5xx": run2.add("GET /api/threads/<*>/messages 5xx"),
        "Redis connection pool: 9/30 connections in use":
            run2.add("Redis connection pool: 30/30 connections in use"),
    }
    fresh = run2.add("Container called exit(3).")
    for text, key in again.items():
        assert run2.resolve(key).id == before[text].id, text
        assert run2.resolve(key).fingerprint == before[text].fingerprint, text
    assert run2.resolve(fresh).id not in {c.id for c in before.values()}
    assert sum(c.size for c in run2.clusters()) == 7


def test_json_round_trip_preserves_every_resolve() -> None:
    miner = Miner()
    keys = miner.add_all(line for _, _, line in rows("cloud.tsv"))
    copy = Miner.from_json(json.loads(json.dumps(miner.to_json())))
    for key in keys:
        assert copy.resolve(key) == miner.resolve(key)
    assert copy.clusters() == miner.clusters()
    assert copy.to_json() == miner.to_json()


@pytest.mark.parametrize("data", [{}, {"version": 2}, {"version": "1"}, {"version": None}, []])
def test_unknown_state_versions_are_refused_with_a_fix(data: object) -> None:
    with pytest.raises(ValueError, match=r"version .* delete the state file"):
        Miner.from_json(data)  # type: ignore[arg-type]


@pytest.mark.parametrize("keys", [
    [["a <*>", 1, 99, 0]],          # cluster id not below next_id
    [["a <*>", -1, 1, 0]],          # negative count
    [["a <*>", 1, 1, 5]],           # folded into a missing key
    [["a <*>", 1, 1, 0], ["a <*>", 1, 1, 1]],  # the same form twice
    [["a <*>", 1, 1]],              # too short
])
def test_malformed_state_is_refused(keys: list[list[object]]) -> None:
    data = {"version": FORMAT_VERSION, "next_id": 2, "keys": keys, "learned": []}
    with pytest.raises(ValueError, match="malformed"):
        Miner.from_json(data)


def test_fingerprints_ignore_variable_tokens_but_not_constant_words() -> None:
    base = fingerprint("Database timeout after <*>s in <*>")
    assert len(base) == 16 and all(c in "0123456789abcdef" for c in base)
    assert fingerprint("Database timeout after <*>s in <*> <*>") == base
    assert fingerprint("Database   timeout after <*>s in") == base
    assert fingerprint("Database timeout before <*>s in <*>") != base
    assert fingerprint("HBM brightnessIn =<*>") != fingerprint("HBM brightnessOut =<*>")
    assert fingerprint("via interface ee0") != fingerprint("via interface alt0")
    assert base == "1e10be04cd78eb0c"  # stable across releases: state files and issues key on it
    assert fingerprint("upload \ud800 failed") != fingerprint("upload failed")  # no crash


def test_compaction_bounds_the_work_of_a_long_stream() -> None:
    rng = random.Random(3)
    names = ["".join(rng.choices(string.ascii_lowercase, k=10)) for _ in range(6000)]
    miner = Miner()
    keys = [miner.add(f"session opened for user {name} by cron") for name in names]
    keys.append(miner.add("session closed for user root"))
    state = miner.to_json()
    live = [entry for entry in state["keys"] if entry[1]]
    assert len(live) < 100, "forms folded at the learned variable"
    (big, small) = miner.clusters()
    assert big.template == "session opened for user <*> by cron" and big.size == 6000
    assert small.template == "session closed for user root"
    assert {miner.resolve(k).id for k in keys[:-1]} == {big.id}
    later = miner.add("session opened for user zzzzzz by cron")
    assert miner.resolve(later).id == big.id and miner.resolve(keys[0]).id == big.id
    copy = Miner.from_json(json.loads(json.dumps(miner.to_json())))
    assert copy.resolve(keys[17]) == miner.resolve(keys[17])


def test_clusters_are_reported_largest_first() -> None:
    miner = Miner()
    miner.add_all(["worker started"] + ["cache warm"] * 3)
    sizes = [c.size for c in miner.clusters()]
    assert sizes == [3, 1]
    assert all(isinstance(c, MinedCluster) for c in miner.clusters())
