#!/usr/bin/env bash
# Build the action's image without a Docker engine (buildah on a debootstrapped Debian base, see
# the "daemonless" notes in docs/action.md), then measure its size and start-up time and run the
# entrypoint inside it against local fake Google and GitHub servers.
#
# Usage: bench/image.sh [--build-only] [--worktree] [--runs N]
#   --worktree           build the working tree as it is (default: the committed HEAD, exported
#                        with git archive, so half-finished files never reach the image)
#   WORK=/tmp/lg-image   cache for the rootfs and the exported archive (kept between runs)
#   REBUILD_BASE=1       redo debootstrap and the base image
# Needs root (apt-get, debootstrap, chroot isolation). Prints one "key: value" line per number.
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
work="${WORK:-/tmp/lg-image}"
runs=10
build_only=0
worktree=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build-only) build_only=1 ;;
    --worktree) worktree=1 ;;
    --runs) runs="$2"; shift ;;
    *) echo "usage: $0 [--build-only] [--worktree] [--runs N]" >&2; exit 2 ;;
  esac
  shift
done

# vfs + chroot: the only storage driver and isolation that work without a daemon, overlayfs or
# user namespaces here. Every buildah call must use the same storage driver to see the images.
export STORAGE_DRIVER=vfs BUILDAH_ISOLATION=chroot
base_image=localhost/gardener-base:bookworm
image=localhost/log-gardener:dev
mkdir -p "$work"

need() { command -v "$1" >/dev/null 2>&1; }
if ! need buildah || ! need debootstrap; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq buildah debootstrap >/dev/null
fi

seconds() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(seconds)" 'BEGIN { printf "%.1f", b - a }'; }

# 1. A Debian base with a Python interpreter, standing in for python:3.12-slim (no registry here).
if [[ "${REBUILD_BASE:-0}" == 1 ]]; then
  rm -rf "$work/rootfs"
  buildah rmi -f "$base_image" >/dev/null 2>&1 || true
fi
if [[ ! -x "$work/rootfs/usr/bin/python3" ]]; then
  t0=$(seconds)
  rm -rf "$work/rootfs"
  debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
    bookworm "$work/rootfs" http://deb.debian.org/debian >"$work/debootstrap.log" 2>&1
  # apt lists and caches are not part of a slim base image.
  rm -rf "$work/rootfs/var/lib/apt/lists/"* "$work/rootfs/var/cache/apt/"*
  echo "debootstrap_seconds: $(elapsed "$t0")"
fi
if ! buildah inspect --type image "$base_image" >/dev/null 2>&1; then
  ctr=$(buildah from scratch)
  buildah add --quiet "$ctr" "$work/rootfs" / >/dev/null
  buildah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --cmd python3 "$ctr"
  buildah commit --quiet "$ctr" "$base_image" >/dev/null
  buildah rm "$ctr" >/dev/null
fi

# 2. The Dockerfile itself, unchanged, with only BASE overridden. pip inside RUN needs the host's
# CA bundle; --layers=false so each measurement is of a full build.
context="$here"
if [[ "$worktree" == 0 ]]; then
  context="$work/context"
  rm -rf "$context" && mkdir -p "$context"
  git -C "$here" archive HEAD | tar -x -C "$context"
  echo "context: HEAD $(git -C "$here" rev-parse --short HEAD)"
fi
t0=$(seconds)
buildah bud --quiet --layers=false --pull-never \
  --build-arg BASE="$base_image" \
  -v /etc/ssl/certs/ca-certificates.crt:/etc/ssl/certs/ca-certificates.crt:ro \
  -f "$context/Dockerfile" -t "$image" "$context" >"$work/build.log" 2>&1 \
  || { tail -40 "$work/build.log" >&2; exit 1; }
echo "build_seconds: $(elapsed "$t0")"

