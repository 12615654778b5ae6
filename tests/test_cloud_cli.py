"""`gardener analyze --project ...` end to end: the live read gives the worklog an export gives,
truncation reaches the outputs, and logs that cannot be read exit 3 (never a passing gate)."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from gardener.cli import main
from tests.fakes.google import (
    PROJECT,
    PROVIDER_NAME,
    SERVICE,
    SERVICE_ACCOUNT,
    T0,
    FakeGoogle,
    fake_google,
    loopback_only,
    rfc3339,
    sample_entries,
)

__all__ = ["fake_google", "loopback_only"]  # fixtures, imported for pytest

WIF = ["--workload-identity-provider", PROVIDER_NAME, "--service-account", SERVICE_ACCOUNT]
PER_QUERY = ("query", "logs_explorer_url", "gcloud")


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .gardener.yml


def run(argv: list[str], env: dict[str, str]) -> tuple[int, str]:
    err = io.StringIO()
    code = main(["analyze", *argv], env, stdout=io.StringIO(), stderr=err)
    return code, err.getvalue()


def without_queries(doc: dict[str, Any]) -> dict[str, Any]:
    """The worklog minus what names its source: the source block, and the per-cluster queries
    (built on the source's base filter: the live one names the service, an export's does not
    know the window it was cut from)."""
    doc = {k: v for k, v in doc.items() if k != "source"}
    doc["clusters"] = [{k: v for k, v in c.items() if k not in PER_QUERY}
                       for c in doc["clusters"]]
    return doc


def newest_first(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`gcloud logging read --format=json` order."""
    def key(entry: dict[str, Any]) -> str:
        stamp = str(entry["timestamp"])
        return stamp[:19] + "." + stamp[19:-1].lstrip(".").ljust(9, "0")
    return sorted(entries, key=key, reverse=True)


def test_live_read_gives_the_same_worklog_as_an_export(fake_google: FakeGoogle,
                                                       tmp_path: Path) -> None:
    entries = sample_entries(3000)
    fake_google.set_entries(entries)
    Path("export.json").write_text(json.dumps(newest_first(entries)))
    start, end = entries[0]["timestamp"], entries[-1]["timestamp"]  # whole seconds, min and max
    live_code, live_err = run(["--project", PROJECT, "--service", SERVICE, "--start", start,
                               "--end", end, "--max-entries", "10000", *WIF,
                               "--json", "live.json"], fake_google.env())
    file_code, _ = run(["--input", "export.json", "--json", "file.json"], {})
    live, offline = (json.loads(Path(p).read_text()) for p in ("live.json", "file.json"))
    assert live_code == file_code == 1, live_err  # the sample holds a P0 startup failure
    assert live["entries"]["total"] == 3000 and live["clusters"]
    assert without_queries(live) == without_queries(offline)
    source = live["source"]
    assert source["kind"] == "cloud-logging" and source["filter"].startswith(
        'resource.type="cloud_run_revision" AND resource.labels.service_name="netra-backend-')
    assert f'timestamp>="{start}" AND timestamp<="{end}"' in source["filter"]
    assert source["logs_explorer_url"].startswith("https://console.cloud.google.com/logs/query;"
                                                  "query=resource.type%3D%22cloud_run_revision")
    assert any("entries.list calls" in note for note in source["notes"])
    assert all(c["query"].startswith(source["filter"]) for c in live["clusters"])


def test_truncation_reaches_the_json_and_the_markdown(fake_google: FakeGoogle) -> None:
    fake_google.set_entries(sample_entries(3000))
    code, _ = run(["--project", PROJECT, "--service", SERVICE, "--start", rfc3339(T0),
                   "--end", "2025-09-16T00:00:00Z", "--max-entries", "1200", *WIF,
                   "--json", "out.json", "--markdown", "out.md"], fake_google.env())
    doc = json.loads(Path("out.json").read_text())
    assert code == 1 and doc["entries"]["truncated"] is True and doc["entries"]["total"] == 1200
    assert any("stopped at --max-entries 1,200" in n for n in doc["source"]["notes"])
    markdown = Path("out.md").read_text()
    assert "truncated by --max-entries" in markdown
    assert r"stopped at \-\-max\-entries 1,200" in markdown  # notes are escaped Markdown


