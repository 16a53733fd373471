#!/usr/bin/env bash
# Fetches the test Neo4j (Community 5.26 LTS jars from Maven Central, test/services/neo4j/pom.xml) and
# compiles its launcher (test/services/neo4j/Neo4jLauncher.java), once per machine.
#
#   bash test/services/fetch-neo4j.sh        # prints the install dir on stdout, logs on stderr
#
# Install dir: ${PERF_MONITOR_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/perf-monitor-agent}/neo4j/<sha16>/
# with lib/*.jar and classes/Neo4jLauncher.class, where <sha16> is the first 16 hex digits of
# sha256(pom.xml + Neo4jLauncher.java). test/services/neo4j.ts computes the same path. Maven keeps its own
# download cache in ~/.m2, so a changed launcher recompiles without downloading again.
set -euo pipefail

log() { printf '[fetch-neo4j] %s\n' "$*" >&2; }
die() {
  log "ERROR: $*"
  exit 1
}

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
src_dir="$script_dir/neo4j"
pom="$src_dir/pom.xml"
launcher="$src_dir/Neo4jLauncher.java"
[[ -f "$pom" && -f "$launcher" ]] || die "missing $pom or $launcher"

tools_dir="${PERF_MONITOR_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/perf-monitor-agent}"
sha16="$(cat "$pom" "$launcher" | sha256sum | cut -c1-16)"
install_dir="$tools_dir/neo4j/$sha16"

if [[ -f "$install_dir/.complete" ]]; then
  printf '%s\n' "$install_dir"
  exit 0
fi

command -v java >/dev/null 2>&1 || die "java is not on PATH (need Java 17 or 21)"
command -v javac >/dev/null 2>&1 || die "javac is not on PATH (need a JDK 17 or 21)"
command -v mvn >/dev/null 2>&1 || die "mvn is not on PATH (apt-get install maven)"

mkdir -p "$tools_dir/neo4j"
exec 9>"$tools_dir/neo4j/.lock"
flock 9
if [[ -f "$install_dir/.complete" ]]; then
  printf '%s\n' "$install_dir"
  exit 0
fi

work_dir="$(mktemp -d "$tools_dir/neo4j/build.XXXXXX")"
trap 'rm -rf "$work_dir"' EXIT
start_s=$SECONDS
log "fetching Neo4j jars into $work_dir/lib (first run downloads ~120 MB from Maven Central)"
mvn -B -q -f "$pom" org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
  -DincludeScope=runtime -DoutputDirectory="$work_dir/lib" >&2 || die "mvn could not fetch the jars"
log "compiling the launcher"
javac -d "$work_dir/classes" -cp "$work_dir/lib/*" "$launcher" >&2 || die "javac failed"
touch "$work_dir/.complete"
rm -rf "$install_dir"
mv "$work_dir" "$install_dir"
trap - EXIT
log "ready in $install_dir ($((SECONDS - start_s)) s)"
printf '%s\n' "$install_dir"
