"""Shared test setup: no credentials or metadata servers leak in from the machine running tests.

The network is off except loopback (pytest-socket, `--allow-hosts` in pyproject.toml). Here we
also make sure the Google libraries never find real credentials or probe a real metadata server.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "netra-backend-staging.json"

_LEAKY = ("GOOGLE_APPLICATION_CREDENTIALS", "GOOGLE_CLOUD_PROJECT", "GCLOUD_PROJECT",
          "CLOUDSDK_CORE_PROJECT", "GITHUB_TOKEN", "GH_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_URL",
          "ACTIONS_ID_TOKEN_REQUEST_TOKEN", "GITHUB_ACTIONS", "GITHUB_OUTPUT",
          "GITHUB_STEP_SUMMARY", "GITHUB_EVENT_PATH", "HTTPS_PROXY", "HTTP_PROXY")


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in _LEAKY:
        monkeypatch.delenv(name, raising=False)
    # Point ADC discovery and the GCE metadata probe at places that answer "no" at once.
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "gcloud"))
    monkeypatch.setenv("GCE_METADATA_HOST", "127.0.0.1:9")
    monkeypatch.setenv("GCE_METADATA_IP", "127.0.0.1:9")
    monkeypatch.setenv("NO_GCE_CHECK", "True")
