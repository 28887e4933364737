#!/usr/bin/env bash
# Runs the Iceberg REST Compatibility Kit (RESTCompatibilityKitSuite of
# iceberg-open-api 1.11.0; jars by scripts/fetch_rck.sh) against the REST
# catalog at URI, by JUnit's console launcher, without Gradle.
#   scripts/run_rck.sh URI WAREHOUSE [REPORT_DIR [-Dkey=value ...]]
# WAREHOUSE is the warehouse the client asks the server for. Extra -D options go
# to the suite: its client takes every system property as a catalog property
# (e.g. -Drck.requires-namespace-create=true, -Drck.supports-serverside-retry=false,
# -Dtoken=T). Outside Gradle nothing strips the "rck." prefix, so the suite's own
# settings keep it (rck.local=false: use the server at URI, start none).
# Prints the launcher's summary and the failed tests; the whole log (one line
# per test) and the XML reports stay in REPORT_DIR (default: a temporary one).
# Exits 0 when no test failed and some test succeeded.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
[ $# -ge 2 ] || { echo "usage: $0 URI WAREHOUSE [REPORT_DIR [-Dkey=value ...]]" >&2; exit 2; }
uri=$1 warehouse=$2
reports=${3:-$(mktemp -d /tmp/firn-rck.XXXXXX)}
shift $(($# < 3 ? $# : 3))
mkdir -p "$reports"
cp_file=$here/.venv/jars/rck/classpath.txt
[ -s "$cp_file" ] || bash "$here/scripts/fetch_rck.sh" >&2
log=$reports/rck.log
start=$(date +%s)
rc=0
# RCK_TIMEOUT bounds the run: the suite against Java's server takes about a minute.
timeout "${RCK_TIMEOUT:-900}" java -Drck.local=false -Duri="$uri" -Dwarehouse="$warehouse" "$@" \
	-Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
	-cp "$(paste -sd: "$cp_file")" org.junit.platform.console.ConsoleLauncher execute \
	--disable-banner --disable-ansi-colors --details=tree --fail-if-no-tests \
	--exclude-engine=junit-vintage \
	--select-class org.apache.iceberg.rest.RESTCompatibilityKitSuite \
	--reports-dir "$reports" >"$log" 2>&1 || rc=$?
echo "run_rck: $uri in $(( $(date +%s) - start )) s; log and reports in $reports"
grep -E '✘' "$log" | sed 's/^[│ ]*[├└]─ /  failed: /' || true
grep -E '^\[ +[0-9]+ (tests|containers) [a-z]+ +\]$' "$log" || { tail -20 "$log"; }
ok=$(sed -nE 's/^\[ +([0-9]+) tests successful +\]$/\1/p' "$log")
failed=$(sed -nE 's/^\[ +([0-9]+) tests failed +\]$/\1/p' "$log")
[ "$rc" -eq 0 ] && [ "${failed:-1}" -eq 0 ] && [ "${ok:-0}" -gt 0 ] && exit 0
echo "run_rck: FAILED (launcher exit $rc)" >&2
exit 1
