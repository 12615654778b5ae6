"""The built image's entrypoint, run the way the runner runs a container action, against the local
fake Google and GitHub servers: mounted workspace, event and file-command files, a non-root user.

Skipped unless GARDENER_IMAGE_RUN says how to run the image, with `{opts}` where the `-e`/`-v`
options go, e.g. `docker run --rm --network host {opts} log-gardener:ci`, or (bench/image.sh)
`buildah run --network host --user 1001:1001 {opts} CONTAINER -- /opt/gardener/bin/python
/opt/gardener/entrypoint.py`. The servers listen on 127.0.0.1, so the container shares the host's
network; a refusing proxy stops anything in it from reaching further.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path

import pytest

from tests.fakes.action import HEAD, Job, example_entries, healthy_entries, prepare
from tests.fakes.github import FakeGitHub, fake_github
from tests.fakes.google import FakeGoogle, fake_google, loopback_only

__all__ = ["fake_github", "fake_google", "loopback_only"]  # fixtures, imported for pytest

TEMPLATE = os.environ.get("GARDENER_IMAGE_RUN", "")
pytestmark = pytest.mark.skipif(not TEMPLATE, reason="GARDENER_IMAGE_RUN is not set: no image "
                                "to run (bench/image.sh and CI's image job set it)")
MOUNTS = {"workspace": "/github/workspace", "runner": "/github/file_commands"}
"""Host folder (under the test's tmp dir) -> where the runner mounts it in the container."""


def in_container(job: Job, tmp: Path) -> tuple[list[str], dict[str, str]]:
    """`-e`/`-v` options for the job, with host paths rewritten to the runner's mount points."""
    env = dict(job.env)
    for name, inside in MOUNTS.items():
        outside = str(tmp / name)
        env = {k: v.replace(outside, inside) for k, v in env.items()}
    env.update(GITHUB_WORKSPACE=MOUNTS["workspace"], HOME="/tmp",
               # Nothing in the container may leave the machine: a refusing proxy for everything
               # but loopback, and no metadata server to probe.
               HTTPS_PROXY="http://127.0.0.1:9", HTTP_PROXY="http://127.0.0.1:9",
               NO_PROXY="127.0.0.1,localhost,::1", GCE_METADATA_HOST="127.0.0.1:9",
               GCE_METADATA_IP="127.0.0.1:9", NO_GCE_CHECK="True")
    opts: list[str] = []
    for name, inside in MOUNTS.items():
        os.chmod(tmp / name, 0o777)  # the image runs as uid 1001, like the hosted runner's user
        for path in (tmp / name).rglob("*"):
            os.chmod(path, 0o777 if path.is_dir() else 0o666)
        opts += ["-v", f"{tmp / name}:{inside}"]
    for key, value in sorted(env.items()):
        opts += ["-e", f"{key}={value}"]
    return opts, env


def run_image(job: Job, tmp: Path) -> Job:
    opts, env = in_container(job, tmp)
    words = shlex.split(TEMPLATE)
    at = words.index("{opts}")
    command = [*words[:at], *opts, *words[at + 1:]]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    job.code, job.stdout = done.returncode, done.stdout + done.stderr
    for key in ("GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY"):  # read back through the host path
        job.env[key] = env[key].replace(MOUNTS["runner"], str(tmp / "runner"))
    return job


def test_p0_deploy_in_the_image(tmp_path: Path, fake_google: FakeGoogle,
                                fake_github: FakeGitHub) -> None:
    fake_google.set_entries(example_entries())
    job = run_image(prepare(tmp_path, fake_google, fake_github, "pull_request"), tmp_path)
    assert job.code == 1, job.stdout
    assert job.outputs["verdict"] == "fail" and job.outputs["max_priority"] == "P0"
    assert "/pull/" in job.outputs["comment_url"]
    assert (tmp_path / "workspace" / job.outputs["worklog_json"]).is_file()
    pinned = [a for a in job.annotations("error") if a.get("file") == "netra_backend/app/smd.py"]
    assert pinned, job.stdout
    assert job.summary.startswith("## ❌ Log Gardener: fail (exit code 1)")


def test_healthy_deploy_in_the_image(tmp_path: Path, fake_google: FakeGoogle,
                                     fake_github: FakeGitHub) -> None:
    fake_google.set_entries(healthy_entries())
    pr = fake_github.add_pull(head_sha=HEAD, state="closed", merged=True)
    job = run_image(prepare(tmp_path, fake_google, fake_github, "push"), tmp_path)
    assert job.code == 0, job.stdout
    assert job.outputs["verdict"] == "pass"
    assert len(fake_github.issue_comments(pr)) == 1


def test_bad_input_in_the_image(tmp_path: Path, fake_google: FakeGoogle,
                                fake_github: FakeGitHub) -> None:
    job = run_image(prepare(tmp_path, fake_google, fake_github, "push", window="soon"), tmp_path)
    assert job.code == 2 and job.outputs["verdict"] == "error"
    assert fake_google.calls == []
