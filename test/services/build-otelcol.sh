#!/usr/bin/env bash
# Builds the test OpenTelemetry Collector from otel-collector/builder.yaml once per machine and reuses it.
#
#   bash test/services/build-otelcol.sh        # prints the binary path on stdout, logs on stderr
#
# Cache: ${PERF_MONITOR_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/perf-monitor-agent}/otelcol/<sha16>/otelcol-perf-monitor
# where <sha16> is the first 16 hex digits of sha256(builder.yaml). test/services/otelcol.ts computes the same path.
# A cold build takes minutes (Go module proxy + compile); a cached run takes milliseconds.
set -euo pipefail

BUILDER_MODULE='go.opentelemetry.io/collector/cmd/builder'
BUILDER_VERSION='v0.165.0'
BINARY_NAME='otelcol-perf-monitor'

log() { printf '[build-otelcol] %s\n' "$*" >&2; }
die() {
  log "ERROR: $*"
  exit 1
}

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$script_dir/../.." && pwd)"
manifest="$repo_root/otel-collector/builder.yaml"
[[ -f "$manifest" ]] || die "builder manifest not found: $manifest"

tools_dir="${PERF_MONITOR_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/perf-monitor-agent}"
sha16="$(sha256sum "$manifest" | cut -c1-16)"
cache_dir="$tools_dir/otelcol/$sha16"
binary="$cache_dir/$BINARY_NAME"

binary_works() { [[ -x "$binary" ]] && "$binary" components >/dev/null 2>&1; }

# Fast path: nothing to do.
if binary_works; then
  printf '%s\n' "$binary"
  exit 0
fi

mkdir -p "$cache_dir"

# Serialise concurrent builds for the same manifest (parallel CI jobs on one machine).
if command -v flock >/dev/null 2>&1; then
  exec 9>"$cache_dir/.lock"
  if ! flock -n 9; then
    log "another build holds $cache_dir/.lock; waiting"
    flock 9
  fi
  if binary_works; then
    log "built by a concurrent run"
    printf '%s\n' "$binary"
    exit 0
  fi
  # We hold the lock, so any build.* dir left here is from an interrupted run.
  rm -rf "$cache_dir"/build.*
fi

command -v go >/dev/null 2>&1 || die "go is not on PATH (need Go >= 1.26 to build the collector)"
export GOTOOLCHAIN=local # never download another Go toolchain
log "using $(go version)"

# Locate or install the builder (ocb). `go install` puts it in GOBIN, else the first GOPATH entry's bin/.
gobin="$(go env GOBIN)"
if [[ -z "$gobin" ]]; then
  gopath="$(go env GOPATH)"
  gobin="${gopath%%:*}/bin"
fi
builder="$gobin/builder"
builder_version() { "$1" version 2>&1 || true; } # prints e.g. "ocb version v0.165.0"
if [[ -x "$builder" && "$(builder_version "$builder")" != *"$BUILDER_VERSION"* ]]; then
  # A builder of another version is present: install ours beside the cache instead of replacing it.
  log "$builder is not $BUILDER_VERSION ($(builder_version "$builder")); using a private copy"
  gobin="$tools_dir/go-bin"
  builder="$gobin/builder"
fi
if [[ ! -x "$builder" ]]; then
  log "installing $BUILDER_MODULE@$BUILDER_VERSION into $gobin"
  mkdir -p "$gobin"
  GOBIN="$gobin" go install "$BUILDER_MODULE@$BUILDER_VERSION" >&2
fi

# Build in a fresh temp dir inside the cache dir (same filesystem, so the final mv is an atomic rename).
work_dir="$(mktemp -d "$cache_dir/build.XXXXXX")"
builder_pid=''
cleanup() {
  if [[ -n "$builder_pid" ]]; then
    # The builder runs in its own process group (set -m below): stop it and the `go build` it spawned.
    kill -TERM -- "-$builder_pid" 2>/dev/null || true
    wait "$builder_pid" 2>/dev/null || true
  fi
  rm -rf "$work_dir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

cp "$manifest" "$cache_dir/builder.yaml" # kept for reference: what this cache entry was built from
cp "$manifest" "$work_dir/builder.yaml"
log "building $BINARY_NAME from $manifest (sha $sha16) in $work_dir; a cold build takes several minutes"
start_s=$SECONDS
# TMPDIR inside work_dir: the builder's otelcol-distribution* dir and go's go-build* dir go away with it.
mkdir -p "$work_dir/tmp"
# In the background, so that INT/TERM are handled at once (bash defers traps until a foreground child exits).
set -m
(cd "$work_dir" && TMPDIR="$work_dir/tmp" exec "$builder" --config=builder.yaml) >&2 &
builder_pid=$!
set +m
if ! wait "$builder_pid"; then
  builder_pid=''
  die "builder failed (to see go's output: cd <dir with builder.yaml> && $builder --config=builder.yaml --verbose)"
fi
builder_pid=''

built="$work_dir/build/$BINARY_NAME"
[[ -x "$built" ]] || die "builder finished but $built is missing"
"$built" components >/dev/null || die "$built does not run"

mv -f "$built" "$binary" # atomic rename: the final path is either absent or a complete, working binary
log "built $binary in $((SECONDS - start_s)) s"
printf '%s\n' "$binary"
