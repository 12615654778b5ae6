"""Pure rendering and planning: the comment's budget, inert hostile text, issue history and plans.

Hostile text is checked against cmark-gfm (GitHub's Markdown engine) with raw HTML allowed, so any
tag, attribute or link that log text managed to create would show up in the HTML.
"""

from __future__ import annotations

import copy
import io
import re
from html.parser import HTMLParser
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gardener.model import Priority
from gardener.publish import PullRequestTarget, publish_worklog
from gardener.publish.comment import render_comment
from gardener.publish.issue_body import issue_body, issue_title, read_runs
from gardener.publish.issues import Action, IssuesTarget, KnownIssue, plan_issues
from gardener.publish.markers import CommentKey, IssueKey, comment_key, issue_key
from gardener.publish.text import body_length
from tests.fakes.github import FakeGitHub, fast_settings
from tests.fakes.worklogs import HOSTILE, cluster, seed_worklog, worklog

cmarkgfm = pytest.importorskip("cmarkgfm", reason="cmarkgfm (GitHub's cmark) renders the oracle")
from cmarkgfm.cmark import Options  # noqa: E402

KEY = CommentKey.of("netra-backend-staging", "deploy")
ALLOWED_TAGS = {"p", "h2", "h3", "h4", "ul", "li", "strong", "em", "code", "pre", "details",
                "summary", "table", "thead", "tbody", "tr", "th", "td", "a", "sub", "blockquote",
                "br"}
ALLOWED_LINKS = ("https://console.cloud.google.com/logs/", "https://github.com/acme/")
PIECES = st.sampled_from([
    "@octocat", "#123", "GH-42", "</details>", "<details>", "<img src=x onerror=alert(1)>",
    "```", "~~~", "[click](http://evil)", "<!-- log-gardener:end -->", "-->", "javascript:x",
    "https://evil.com", "www.evil.com", "<summary>", "|", "\n", "\r\n", "`", "\u202e", "<!--",
    "<!-- log-gardener:state {\"v\":1,\"runs\":[]} -->", "<script>", "&lt;", "\\", "![x](y)",
])
HOSTILE_TEXT = st.lists(st.one_of(PIECES, st.text(max_size=6)), min_size=1, max_size=12).map(
    "".join)