@pytest.mark.parametrize("fault, message", [
    ("forbidden", "roles/logging.viewer"),
    ("condition", "attribute condition"),
    ("storm", "Cloud Logging kept failing"),
])
def test_logs_that_cannot_be_read_exit_3(fake_google: FakeGoogle, fault: str,
                                         message: str) -> None:
    fake_google.set_entries(sample_entries(100))
    if fault == "forbidden":
        fake_google.viewers = set()
    elif fault == "condition":
        fake_google.repositories = set()
    else:
        fake_google.fail(503, times=1000)
    code, err = run(["--project", PROJECT, "--service", SERVICE, "--since", "1h", *WIF,
                     "--retry-deadline", "1s", "--json", "out.json"], fake_google.env())
    assert code == 3 and message in err
    assert not Path("out.json").exists()  # no worklog, so no passing verdict either
    if fault == "storm":
        assert len(fake_google.list_calls()) >= 3  # it did retry before giving up


def test_config_errors_exit_2_before_any_call(fake_google: FakeGoogle) -> None:
    env = {k: v for k, v in fake_google.env().items() if not k.startswith("ACTIONS_ID_TOKEN")}
    code, err = run(["--project", PROJECT, "--service", SERVICE, *WIF], env)
    assert code == 2 and "`id-token` set to `write`" in err
    code, err = run(["--project", PROJECT, "--service", SERVICE, "--since", "yesterday"], env)
    assert code == 2 and "--since 'yesterday': not a duration" in err
    assert fake_google.calls == []


@pytest.mark.parametrize(("flags", "said"), [
    (["--since", "99999999999w"], "--since '99999999999w': too long"),
    (["--since", "1000000d"], "--since '1000000d': too long"),
    (["--since", "1h", "--retry-deadline", "99999999999w"], "--retry-deadline"),
    (["--start", "0001-01-01T00:30:00+01:00"], "out of range in UTC"),
    (["--deployed-at", "0001-01-02T00:00:00Z"], "before the year 1"),
    (["--since", "1h", "--max-entries", "²"], "--max-entries '²': not a positive whole number"),
])
def test_values_out_of_range_are_exit_2(fake_google: FakeGoogle, flags: list[str],
                                        said: str) -> None:
    """They were OverflowError or ValueError: exit 4, an internal error."""
    code, err = run(["--project", PROJECT, "--service", SERVICE, *flags, "--json", "out.json"],
                    fake_google.env())
    assert code == 2 and said in err, err
    assert fake_google.list_calls() == []


def test_deployed_at_keeps_the_retry_deadline(fake_google: FakeGoogle) -> None:
    """The two windows around a deploy were new sources without `--retry-deadline`'s policy: a
    503 storm ran for the default deadline (104 s), not the 1 s asked for."""
    fake_google.set_entries(sample_entries(100))
    fake_google.fail(503, times=1000)
    deployed = rfc3339(datetime.now(UTC) - timedelta(minutes=30))
    code, err = run(["--project", PROJECT, "--service", SERVICE, "--deployed-at", deployed,
                     *WIF, "--retry-deadline", "1s", "--json", "out.json"], fake_google.env())
    assert code == 3 and "kept failing for" in err
    assert len(fake_google.list_calls()) < 10  # a 1 s deadline: a few attempts, not dozens


def test_a_baseline_cut_at_max_entries_says_so(fake_google: FakeGoogle) -> None:
    """A WARNING cluster at the same rate before and after the deploy, and newer ERRORs just
    before it: the read before the deploy stops at the cap before reaching the cluster, which
    then shows as new. It did so silently; the worklog now says the baseline was cut."""
    resource = {"type": "cloud_run_revision", "labels": {"project_id": PROJECT,
                                                          "service_name": SERVICE}}
    deployed = T0 + timedelta(hours=2)
    entries = []
    for start, severity, text in ((deployed - timedelta(minutes=110), "WARNING", "cache miss"),
                                  (deployed - timedelta(minutes=40), "ERROR", "reset by peer"),
                                  (deployed + timedelta(minutes=5), "WARNING", "cache miss")):
        entries += [{"insertId": f"i{len(entries) + i:06d}", "resource": resource,
                     "timestamp": rfc3339(start + timedelta(seconds=10 * i)),
                     "severity": severity, "textPayload": f"{text} for key user{i}"}
                    for i in range(50)]
    fake_google.set_entries(entries)
    notes = {}
    for cap in ("50", "500"):
        code, err = run(["--project", PROJECT, "--service", SERVICE, "--deployed-at",
                         rfc3339(deployed), "--max-entries", cap, *WIF, "--json", "out.json"],
                        fake_google.env())
        assert code in (0, 1), err
        notes[cap] = json.loads(Path("out.json").read_text("utf-8"))["source"]["notes"]
    assert any("cut at --max-entries" in note for note in notes["50"])
    assert not any("cut at --max-entries" in note for note in notes["500"])
