"""One issue per cluster through the real PyGithub against the fake GitHub on 127.0.0.1."""

from __future__ import annotations

import io
from typing import Any

from gardener.model import Priority
from gardener.publish import IssuesTarget, PublishResult, publish_worklog
from tests.fakes.github import FakeGitHub, fake_github, fast_settings
from tests.fakes.worklogs import seed_worklog

__all__ = ["fake_github"]  # the fixture, imported for pytest
HOURS = ["2025-09-15T23:46:21Z", "2025-09-16T00:46:21Z", "2025-09-16T01:46:21Z",
         "2025-09-16T02:46:21Z"]


def run(fake: FakeGitHub, hour: int = 0, *, scale: float = 1.0, target: IssuesTarget | None = None,
        doc: dict[str, Any] | None = None) -> PublishResult:
    doc = doc or seed_worklog(start=HOURS[hour], end=HOURS[hour + 1])
    for c in doc["clusters"]:
        c["count"] = int(c["count"] * scale)
    return publish_worklog(doc, target=target or IssuesTarget(), github=fast_settings(fake),
                           out=io.StringIO())


def by_fingerprint(fake: FakeGitHub) -> dict[str, dict[str, Any]]:
    return {i["body"].split("fingerprint=")[1].split()[0]: i for i in fake.ours()}


def labels(issue: dict[str, Any]) -> set[str]:
    return {label["name"] for label in issue["labels"]}


def test_three_runs_dedupe_update_and_regress(fake_github: FakeGitHub) -> None:
    first = run(fake_github, 0)
    assert first.ok and len(first.issues_created) == 5  # P0..P3: every cluster but the P4s
    issues = by_fingerprint(fake_github)
    p0 = issues["9f2c4e1a0b7d3c55"]
    assert p0["title"] == "[P0] netra-backend-staging: CRITICAL STARTUP FAILURE: Database " \
                          "initialization timeout after 8.0s in staging environment"
    assert labels(p0) == {"gardener", "priority:P0", "service:netra-backend-staging"}
    assert fake_github.store.labels["priority:p0"]["color"] == "b60205"

    second = run(fake_github, 1, scale=3)
    assert second.ok and not second.issues_created and len(second.issues_updated) == 5
    assert len(fake_github.ours()) == 5
    p0 = by_fingerprint(fake_github)["9f2c4e1a0b7d3c55"]
    assert "▲ rising" in p0["body"] and "**1,353 entries**" in p0["body"]
    assert "Last 2 runs" in p0["body"]

    fake_github.close(p0["number"])                                   # fixed, it seems
    fake_github.close(issues["3d4e5f60718293a4"]["number"], "not_planned")
    fake_github.close(issues["4e5f60718293a4b5"]["number"])
    fake_github.add_labels(issues["4e5f60718293a4b5"]["number"], "gardener:mute")

    third = run(fake_github, 2)
    assert third.ok and not third.issues_created
    assert [r.number for r in third.issues_reopened] == [p0["number"]]
    assert len(third.issues_updated) == 2 and len(third.skipped) == 2
    now = by_fingerprint(fake_github)
    assert now["9f2c4e1a0b7d3c55"]["state"] == "open"
    assert now["9f2c4e1a0b7d3c55"]["state_reason"] == "reopened"
    assert now["3d4e5f60718293a4"]["state"] == "closed"
    assert now["4e5f60718293a4b5"]["state"] == "closed"
    notes = [c["body"] for c in fake_github.issue_comments(p0["number"])]
    assert len(notes) == 1 and notes[0].startswith("**Regressed:**")
    assert "`gardener:mute`" in notes[0]
    assert len(fake_github.ours()) == 5
    assert "Last 3 runs" in now["9f2c4e1a0b7d3c55"]["body"]


def test_existing_issues_are_found_by_listing_not_search(fake_github: FakeGitHub) -> None:
    run(fake_github, 0)
    run(fake_github, 1)
    assert fake_github.count("GET", "/search") == 0
    assert fake_github.count("GET", r"/issues/\d+$") == 0  # no per-issue completion GETs
    assert len(fake_github.ours()) == 5


def test_pagination_of_many_issues_still_dedupes() -> None:
    with FakeGitHub(max_per_page=2) as fake:
        run(fake, 0)
        again = run(fake, 1)
        assert not again.issues_created and len(fake.ours()) == 5
        assert fake.count("GET", r"/issues$") == 1 + 3  # empty listing, then three pages


