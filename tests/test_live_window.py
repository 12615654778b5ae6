"""The live window's edges, end to end against the fake Logging API: `--deployed-at` with
`--end`, endpoint URLs with a path, a `--filter` ending in a `--` comment, nanosecond times."""

from __future__ import annotations

import contextlib
import io
import json
import re
import shlex
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest

import tests.fakes.google as fake_module
from gardener.cli import main
from gardener.queries import join
from gardener.sources.live_query import LiveQuery, build_filter
from tests.fakes.google import (
    PROJECT,
    PROVIDER_NAME,
    SERVICE,
    SERVICE_ACCOUNT,
    FakeGoogle,
    compile_filter,
    fake_google,
    google_error,
    loopback_only,
)

__all__ = ["fake_google", "loopback_only"]  # fixtures, imported for pytest

WIF = ["--workload-identity-provider", PROVIDER_NAME, "--service-account", SERVICE_ACCOUNT]
RESOURCE = {"type": "cloud_run_revision", "labels": {"project_id": PROJECT,
                                                     "service_name": SERVICE}}
DEPLOYED = datetime(2025, 9, 16, 0, 0, tzinfo=UTC)
JUST_BEFORE = "2025-09-15T23:59:59.999999999Z"
"""Where the baseline before DEPLOYED ends: a nanosecond before it (bounds are inclusive)."""


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .gardener.yml


def run(argv: list[str], env: dict[str, str]) -> tuple[int, str]:
    err = io.StringIO()
    code = main(["analyze", "--project", PROJECT, "--service", SERVICE, *WIF, *argv,
                 "--json", "out.json"], env, stdout=io.StringIO(), stderr=err)
    return code, err.getvalue()


def entry(stamp: str, text: str, severity: str = "ERROR", n: int = 0) -> dict[str, Any]:
    return {"insertId": f"{text[:4]}{n:06d}{stamp[-12:]}", "resource": RESOURCE,
            "timestamp": stamp, "severity": severity, "textPayload": f"{text} {n}"}


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def windows(fake: FakeGoogle) -> set[tuple[str, str]]:
    """The (start, end) bounds of every filter the fake was asked."""
    found = set()
    for call in fake.list_calls():
        match = re.search(r'timestamp>="([^"]+)" AND timestamp<="([^"]+)"', call.body["filter"])
        assert match, call.body["filter"]
        found.add((match[1], match[2]))
    return found


# --- 1. --deployed-at with --end ----------------------------------------------------------------

def test_deployed_at_with_end_reads_the_window_after_and_the_same_length_before(
        fake_google: FakeGoogle) -> None:
    """`--deployed-at T --end E` was refused ("--end needs --start") though the message for
    --since/--start said --end still ends the window."""
    end = DEPLOYED + timedelta(minutes=20)
    fake_google.set_entries(
        [entry(stamp(DEPLOYED - timedelta(minutes=15) + timedelta(seconds=i)), "old", n=i)
         for i in range(5)]
        + [entry(stamp(DEPLOYED + timedelta(minutes=5, seconds=i)), "new", n=i)
           for i in range(5)]
        + [entry(stamp(end + timedelta(minutes=5)), "after the end")])
    code, err = run(["--deployed-at", stamp(DEPLOYED), "--end", stamp(end)], fake_google.env())
    assert code in (0, 1), err
    assert windows(fake_google) == {(stamp(DEPLOYED), stamp(end)),
                                    (stamp(DEPLOYED - timedelta(minutes=20)), JUST_BEFORE)}
    doc = json.loads(Path("out.json").read_text("utf-8"))
    assert doc["window"] == {"start": stamp(DEPLOYED), "end": stamp(end)}
    assert doc["entries"]["total"] == 5  # not the one after --end


@pytest.mark.parametrize(("flags", "said"), [
    (["--end", stamp(DEPLOYED - timedelta(minutes=1))], "--end"),
    (["--end", stamp(DEPLOYED)], "--end"),
    (["--start", stamp(DEPLOYED - timedelta(hours=1))], "--deployed-at"),
    (["--since", "1h"], "--deployed-at"),
])
def test_deployed_at_window_errors_are_usage_errors(fake_google: FakeGoogle, flags: list[str],
                                                    said: str) -> None:
    code, err = run(["--deployed-at", stamp(DEPLOYED), *flags], fake_google.env())
    assert code == 2 and said in err and "fix:" in err, err
    assert fake_google.list_calls() == []


def test_deployed_at_help_says_end_applies() -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):  # argparse prints help to sys.stdout
        assert main(["analyze", "--help"], {}) == 0
    text = " ".join(out.getvalue().split())
    assert "--deployed-at TIME" in text and "until --end (default: now)" in text
    assert "--end TIME window end, RFC 3339, with --start or --deployed-at (default: now)" in text


# --- 2. endpoints with a path --------------------------------------------------------------------

