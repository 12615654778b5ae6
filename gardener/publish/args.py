"""The `gardener publish` flags, apart from what runs them: `gardener analyze` builds the whole
command line on every run, and must not import the publisher (dataclasses, PyGithub) to do so."""

from __future__ import annotations

import argparse

DEFAULT_API_URL = "https://api.github.com"
DEFAULT_MUTE_LABEL = "gardener:mute"


def add_publish_arguments(parser: argparse.ArgumentParser) -> None:
    """The `publish` subcommand's flags."""
    parser.add_argument("--worklog", required=True, metavar="OUT.json",
                        help="JSON worklog written by `gardener analyze --json`")
    parser.add_argument("--repo", metavar="OWNER/NAME",
                        help="repository to post to (default: $GITHUB_REPOSITORY)")
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--pr", type=int, metavar="N", help="sticky comment on pull request N")
    where.add_argument("--commit", metavar="SHA",
                       help="sticky comment on the commit, or on its pull request if it has one")
    where.add_argument("--issues", action="store_true",
                       help="one issue per cluster, deduplicated across runs")
    parser.add_argument("--min-priority", default="P3", metavar="P",
                        help="least urgent priority that gets an issue (default: P3, i.e. all "
                             "but P4)")
    parser.add_argument("--max-new-issues", type=int, default=10, metavar="N",
                        help="open at most N new issues per run (default: 10)")
    parser.add_argument("--mute-label", action="append", metavar="NAME",
                        help=f"a closed issue with this label is never reopened (default: "
                             f"{DEFAULT_MUTE_LABEL}; repeatable)")
    parser.add_argument("--marker-key", default="", metavar="KEY",
                        help="key of the sticky comment (default: the worklog's service)")
    parser.add_argument("--workflow", default=None, metavar="NAME",
                        help="workflow part of the comment key (default: $GITHUB_WORKFLOW)")
    parser.add_argument("--worklog-url", default=None, metavar="URL",
                        help="link to the full worklog (default: this run's page, from "
                             "$GITHUB_SERVER_URL/$GITHUB_REPOSITORY/actions/runs/$GITHUB_RUN_ID)")
    parser.add_argument("--write-interval", type=float, default=1.0, metavar="SECONDS",
                        help="pause between writes to GitHub (default: 1, as GitHub asks; lower "
                             "only where limits are relaxed, e.g. GitHub Enterprise Server)")
    parser.add_argument("--dry-run", action="store_true",
                        help="print exactly what would be posted; post nothing")