def test_rerun_of_the_same_window_writes_nothing(fake_github: FakeGitHub) -> None:
    run(fake_github, 0)
    writes = fake_github.count("PATCH") + fake_github.count("POST")
    again = run(fake_github, 0)
    assert again.ok and len(again.issues_updated) == 5
    assert fake_github.count("PATCH") + fake_github.count("POST") == writes


def test_cap_on_new_issues_keeps_the_most_urgent(fake_github: FakeGitHub) -> None:
    result = run(fake_github, 0, target=IssuesTarget(max_new_issues=2))
    assert [r.fingerprint for r in result.issues_created] == ["9f2c4e1a0b7d3c55",
                                                              "1b2c3d4e5f607182"]
    assert len(result.skipped) == 3 and all("cap of 2" in s for s in result.skipped)
    nxt = run(fake_github, 1, target=IssuesTarget(max_new_issues=2))
    assert len(nxt.issues_created) == 2 and len(nxt.issues_updated) == 2


def test_min_priority_threshold(fake_github: FakeGitHub) -> None:
    result = run(fake_github, 0, target=IssuesTarget(min_priority=Priority.P1))
    assert len(result.issues_created) == 2
    everything = run(fake_github, 1, target=IssuesTarget(min_priority=Priority.P4))
    assert len(everything.issues_created) == 5 and len(fake_github.ours()) == 7


def test_muted_cluster_gets_no_issue(fake_github: FakeGitHub) -> None:
    doc = seed_worklog()
    doc["clusters"][0]["muted"] = True
    result = run(fake_github, doc=doc)
    assert "9f2c4e1a0b7d3c55" not in {r.fingerprint for r in result.issues_created}


def test_people_keep_their_labels_and_notes_and_priority_label_follows(
        fake_github: FakeGitHub) -> None:
    run(fake_github, 0)
    p2 = by_fingerprint(fake_github)["2c3d4e5f60718293"]
    fake_github.add_labels(p2["number"], "team:realtime")
    with fake_github.store.lock:
        p2["body"] += "\n\nRoot cause: the factory registers twice. -- Ana"
    doc = seed_worklog(start=HOURS[1], end=HOURS[2])
    doc["clusters"][2]["priority"] = "P0"
    run(fake_github, doc=doc)
    after = by_fingerprint(fake_github)["2c3d4e5f60718293"]
    assert labels(after) == {"gardener", "priority:P0", "service:netra-backend-staging",
                             "team:realtime"}
    assert after["title"].startswith("[P0] ")
    assert after["body"].rstrip().endswith("Root cause: the factory registers twice. -- Ana")
    assert after["body"].count("Root cause") == 1


def test_502_after_an_issue_was_stored_does_not_open_a_second(fake_github: FakeGitHub) -> None:
    fake_github.inject("POST", r"/issues$", "bad_gateway", after_store=True)
    result = run(fake_github, 0)
    assert result.ok and len(result.issues_created) == 5 and len(fake_github.ours()) == 5


def test_label_created_concurrently_is_fine(fake_github: FakeGitHub) -> None:
    fake_github.inject("POST", r"/labels$", "bad_gateway", after_store=True)
    result = run(fake_github, 0)
    assert result.ok and "gardener" in fake_github.store.labels


def test_forbidden_names_issues_write_and_stops(fake_github: FakeGitHub) -> None:
    fake_github.inject("POST", r"/issues$", "forbidden", times=10)
    result = run(fake_github, 0)
    assert len(result.errors) == 1 and "issues: write" in result.errors[0].diagnostics()
    assert fake_github.count("POST", r"/issues$") == 1


def test_validation_error_on_one_issue_does_not_stop_the_others(fake_github: FakeGitHub) -> None:
    fake_github.inject("POST", r"/issues$", "validation")
    result = run(fake_github, 0)
    assert len(result.errors) == 1 and "422" in result.errors[0].what
    assert len(result.issues_created) == 4


def test_secondary_rate_limit_on_issue_create_is_waited_out(fake_github: FakeGitHub) -> None:
    fake_github.inject("POST", r"/issues$", "secondary", retry_after=1)
    result = run(fake_github, 0)
    assert result.ok and len(fake_github.ours()) == 5
