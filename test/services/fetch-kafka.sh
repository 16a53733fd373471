#!/usr/bin/env bash
# Fetches the jars of a Kafka KRaft broker (test/services/kafka/pom.xml) from Maven Central once per machine.
#
#   bash test/services/fetch-kafka.sh      # prints the lib directory on stdout, logs on stderr
#
# Cache: ${PERF_MONITOR_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/perf-monitor-agent}/kafka/<sha16>/lib
# where <sha16> is the first 16 hex digits of sha256(pom.xml). test/services/kafka.ts computes the same path.
set -euo pipefail

log() { printf '[fetch-kafka] %s\n' "$*" >&2; }

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
pom="$script_dir/kafka/pom.xml"
tools_dir="${PERF_MONITOR_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/perf-monitor-agent}"
sha16="$(sha256sum "$pom" | cut -c1-16)"
lib="$tools_dir/kafka/$sha16/lib"

if [[ -f "$lib/.complete" ]]; then
  printf '%s\n' "$lib"
  exit 0
fi

command -v java >/dev/null || { log 'ERROR: java (17+) is needed for the Kafka broker'; exit 1; }
command -v mvn >/dev/null || { log 'ERROR: mvn is needed to fetch the Kafka jars'; exit 1; }

rm -rf "$lib.tmp"
mkdir -p "$lib.tmp"
log "fetching Kafka broker jars into $lib"
mvn -B -q -f "$pom" org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
  -DincludeScope=runtime -DoutputDirectory="$lib.tmp" >&2
touch "$lib.tmp/.complete"
rm -rf "$lib"
mv "$lib.tmp" "$lib"
printf '%s\n' "$lib"