class Tags(HTMLParser):
    """Collects tags, attributes and the balance of `<details>`."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))
        self.depth += tag == "details"

    def handle_endtag(self, tag: str) -> None:
        self.depth -= tag == "details"
        assert self.depth >= 0, "a </details> closed ours early"


def assert_inert(markdown: str) -> None:
    """No element, attribute, link, mention or reference that the log text could have made."""
    html = cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE)
    parser = Tags()
    parser.feed(html)
    assert parser.depth == 0
    for tag, attrs in parser.tags:
        assert tag in ALLOWED_TAGS, f"<{tag}> in {html!r}"
        for name, value in attrs:
            if (tag, name) in (("th", "align"), ("td", "align"), ("pre", "lang")):
                assert value in ("right", "json", "bash"), value  # ours, never the log's
                continue
            assert tag == "a" and name == "href", f"<{tag} {name}={value!r}>"
            assert (value or "").startswith(ALLOWED_LINKS), value
    assert not re.search(r"@\w", markdown), "a mention could notify someone"
    assert not re.search(r"#\d", markdown), "an issue reference could link"


def hostile_doc(text: str) -> dict[str, Any]:
    doc = seed_worklog(service=text)
    for c in doc["clusters"]:
        c.update(title=text, template=text, reason=text, rule=text)
        c["samples"][0].update(message=text, severity=text)
        c["samples"][0]["entry"]["textPayload"] = text
        c["source_locations"][0]["file"] = text
        c["logs_explorer_url"] = "https://evil.com/" + text
    doc["gate"]["reasons"] = [text]
    return doc


def test_the_seed_hostile_strings_render_inert() -> None:
    doc = seed_worklog()
    body = render_comment(doc, KEY)
    assert_inert(body)
    for c in doc["clusters"]:
        assert_inert(issue_body(doc, c, IssueKey.of(c["fingerprint"], doc["service"])))
    assert "@octocat" not in body and "@\u2060octocat" in body


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(HOSTILE_TEXT)
def test_any_log_text_renders_inert_in_comments_and_issues(text: str) -> None:
    doc = hostile_doc(text)
    body = render_comment(doc, CommentKey.of(text, text))
    assert_inert(body)
    assert comment_key(body) == CommentKey.of(text, text)
    c = doc["clusters"][0]
    key = IssueKey.of(c["fingerprint"], text)
    ibody = issue_body(doc, c, key, previous=ibody_with_notes(text))
    assert_inert(ibody)
    assert issue_key(ibody) == key
    assert len(read_runs(ibody)) == 1
    title = issue_title(doc, c)
    assert len(title) <= 256 and "\n" not in title and not re.search(r"@\w|#\d", title)


def ibody_with_notes(text: str) -> str:
    return "<!-- log-gardener:fingerprint=x service=y -->\n<!-- log-gardener:end -->\nnotes"


def test_posted_hostile_comment_is_stored_verbatim_and_inert() -> None:
    with FakeGitHub() as fake:
        pr = fake.add_pull(head_sha="ab" * 20)
        doc = hostile_doc(HOSTILE)
        result = publish_worklog(doc, target=PullRequestTarget(pr), github=fast_settings(fake),
                                 out=io.StringIO())
        stored = fake.issue_comments(pr)[0]["body"]
    assert result.ok and stored == render_comment(doc, CommentKey.of(HOSTILE, ""))
    assert_inert(stored)


def test_secrets_in_log_text_are_redacted_again_before_posting() -> None:
    doc = seed_worklog()
    leak = "connect postgresql://app:hunter2hunter2@10.0.0.5/db token ghp_" + "a1B2" * 9
    doc["clusters"][0]["samples"][0]["message"] = leak
    doc["clusters"][0]["template"] = leak
    body = render_comment(doc, KEY)
    issue = issue_body(doc, doc["clusters"][0], IssueKey.of("f", "s"))
    for text in (body, issue):
        assert "hunter2hunter2" not in text and "a1B2a1B2" not in text
        assert "[REDACTED:" in text


def test_a_normal_worklog_is_not_trimmed() -> None:
    body = render_comment(seed_worklog(), KEY)
    assert "Trimmed" not in body and body.startswith(KEY.marker())
    assert body.index("### P0 and P1 clusters") < body.index("<details>")
    opened = re.findall(r"^<details>$", body, re.MULTILINE)
    closed = re.findall(r"^</details>$", body, re.MULTILINE)
    assert len(opened) == len(closed) == 6  # the fold and the five P2-P4 clusters


def many_clusters(n: int, size: int = 3000) -> dict[str, Any]:
    return worklog([cluster(f"C{i}", f"P{min(4, i * 5 // n)}", f"{i:016x}",
                            f"Failure {i} " + "y" * 150, 10, message="m" * size)
                    for i in range(n)])


@pytest.mark.parametrize("n", [30, 300, 3000])
def test_big_worklogs_fit_and_say_so(n: int) -> None:
    body = render_comment(many_clusters(n), KEY, worklog_url="https://github.com/acme/shop/x")
    assert body_length(body) <= 65_536
    assert "Trimmed to fit GitHub's 65,536-character limit" in body
    assert "[the full worklog](<https://github.com/acme/shop/x>)" in body
    assert_inert(body)


def test_least_urgent_detail_goes_first() -> None:
    doc = many_clusters(30)
    full = render_comment(doc, KEY, limit=10**9)
    body = render_comment(doc, KEY, limit=len(full) - 1000)
    assert "Sample (ERROR" in body.split("<details>")[0], "P0/P1 samples kept"
    assert "<summary>C29 ·" not in body, "the last P4's detail is the first thing to go"
    assert "<summary>C12 ·" in body, "the first P2 keeps its detail"
    assert "the details of" in body


def test_extreme_limit_keeps_verdict_and_marker() -> None:
    body = render_comment(many_clusters(50), KEY, limit=3000)
    assert body_length(body) <= 3000 and body.startswith(KEY.marker())
    assert "❌ gate failed" in body and "entirely" in body


def test_utf16_length_is_what_counts() -> None:
    doc = worklog([cluster("C1", "P0", "f" * 16, "😀" * 200, 1, message="😀" * 3000)])
    full = render_comment(doc, KEY, limit=10**9)
    assert body_length(full) > len(full)
    body = render_comment(doc, KEY, limit=len(full))
    assert body_length(body) <= len(full) and body != full


def known(number: int, c: dict[str, Any], state: str = "open", reason: str | None = None,
          labels: tuple[str, ...] = ("gardener",), doc: dict[str, Any] | None = None) -> KnownIssue:
    doc = doc or seed_worklog()
    body = issue_body(doc, c, IssueKey.of(c["fingerprint"], doc["service"]))
    return KnownIssue(number, f"https://github.example/acme/shop/issues/{number}", state, reason,
                      labels, issue_title(doc, c), body)


def test_plan_rules() -> None:
    doc = seed_worklog()
    c = doc["clusters"]
    plans = plan_issues(doc, [known(1, c[0], "closed", "completed"),
                              known(2, c[1], "closed", "not_planned"),
                              known(3, c[2], "closed", "completed", ("gardener", "gardener:mute")),
                              known(4, c[3], labels=("gardener", "priority:P3",
                                                     "service:netra-backend-staging")),
                              known(5, c[5], "closed", "completed"),  # a P4 came back
                              known(6, c[6], "closed", "duplicate")],
                        IssuesTarget(max_new_issues=0))
    assert [(p.cluster_id, p.action) for p in plans] == [
        ("C1", Action.REOPEN), ("C2", Action.SKIP), ("C3", Action.SKIP), ("C4", Action.UPDATE),
        ("C5", Action.SKIP), ("C6", Action.SKIP), ("C7", Action.SKIP)]
    assert "not planned" in plans[1].note and "mute" in plans[2].note
    assert "closed as duplicate" in plans[6].note
    assert "cap of 0" in plans[4].note and "P4" in plans[5].note
    assert not plans[3].changed, "same window, same text: nothing to write"


def test_duplicate_issues_from_an_old_race_update_the_open_one() -> None:
    doc = seed_worklog()
    c = doc["clusters"][0]
    plans = plan_issues(doc, [known(7, c, "closed", "completed"), known(9, c), known(8, c)],
                        IssuesTarget(min_priority=Priority.P0))
    assert [(p.action, p.number) for p in plans] == [(Action.UPDATE, 8)]


def test_trend_compares_rates_across_windows_of_different_length() -> None:
    doc = seed_worklog()
    c = copy.deepcopy(doc["clusters"][0])
    first = issue_body(doc, c, IssueKey.of(c["fingerprint"], "s"))
    later = seed_worklog(start="2025-09-16T00:46:21Z", end="2025-09-16T02:46:21Z")  # 2 hours
    c2 = later["clusters"][0]
    c2["count"] = 902  # the same 451 per hour
    second = issue_body(later, c2, IssueKey.of(c["fingerprint"], "s"), previous=first)
    assert "≈ steady" in second and "451.0/h" in second
    assert [r.count for r in read_runs(second)] == [451, 902]
