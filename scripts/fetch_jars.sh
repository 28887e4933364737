#!/usr/bin/env bash
# The Java side of the Spark interop tests, from Maven Central, into
# .venv/jars (checked by size and SHA-1 against Maven Central's .sha1 files):
# the Iceberg Spark runtime, the SQLite JDBC driver for Iceberg's
# JdbcCatalog over firn's catalog.db, and Iceberg's AWS bundle (S3FileIO
# and the AWS SDK) for Spark on tables in S3.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
dir=$here/.venv/jars
mkdir -p "$dir"
base=https://repo1.maven.org/maven2
jars="org/apache/iceberg/iceberg-spark-runtime-3.5_2.12/1.10.1/iceberg-spark-runtime-3.5_2.12-1.10.1.jar
org/xerial/sqlite-jdbc/3.53.4.0/sqlite-jdbc-3.53.4.0.jar
org/apache/iceberg/iceberg-aws-bundle/1.10.1/iceberg-aws-bundle-1.10.1.jar"
for j in $jars; do
    name=$(basename "$j")
    [ -s "$dir/$name" ] && continue
    echo "fetch_jars: $name"
    curl -sSfL --retry 3 -o "$dir/$name.part" "$base/$j"
    want=$(curl -sSfL --retry 3 "$base/$j.sha1" | cut -c1-40)
    got=$(sha1sum "$dir/$name.part" | cut -c1-40)
    [ "$want" = "$got" ] || { echo "fetch_jars: $name: SHA-1 mismatch" >&2; rm -f "$dir/$name.part"; exit 1; }
    mv "$dir/$name.part" "$dir/$name"
done
