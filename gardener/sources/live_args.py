"""The Cloud Logging flags of `gardener analyze`, and their defaults.

Kept apart from the reader so that building the command line never imports the Google client
libraries (a second of start-up) unless Cloud Logging is actually read.
"""

from __future__ import annotations

from typing import Any, Protocol

DEFAULT_MAX_ENTRIES = 5_000
"""Default `--max-entries`: five full pages, a small share of the ~60 reads/minute quota."""

DEFAULT_LOGGING_ENDPOINT = "https://logging.googleapis.com"
DEFAULT_STS_ENDPOINT = "https://sts.googleapis.com"
DEFAULT_IAM_ENDPOINT = "https://iamcredentials.googleapis.com"
DEFAULT_SINCE = "1h"
DEFAULT_RETRY_DEADLINE_S = 120.0
ENDPOINT_ENV = {"logging": "GARDENER_LOGGING_ENDPOINT", "sts": "GARDENER_STS_ENDPOINT",
                "iam": "GARDENER_IAM_ENDPOINT"}
API_VERSION = {"logging": "/v2", "sts": "/v1", "iam": "/v1"}
"""The path each endpoint's callers append to its base URL (`/v2/entries:list`, `/v1/token`)."""


class _ArgumentContainer(Protocol):
    """An `argparse` parser or argument group."""

    def add_argument(self, *args: Any, **kwargs: Any) -> Any: ...


def add_live_arguments(parser: _ArgumentContainer) -> None:
    """Add the Cloud Logging flags (`--project` switches the source on)."""
    add = parser.add_argument
    add("--project", metavar="PROJECT_ID", help="read Cloud Logging in this project "
        "(instead of --input)")
    add("--service", metavar="NAME", help="Cloud Run service (resource.type=cloud_run_revision)")
    add("--revision", metavar="NAME", help="only this Cloud Run revision")
    add("--gke-cluster", metavar="NAME", help="GKE cluster (resource.type=k8s_container)")
    add("--namespace", metavar="NAME", help="GKE namespace")
    add("--container", metavar="NAME", help="GKE container name")
    add("--selector", metavar="SELECTOR", help="Kubernetes label selector on pod labels, e.g. "
        "'app=web,tier!=db'")
    add("--since", metavar="DURATION", help=f"window back from now: 30m, 1h, 2h30m, 1d "
        f"(default {DEFAULT_SINCE})")
    add("--start", metavar="TIME", help="window start, RFC 3339 (2025-09-15T23:46:21Z)")
    add("--end", metavar="TIME", help="window end, RFC 3339, with --start or --deployed-at "
        "(default: now)")
    add("--deployed-at", metavar="TIME", help="RFC 3339 time of the deploy: read from then until "
        "--end (default: now), and compare with the window of the same length before it "
        "(instead of --since/--start)")
    add("--filter", dest="extra_filter", metavar="QUERY",
        help="a Cloud Logging query ANDed with the rest")
    add("--min-severity", metavar="LEVEL", help="lowest severity read (DEBUG ... EMERGENCY; "
        "default: all)")
    add("--max-entries", metavar="N", help=f"most entries read, WARNING and above first "
        f"(default {DEFAULT_MAX_ENTRIES:,})")
    add("--retry-deadline", metavar="DURATION", help="how long to keep retrying a page that "
        f"fails with 429/5xx (default {DEFAULT_RETRY_DEADLINE_S:.0f}s)")
    add("--workload-identity-provider", metavar="NAME", help="authenticate with Workload "
        "Identity Federation from the job's GitHub OIDC token; NAME is the provider's full name "
        "(projects/NUMBER/.../providers/ID)")
    add("--service-account", metavar="EMAIL", help="service account to impersonate")
    for name, what, default in (
            ("logging", "Cloud Logging", DEFAULT_LOGGING_ENDPOINT),
            ("sts", "Security Token Service", DEFAULT_STS_ENDPOINT),
            ("iam", "IAM Service Account Credentials", DEFAULT_IAM_ENDPOINT)):
        add(f"--{name}-endpoint", metavar="URL", help=f"{what} base URL, scheme and host only "
            f"(a copied {API_VERSION[name]} is dropped; env {ENDPOINT_ENV[name]}; "
            f"default {default})")
