#!/usr/bin/env bash
# Starts Iceberg's reference REST catalog server (Java, from iceberg-open-api's
# test fixtures; jars by scripts/fetch_rck.sh) on HOST:PORT over a JdbcCatalog
# on SQLite, tables under WAREHOUSE. Prints "listening on http://HOST:PORT" on
# stdout once it serves (PORT 0: a free port, the line tells which); runs until
# killed (SIGTERM stops it).
#   scripts/rest_java_server.sh PORT WAREHOUSE [JDBC_URI [HOST]]
# JDBC_URI defaults to jdbc:sqlite:WAREHOUSE/java_catalog.db, HOST to 127.0.0.1.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
[ $# -ge 2 ] || { echo "usage: $0 PORT WAREHOUSE [JDBC_URI [HOST]]" >&2; exit 2; }
port=$1
mkdir -p "$2"
warehouse=$(cd "$2" && pwd)
uri=${3:-jdbc:sqlite:$warehouse/java_catalog.db}
host=${4:-127.0.0.1}
cp_file=$here/.venv/jars/rck/classpath.txt
[ -s "$cp_file" ] || bash "$here/scripts/fetch_rck.sh" >&2
# Only these CATALOG_* reach the server's catalog (it reads every CATALOG_* variable).
for v in $(env | grep -o '^CATALOG_[A-Za-z0-9_]*' || true); do unset "$v"; done
export CATALOG_URI=$uri CATALOG_WAREHOUSE=$warehouse
exec java -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
	-cp "$(paste -sd: "$cp_file")" "$here/scripts/RestJavaServer.java" "$host" "$port"