# 3. Size: the image, the base it was built on, and so what our stage adds on top of any base.
size_of() { buildah images --noheading --format '{{.Size}}' "$1" | head -1; }
rm -f "$work/image.tar" "$work/base.tar"
buildah push --quiet "$image" "docker-archive:$work/image.tar:$image" >/dev/null
buildah push --quiet "$base_image" "docker-archive:$work/base.tar:$base_image" >/dev/null
image_bytes=$(stat -c %s "$work/image.tar")
base_bytes=$(stat -c %s "$work/base.tar")
gz_bytes=$(gzip -1 -c "$work/image.tar" | wc -c)
echo "image_size: $(size_of "$image") (archive $((image_bytes / 1000000)) MB, gzip $((gz_bytes / 1000000)) MB)"
echo "base_size: $(size_of "$base_image") (archive $((base_bytes / 1000000)) MB)"
echo "added_by_gardener_mb: $(((image_bytes - base_bytes) / 1000000))"
ctr=$(buildah from --pull-never "$image")
trap 'buildah rm "$ctr" >/dev/null 2>&1 || true' EXIT
echo "image_user: $(buildah inspect --format '{{.OCIv1.Config.User}}' "$ctr")"
# Nothing to build or install with in the final image.
for tool in pip pip3 gcc cc make; do
  if buildah run "$ctr" -- sh -c "command -v $tool" >/dev/null 2>&1; then
    echo "unexpected build tool in image: $tool" >&2; exit 1
  fi
done
[[ "$build_only" == 1 ]] && exit 0

# 4. Start-up: the entrypoint in the image up to a strict-input error (interpreter start, imports
# of gardener.action and the publisher, parsing, outputs), against the same on the host's venv.
# The buildah run overhead (setting up the chroot) is measured with `true` and subtracted.
python="$here/.venv/bin/python"
median_ms() {  # median wall time of N runs of "$@", in ms (a non-zero exit is expected)
  local times=() i t0
  for ((i = 0; i < runs; i++)); do
    t0=$(date +%s%N); "$@" >/dev/null 2>&1 || true; times+=($((($(date +%s%N) - t0) / 1000000)))
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'
}
entry=(/opt/gardener/bin/python /opt/gardener/entrypoint.py)
bad=(-e INPUT_PROJECT_ID=p-1 -e INPUT_SERVICE=s -e INPUT_DRY_RUN=perhaps)
code=0; buildah run --user 1001:1001 "${bad[@]}" "$ctr" -- "${entry[@]}" >/dev/null 2>&1 || code=$?
[[ "$code" == 2 ]] || { echo "expected exit 2 for a bad input, got $code" >&2; exit 1; }
overhead=$(median_ms buildah run "$ctr" -- true)
image_ms=$(median_ms buildah run --user 1001:1001 "${bad[@]}" "$ctr" -- "${entry[@]}")
import_ms=$(median_ms buildah run "$ctr" -- /opt/gardener/bin/python -c "import gardener.cli")
host_ms=$(median_ms env INPUT_PROJECT_ID=p-1 INPUT_SERVICE=s INPUT_DRY_RUN=perhaps \
          "$python" "$here/entrypoint.py")
echo "buildah_run_overhead_ms: $overhead (median of $runs)"
echo "startup_to_input_error_ms: $((image_ms - overhead)) in the image, $host_ms on the host venv"
echo "import_whole_pipeline_ms: $((import_ms - overhead)) in the image"
awk -v a="$((image_ms - overhead))" -v b="$host_ms" 'BEGIN { printf "startup_ratio_image_vs_host: %.2f\n", a / b }'

# 5. The entrypoint in the image against the fake Google and GitHub servers (the host's test
# environment starts them on 127.0.0.1): a P0 deploy, a healthy one, and a bad input.
t0=$(seconds)
GARDENER_IMAGE_RUN="buildah run --network host --user 1001:1001 {opts} $ctr -- ${entry[*]}" \
  "$python" -m pytest -q "$here/tests/test_action_image.py"
echo "image_e2e_seconds: $(elapsed "$t0")"
