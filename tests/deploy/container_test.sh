#!/usr/bin/env bash
# Builds the attnserve image with podman (offline: the base image comes from
# scripts/make-base-image.sh, nothing is pulled) and runs it with a read-only
# root and no tmpfs (as deploy/k8s runs it): waits until its gRPC health is
# SERVING, classifies the demo samples through the published port with the
# host's attnctl, scrapes /metrics, checks the image's HEALTHCHECK, its
# environment settings and a mounted /models repository, then stops the
# container and expects a drained exit 0.
#
#   tests/deploy/container_test.sh [--attnctl PATH] [--keep] [SOURCE_DIR]
#
# SOURCE_DIR (default: this checkout) is the build context. --attnctl defaults to
# SOURCE_DIR/build/client/attnctl. The image is tagged $ATTNSERVE_IMAGE
# (default localhost/attnserve:latest) and kept, so later builds reuse its
# layers; --keep also keeps the containers. Base image: $BASE_IMAGE (default
# localhost/debian:bookworm). Exit 77 (ctest: skipped) where podman is missing
# or cannot run containers.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source_dir=$(cd "$here/../.." && pwd)
attnctl=""
keep=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --attnctl) attnctl=$2; shift 2 ;;
    --attnctl=*) attnctl=${1#*=}; shift ;;
    --keep) keep=1; shift ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "container_test: unknown option $1" >&2; exit 2 ;;
    *) source_dir=$(cd "$1" && pwd); shift ;;
  esac
done
attnctl=${attnctl:-$source_dir/build/client/attnctl}
image=${ATTNSERVE_IMAGE:-localhost/attnserve:latest}
base_image=${BASE_IMAGE:-localhost/debian:bookworm}
samples=$source_dir/client/samples/demo.json

start_time=$(date +%s)
phase_start=$start_time
say() { echo "container_test: $*"; }
phase() {  # phase NAME: reports the time the previous phase took
  local now; now=$(date +%s)
  say "[$((now - phase_start)) s] $*"
  phase_start=$now
}
die() { echo "container_test: FAILED: $*" >&2; exit 1; }
skip() { echo "container_test: SKIPPED: $*" >&2; exit 77; }

# --- podman available? ---------------------------------------------------------
command -v podman >/dev/null || skip "podman is not installed (Debian: apt-get install podman runc; see docs/deploy.md)"
if ! info=$(podman info --format '{{.Host.OCIRuntime.Name}}' 2>&1); then
  skip "podman cannot run here: $info"
fi
[[ -x "$attnctl" ]] || die "attnctl not found at $attnctl (cmake --build build --target attnctl, or --attnctl PATH)"
# podman here needs runc and explicit ulimits (docs/deploy.md, "Containers").
run_opts=(--ulimit nofile=4096:4096 --ulimit nproc=4096:4096)
if command -v runc >/dev/null; then run_opts+=(--runtime runc); fi

containers=()
cleanup() {
  local status=$?
  if [[ $keep -eq 0 ]]; then
    for c in "${containers[@]}"; do podman rm -f -t 0 "$c" >/dev/null 2>&1 || true; done
  fi
  exit $status
}
trap cleanup EXIT

dump_logs() {
  echo "---- podman logs $1" >&2
  podman logs "$1" 2>&1 | tail -40 >&2 || true
  echo "----" >&2
}

# Waits (bounded) until attnctl health answers SERVING on 127.0.0.1:$2.
wait_serving() {  # wait_serving CONTAINER PORT
  local deadline=$(( $(date +%s) + 90 ))
  until "$attnctl" health --server "127.0.0.1:$2" --timeout_ms 1000 >/dev/null 2>&1; do
    if [[ "$(podman inspect --format '{{.State.Running}}' "$1" 2>/dev/null)" != "true" ]]; then
      dump_logs "$1"; die "container $1 exited before serving"
    fi
    if [[ $(date +%s) -ge $deadline ]]; then
      dump_logs "$1"; die "container $1 not SERVING on port $2 within 90 s"
    fi
    sleep 0.5
  done
}

host_port() {  # host_port CONTAINER CONTAINER_PORT -> published host port
  podman port "$1" "$2/tcp" | sed -n '1s/.*://p'
}

# Stops a container (SIGTERM, then up to 20 s) and expects attnserve to drain and exit 0.
stop_drained() {  # stop_drained CONTAINER
  podman stop -t 20 "$1" >/dev/null
  local code; code=$(podman inspect --format '{{.State.ExitCode}}' "$1")
  if [[ "$code" != "0" ]]; then dump_logs "$1"; die "$1 exited with $code after podman stop, not 0"; fi
  local logs; logs=$(podman logs "$1" 2>&1)
  [[ "$logs" == *"received SIGTERM; draining"* ]] || { dump_logs "$1"; die "$1: no drain on SIGTERM"; }
  [[ "$logs" == *"stopped"* ]] || { dump_logs "$1"; die "$1 did not report stopped"; }
}

