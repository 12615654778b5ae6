"""Drive a `Publisher` from a worklog document: the comment, the commit's PR, the issues.

Failures are collected in `PublishResult.errors` rather than raised, so the caller can still
report the gate's verdict and exit with the code the logs deserve.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any, TextIO, assert_never

import requests
from github.GithubException import GithubException

from gardener.errors import ConfigError, InputError, PublishError
from gardener.publish.comment import render_comment
from gardener.publish.dryrun import DryRunPublisher
from gardener.publish.faults import is_rate_limit
from gardener.publish.github import GitHubPublisher
from gardener.publish.issues import Action, IssuePlan, LabelSpec, labels_for, plan_issues
from gardener.publish.markers import CommentKey
from gardener.publish.model import (
    CommitTarget,
    GitHubSettings,
    IssueRef,
    IssuesTarget,
    PublishOptions,
    PublishResult,
    PublishTarget,
    PullInfo,
    PullRequestTarget,
    ReadOnlyForkError,
    check_sha,
)
from gardener.publish.publisher import Publisher

SCHEMA_VERSION = 1
DEFAULT_OPTIONS = PublishOptions()


def publish_worklog(doc: Mapping[str, Any], *, target: PublishTarget,
                    github: GitHubSettings | None, dry_run: bool = False, out: TextIO,
                    options: PublishOptions = DEFAULT_OPTIONS) -> PublishResult:
    """Publish `doc` to `target`. Raises only for bad input or settings (exit 2)."""
    check_document(doc)
    if isinstance(target, CommitTarget):
        check_sha(target.sha)
    publisher: Publisher
    if dry_run:
        reader = GitHubPublisher(github) if github and github.token else None
        if reader is None:
            out.write("dry run without GITHUB_TOKEN: assuming nothing was posted before\n")
        publisher = DryRunPublisher(out, reader=reader)
    elif github is None or not github.token:
        raise ConfigError("GITHUB_TOKEN is not set, so nothing can be posted to GitHub",
                          fix="add `env: GITHUB_TOKEN: ${{ github.token }}` to the step, or "
                              "use --dry-run to see what would be posted")
    else:
        publisher = GitHubPublisher(github)
    result = publish(doc, publisher, target, options=options, out=out)
    return replace(result, dry_run=dry_run)


def check_document(doc: Mapping[str, Any]) -> None:
    """InputError unless `doc` looks like a version-1 JSON worklog."""
    if not isinstance(doc, Mapping) or doc.get("schema_version") != SCHEMA_VERSION:
        version = doc.get("schema_version") if isinstance(doc, Mapping) else None
        raise InputError(f"not a Log Gardener worklog (schema_version {version!r}, "
                         f"expected {SCHEMA_VERSION})",
                         fix="pass the file written by `gardener analyze --json OUT.json`")
    if not isinstance(doc.get("clusters"), list) or not isinstance(doc.get("gate"), Mapping):
        raise InputError("the worklog has no `clusters` list or `gate` object",
                         fix="pass the file written by `gardener analyze --json OUT.json`")


def publish(doc: Mapping[str, Any], publisher: Publisher, target: PublishTarget, *,
            options: PublishOptions = DEFAULT_OPTIONS, out: TextIO) -> PublishResult:
    """Post `doc` through `publisher`; what failed is in the result, not raised."""
    try:
        match target:
            case PullRequestTarget():
                return _comment(doc, publisher, target, options, out)
            case CommitTarget():
                return _commit(doc, publisher, target, options, out)
            case IssuesTarget():
                return _issues(doc, publisher, target, options, out)
            case _:
                assert_never(target)
    except PublishError as err:
        return PublishResult(errors=(err,), read_only_fork=isinstance(err, ReadOnlyForkError))


def comment_key(doc: Mapping[str, Any], options: PublishOptions) -> CommentKey:
    """The sticky comment's key: `--marker-key` or the service, and the workflow."""
    return CommentKey.of(options.key or str(doc.get("service") or ""), options.workflow)