@pytest.mark.parametrize("suffix", ["/v2", "/v2/"])
def test_a_logging_endpoint_ending_in_v2_reads_the_api(fake_google: FakeGoogle,
                                                       suffix: str) -> None:
    """Users copy `https://logging.googleapis.com/v2` from the docs; the library appends `/v2`
    again, and every call 404ed as "project not found"."""
    fake_google.set_entries([entry(stamp(DEPLOYED), "boom")])
    code, err = run(["--start", stamp(DEPLOYED - timedelta(hours=1)), "--end",
                     stamp(DEPLOYED + timedelta(hours=1)), "--logging-endpoint",
                     fake_google.logging.url + suffix], fake_google.env())
    assert code in (0, 1), err
    assert {urlsplit(c.path).path for c in fake_google.list_calls()} == {"/v2/entries:list"}


@pytest.mark.parametrize("suffix", ["/v1", "/v1/"])
def test_sts_and_iam_endpoints_ending_in_v1_work(fake_google: FakeGoogle, suffix: str) -> None:
    fake_google.set_entries([entry(stamp(DEPLOYED), "boom")])
    env = fake_google.env(GARDENER_STS_ENDPOINT=fake_google.sts.url + suffix)
    code, err = run(["--start", stamp(DEPLOYED - timedelta(hours=1)), "--end",
                     stamp(DEPLOYED + timedelta(hours=1)), "--iam-endpoint",
                     fake_google.iam.url + suffix], env)
    assert code in (0, 1), err
    assert fake_google.count("sts", "/v1/token") and fake_google.count("iam", "/v1/projects")


@pytest.mark.parametrize(("name", "path"), [("logging", "/some/prefix"), ("logging", "/v1"),
                                            ("sts", "/v1/token"), ("iam", "/v2")])
@pytest.mark.parametrize("how", ["flag", "env"])
def test_an_endpoint_with_another_path_is_a_config_error(fake_google: FakeGoogle, name: str,
                                                         path: str, how: str) -> None:
    url = getattr(fake_google, name).url + path
    env_name = f"GARDENER_{name.upper()}_ENDPOINT"
    flags = [f"--{name}-endpoint", url] if how == "flag" else []
    env = fake_google.env(**({env_name: url} if how == "env" else {}))
    code, err = run(["--since", "1h", *flags], env)
    named = f"--{name}-endpoint" if how == "flag" else env_name
    assert code == 2 and named in err and "without a path" in err, err
    assert fake_google.calls == []


@pytest.mark.parametrize("body", [
    "<!DOCTYPE html><title>Error 404 (Not Found)!!1</title><p>The requested URL "
    "<code>/v2/entries:list</code> was not found on this server.",
    google_error(404, "Method not found.", "NOT_FOUND"),
    {"message": "no route"},
])
def test_a_404_that_is_not_a_missing_project_names_the_endpoint(fake_google: FakeGoogle,
                                                                body: Any) -> None:
    fake_google.fail(404, body=body)
    code, err = run(["--since", "1h"], fake_google.env())
    assert code == 3 and f"project {PROJECT} not found" not in err, err
    assert "GARDENER_LOGGING_ENDPOINT" in err and "--logging-endpoint" in err


def test_a_404_for_the_project_still_says_so(fake_google: FakeGoogle) -> None:
    fake_google.fail(404, body=google_error(404, f"Project '{PROJECT}' not found or "
                                            "permission denied.", "NOT_FOUND"))
    code, err = run(["--since", "1h"], fake_google.env())
    assert code == 3 and f"project {PROJECT} not found" in err, err


# --- 3. a --filter ending in a comment ---------------------------------------------------------

def without_comments(text: str) -> str:
    """The Logging query language's comments: `--` outside a string, to the end of the line."""
    return re.sub(r'("(?:[^"\\\n]|\\.)*")|--[^\n]*', lambda m: m[1] or "", text)


def commented(compile_: Callable[[str], Any]) -> Callable[[str], Any]:
    return lambda text: compile_(without_comments(text))


def test_a_filter_ending_in_a_comment_keeps_the_clauses_after_it(
        fake_google: FakeGoogle, monkeypatch: pytest.MonkeyPatch) -> None:
    """`(<filter> -- note) AND severity>=WARNING` on one line: the comment swallowed the `)` and
    every clause we add after it. The fake learns comments here (it did not parse them)."""
    monkeypatch.setattr(fake_module, "compile_filter", commented(compile_filter))
    fake_google.set_entries([entry(stamp(DEPLOYED + timedelta(seconds=i)), "db down", n=i)
                             for i in range(3)]
                            + [entry(stamp(DEPLOYED), "db slow", "INFO")])
    code, err = run(["--start", stamp(DEPLOYED - timedelta(hours=1)), "--end",
                     stamp(DEPLOYED + timedelta(hours=1)), "--filter",
                     'textPayload:"db" -- the database only'], fake_google.env())
    assert code in (0, 1), err
    doc = json.loads(Path("out.json").read_text("utf-8"))
    assert doc["entries"]["total"] == 4
    for cluster in doc["clusters"]:  # what the worklog reproduces works too
        assert shlex.split(cluster["gcloud"])[3] == cluster["query"]
        query = unquote(cluster["logs_explorer_url"].split(";query=")[1].split(";")[0])
        assert query == cluster["query"]
        test = compile_filter(without_comments(query))
        assert test(entry(stamp(DEPLOYED), "db down")) != test(entry(stamp(DEPLOYED), "db slow",
                                                                      "INFO"))


