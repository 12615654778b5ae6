# syntax=docker/dockerfile:1
# Log Gardener as a GitHub container action: `runs.image: Dockerfile` in action.yml builds this.
# BASE stays overridable so the daemonless route in bench/image.sh can build on a local base;
# GitHub's runner builds the default, python:3.12-slim.
ARG BASE=python:3.12-slim

# ---- build: a virtualenv filled only from the pinned, hashed lock file -------------------------
FROM ${BASE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_NO_INPUT=1
RUN python3 -m venv /opt/gardener
COPY requirements.lock /tmp/requirements.lock
# --require-hashes: every file must match the lock; --only-binary: nothing is compiled here, so no
# compiler is needed in either stage; --no-deps: the lock is the whole closure, nothing sneaks in.
RUN /opt/gardener/bin/python -m pip install --require-hashes --only-binary=:all: --no-deps \
        -r /tmp/requirements.lock
# The package is copied rather than built: building would need setuptools (unhashed) in the image.
COPY gardener /tmp/src/gardener
COPY entrypoint.py /opt/gardener/entrypoint.py
# Byte-compiled with unchecked-hash: the .pyc files are trusted as built, so start-up never
# re-reads sources to validate them (the image is immutable anyway).
RUN site="$(/opt/gardener/bin/python -c 'import sysconfig; print(sysconfig.get_path("purelib"))')" \
 && cp -r /tmp/src/gardener "$site/gardener" \
 && /opt/gardener/bin/python -m pip uninstall --yes pip \
 && find /opt/gardener -name '__pycache__' -type d -prune -exec rm -rf {} + \
 && /opt/gardener/bin/python -m compileall -q -j 0 --invalidation-mode unchecked-hash /opt/gardener

# ---- runtime: the base interpreter plus the virtualenv, run as a non-root user -----------------
FROM ${BASE}
# uid 1001 is the `runner` user of GitHub-hosted runners, which owns the workspace and the
# GITHUB_OUTPUT / GITHUB_STEP_SUMMARY files mounted into the container, so a non-root user can
# still write them. pip from the base image is removed: nothing installs anything at run time.
RUN groupadd --gid 1001 gardener \
 && useradd --uid 1001 --gid 1001 --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin gardener \
 && if python3 -m pip --version >/dev/null 2>&1; then \
        python3 -m pip uninstall --yes --root-user-action=ignore pip; fi
COPY --from=build /opt/gardener /opt/gardener
ENV PATH=/opt/gardener/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
USER 1001:1001
ENTRYPOINT ["/opt/gardener/bin/python", "/opt/gardener/entrypoint.py"]