def _comment(doc: Mapping[str, Any], publisher: Publisher, where: PullRequestTarget | CommitTarget,
             options: PublishOptions, out: TextIO) -> PublishResult:
    key = comment_key(doc, options)
    body = render_comment(doc, key, worklog_url=options.worklog_url)
    url = publisher.upsert_comment(where, key, body)
    if isinstance(where, PullRequestTarget):
        out.write(f"comment on pull request #{where.number}: {url}\n")
        return PublishResult(comment_url=url, pull_request=where.number)
    out.write(f"comment on commit {where.sha[:12]}: {url}\n")
    return PublishResult(comment_url=url, commit=where.sha)


def choose_pull(pulls: Sequence[PullInfo]) -> int | None:
    """The PR to comment on for a commit: an open one, else a merged one; the latest first."""
    for matching in ([p for p in pulls if p.state == "open"], [p for p in pulls if p.merged]):
        if matching:
            return max(matching, key=lambda p: p.updated_at).number
    return None


def _commit(doc: Mapping[str, Any], publisher: Publisher, target: CommitTarget,
            options: PublishOptions, out: TextIO) -> PublishResult:
    number = None
    if target.prefer_pull_request:
        try:
            number = choose_pull(publisher.pulls_for_commit(target.sha))
        except PublishError as err:  # the commit comment still works without the look-up
            out.write(f"warning: {err.diagnostics()}\n  commenting on the commit instead\n")
    if number is None:
        return _comment(doc, publisher, target, options, out)
    out.write(f"commit {target.sha[:12]} belongs to pull request #{number}; commenting there\n")
    return _comment(doc, publisher, PullRequestTarget(number), options, out)


def _issues(doc: Mapping[str, Any], publisher: Publisher, target: IssuesTarget,
            options: PublishOptions, out: TextIO) -> PublishResult:
    plans = plan_issues(doc, publisher.known_issues(), target, worklog_url=options.worklog_url)
    writes = [p for p in plans if p.action is not Action.SKIP and p.changed]
    if writes:
        publisher.ensure_labels(_labels(str(doc.get("service") or ""), writes))
    done: dict[Action, list[IssueRef]] = {a: [] for a in Action}
    skipped: list[str] = []
    errors: list[PublishError] = []
    for plan in plans:
        try:
            _carry_out(plan, publisher, done, skipped, out)
        except PublishError as err:
            errors.append(err)
            if _stops_everything(err):
                break
    return PublishResult(issues_created=tuple(done[Action.CREATE]),
                         issues_updated=tuple(done[Action.UPDATE]),
                         issues_reopened=tuple(done[Action.REOPEN]),
                         skipped=tuple(skipped), errors=tuple(errors),
                         read_only_fork=any(isinstance(e, ReadOnlyForkError) for e in errors))


def _carry_out(plan: IssuePlan, publisher: Publisher, done: dict[Action, list[IssueRef]],
               skipped: list[str], out: TextIO) -> None:
    label = f"{plan.cluster_id} ({plan.priority})"
    match plan.action:
        case Action.SKIP:
            skipped.append(f"{label}: {plan.note}")
            out.write(f"{label} left alone: {plan.note}\n")
        case Action.CREATE:
            ref = publisher.create_issue(plan)
            done[Action.CREATE].append(ref)
            out.write(f"{label} issue #{ref.number} opened: {ref.url}\n")
        case Action.UPDATE:
            ref = publisher.update_issue(plan)
            done[Action.UPDATE].append(ref)
            state = "updated" if plan.changed else "already up to date"
            out.write(f"{label} issue #{ref.number} {state}: {ref.url}\n")
        case Action.REOPEN:
            ref = publisher.update_issue(plan)
            done[Action.REOPEN].append(ref)
            out.write(f"{label} issue #{ref.number} reopened (regressed): {ref.url}\n")
        case _:
            assert_never(plan.action)


def _labels(service: str, writes: Sequence[IssuePlan]) -> list[LabelSpec]:
    specs: dict[str, LabelSpec] = {}
    for plan in writes:
        for spec in labels_for(service, plan.priority):
            specs.setdefault(spec.name, spec)
    return list(specs.values())


def _stops_everything(err: PublishError) -> bool:
    """Errors that would repeat for every other issue: auth, permission, rate limit, network."""
    cause = err.__cause__
    if isinstance(cause, GithubException):
        return cause.status in (401, 403, 404) or is_rate_limit(cause)
    return isinstance(cause, requests.exceptions.RequestException) or cause is None