@pytest.mark.parametrize("extra", ['textPayload:"db" -- the database only',
                                   'textPayload:"db" --',
                                   '-- why\ntextPayload:"db"   -- and a note  '])
def test_every_clause_after_a_commented_filter_still_applies(extra: str) -> None:
    query = LiveQuery(project=PROJECT, service=SERVICE, start=DEPLOYED,
                      end=DEPLOYED + timedelta(hours=1), extra_filter=extra)
    text = join(build_filter(query) + " AND severity>=WARNING", '"down"')
    test = compile_filter(without_comments(text))
    good = entry(stamp(DEPLOYED), "db down")
    assert test(good)
    assert not test({**good, "severity": "INFO"})
    assert not test(entry(stamp(DEPLOYED - timedelta(seconds=1)), "db down"))
    assert not test(entry(stamp(DEPLOYED), "db up"))
    assert not test({**good, "resource": {**RESOURCE, "labels": {"service_name": "other"}}})


def test_a_filter_without_comments_is_unchanged() -> None:
    query = LiveQuery(project=PROJECT, service=SERVICE, start=DEPLOYED,
                      end=DEPLOYED + timedelta(hours=1), extra_filter=' textPayload:"a-b" ')
    assert build_filter(query).endswith(' AND (textPayload:"a-b")')


# --- 4. nanosecond times ---------------------------------------------------------------------

def exact_moment(text: str) -> tuple[datetime, int]:
    """The fake keeps microseconds only; this keeps every digit (an RFC 3339 time in UTC)."""
    head, _, rest = text.partition(".")
    digits = re.match(r"\d*", rest)[0] if rest else ""  # type: ignore[index]
    zone = rest[len(digits):] if rest else head[19:]
    whole = datetime.fromisoformat(head[:19] + zone.replace("Z", "+00:00"))
    return whole.astimezone(UTC), int(digits[:9].ljust(9, "0"))


def test_nanosecond_bounds_keep_the_last_entries(fake_google: FakeGoogle,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """`--end ...21.1234567Z` was cut to `...21.123456Z`, dropping an entry at ...21.1234565Z."""
    monkeypatch.setattr(fake_module, "_moment", exact_moment)
    base = "2025-09-15T23:46:21.123456"
    fake_google.set_entries([entry(f"{base}400Z", "before the start"),
                             entry(f"{base}500Z", "first"), entry(f"{base}650Z", "last"),
                             entry(f"{base}800Z", "after the end")])
    code, err = run(["--start", f"{base}45Z", "--end", f"{base}7Z"], fake_google.env())
    assert code in (0, 1), err
    doc = json.loads(Path("out.json").read_text("utf-8"))
    assert doc["entries"]["total"] == 2
    assert windows(fake_google) == {(f"{base}450Z", f"{base}700Z")}


def test_deployed_at_and_end_with_nanoseconds(fake_google: FakeGoogle,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fake_module, "_moment", exact_moment)
    fake_google.set_entries([entry("2025-09-16T00:00:00.000000900Z", "after")])
    code, err = run(["--deployed-at", "2025-09-16T00:00:00.000000123Z", "--end",
                     "2025-09-16T00:10:00.000000999Z"], fake_google.env())
    assert code in (0, 1), err
    assert json.loads(Path("out.json").read_text("utf-8"))["entries"]["total"] == 1
    assert windows(fake_google) == {
        ("2025-09-16T00:00:00.000000123Z", "2025-09-16T00:10:00.000000999Z"),
        ("2025-09-15T23:50:00Z", "2025-09-16T00:00:00.000000122Z")}


def test_an_entry_at_the_deploy_instant_is_counted_after_it_not_twice(
        fake_google: FakeGoogle, monkeypatch: pytest.MonkeyPatch) -> None:
    """Both bounds are inclusive: a baseline ending at the deploy read its entries too, so a
    cluster logged at that instant was "known" and counted in both windows."""
    monkeypatch.setattr(fake_module, "_moment", exact_moment)
    fake_google.set_entries([entry(stamp(DEPLOYED), "started at the deploy")])
    code, err = run(["--deployed-at", stamp(DEPLOYED), "--end",
                     stamp(DEPLOYED + timedelta(minutes=10))], fake_google.env())
    assert code in (0, 1), err
    [cluster] = json.loads(Path("out.json").read_text("utf-8"))["clusters"]
    assert (cluster["count"], cluster["status"], cluster["baseline_count"]) == (1, "new", 0)