# --- base image, then the image ---------------------------------------------------
if ! podman image exists "$base_image"; then
  say "base image $base_image missing: making it (scripts/make-base-image.sh)"
  "$source_dir/scripts/make-base-image.sh" "$base_image" || die "could not make $base_image"
fi
phase "building $image from $source_dir (podman build, offline)"
podman build --pull=never --isolation=chroot --format docker \
  --build-arg "BASE_IMAGE=$base_image" -t "$image" -f "$source_dir/Dockerfile" "$source_dir" \
  || die "podman build failed"
size=$(podman image inspect --format '{{.Size}}' "$image")
phase "built $image: $size bytes ($(( (size + 500000) / 1000000 )) MB)"

user=$(podman image inspect --format '{{.Config.User}}' "$image")
[[ -n "$user" && "${user%%:*}" != "0" && "${user%%:*}" != "root" ]] || die "image runs as root (USER '$user')"
healthcheck=$(podman image inspect --format '{{.Config.Healthcheck}}' "$image")
[[ "$healthcheck" == *health* ]] || die "image has no HEALTHCHECK (built without --format docker?)"

# --- run: demo repository, settings from the environment and from flags -----------
name=attnserve-test-$$
containers+=("$name")
podman run -d --name "$name" "${run_opts[@]}" --read-only --read-only-tmpfs=false \
  -p 127.0.0.1::8500 -p 127.0.0.1::8502 \
  -e ATTNSERVE_WORKERS=1 -e ATTNSERVE_SHUTDOWN_GRACE_S=5 \
  "$image" --max_batch_size=16 >/dev/null || die "podman run failed"
grpc_port=$(host_port "$name" 8500)
metrics_port=$(host_port "$name" 8502)
[[ -n "$grpc_port" && -n "$metrics_port" ]] || die "ports not published"
phase "started $name (gRPC on 127.0.0.1:$grpc_port, metrics on 127.0.0.1:$metrics_port)"
wait_serving "$name" "$grpc_port"
phase "SERVING (attnctl health)"

logs=$(podman logs "$name" 2>&1)
command_line=$(grep '^attnserve-entrypoint: attnserve ' <<<"$logs" || true)
for expected in --workers=1 --shutdown_grace_s=5 --max_batch_size=16 \
                --model_repository=/opt/attnserve/models; do
  [[ "$command_line" == *"$expected"* ]] || die "entrypoint did not pass $expected: $command_line"
done
[[ "$(podman exec "$name" id -u)" != "0" ]] || die "attnserve runs as root"

podman healthcheck run "$name" >/dev/null 2>&1 || {
  podman healthcheck run "$name" || true; die "the image's HEALTHCHECK fails on a serving container"; }
phase "image HEALTHCHECK healthy; runs as uid $(podman exec "$name" id -u)"

out=$("$attnctl" classify --model demo --input "$samples" --server "127.0.0.1:$grpc_port") \
  || { echo "$out"; die "classify through the published port failed"; }
head -3 <<<"$out"
[[ "$out" == *"demo version 1:"* ]] || die "unexpected classify output"
[[ "$out" == *"✓"* && "$out" != *"✗"* ]] || { echo "$out"; die "wrong labels from the container"; }
phase "classified $samples through 127.0.0.1:$grpc_port"

metrics=$(curl -fsS --max-time 5 "http://127.0.0.1:$metrics_port/metrics") || die "GET /metrics failed"
requests=$(grep '^attnserve_requests_total{' <<<"$metrics" | grep 'model="demo"' | grep 'code="OK"' || true)
[[ -n "$requests" ]] || die "attnserve_requests_total{model=\"demo\",code=\"OK\"} missing from /metrics"
[[ "$requests" =~ \ ([1-9][0-9]*)(\.0+)?$ ]] || die "attnserve_requests_total is not counting: $requests"
phase "scraped /metrics: $requests"

stop_drained "$name"
phase "podman stop: drained and exited 0"

# --- a user repository mounted at /models is served instead of the demo -----------
name2=attnserve-test-models-$$
containers+=("$name2")
podman run -d --name "$name2" "${run_opts[@]}" --read-only -p 127.0.0.1::8500 \
  -v "$source_dir/models:/models:ro" "$image" >/dev/null || die "podman run (with /models) failed"
port2=$(host_port "$name2" 8500)
wait_serving "$name2" "$port2"
logs=$(podman logs "$name2" 2>&1)
[[ "$logs" == *"--model_repository=/models "* && "$logs" == *"ready from /models"* ]] \
  || { dump_logs "$name2"; die "a repository mounted at /models was not chosen"; }
models=$("$attnctl" models --server "127.0.0.1:$port2") || die "attnctl models failed"
[[ "$models" == *demo* ]] || die "models from /models not listed: $models"
stop_drained "$name2"
phase "mounted /models served, drained"

say "PASSED in $(( $(date +%s) - start_time )) s; image $image is $size bytes"
