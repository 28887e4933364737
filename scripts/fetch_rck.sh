#!/usr/bin/env bash
# The Iceberg REST Compatibility Kit (RCK) and Java's reference REST catalog
# server, from Maven Central, into .venv/jars/rck (checked by size and SHA-1
# against Maven Central's .sha1 files), to be run without Gradle:
#   - RESTCompatibilityKitSuite (iceberg-open-api tests jar) with the catalog
#     tests it extends (iceberg-core and iceberg-api tests jars), run by
#     JUnit's console launcher: scripts/run_rck.sh;
#   - RESTCatalogServer (iceberg-open-api test-fixtures jar) on Jetty over a
#     JdbcCatalog on SQLite: scripts/rest_java_server.sh.
# The list is the runtime closure of those classes, versions as Iceberg 1.11.0
# pins them (gradle/libs.versions.toml), found from the POMs and by running both;
# Hadoop's Configuration is there because RCKUtils and RESTCatalogServer build
# one, and only its few dependencies that loading it needs.
# Each line: group:artifact:version[:classifier].
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
dir=$here/.venv/jars/rck
mkdir -p "$dir"
base=https://repo1.maven.org/maven2
ice=1.11.0
jetty=12.1.8
artifacts="org.apache.iceberg:iceberg-open-api:$ice:tests
org.apache.iceberg:iceberg-open-api:$ice:test-fixtures
org.apache.iceberg:iceberg-core:$ice:tests
org.apache.iceberg:iceberg-api:$ice:tests
org.apache.iceberg:iceberg-core:$ice
org.apache.iceberg:iceberg-api:$ice
org.apache.iceberg:iceberg-common:$ice
org.apache.iceberg:iceberg-bundled-guava:$ice
com.fasterxml.jackson.core:jackson-core:2.21.3
com.fasterxml.jackson.core:jackson-databind:2.21.3
com.fasterxml.jackson.core:jackson-annotations:2.21
com.github.ben-manes.caffeine:caffeine:2.9.3
org.roaringbitmap:RoaringBitmap:1.6.14
org.apache.avro:avro:1.12.1
org.apache.commons:commons-compress:1.28.0
io.airlift:aircompressor:2.0.3
org.apache.httpcomponents.client5:httpclient5:5.6.1
org.apache.httpcomponents.core5:httpcore5:5.4
org.apache.httpcomponents.core5:httpcore5-h2:5.4
org.slf4j:slf4j-api:2.0.17
org.slf4j:slf4j-simple:2.0.17
org.xerial:sqlite-jdbc:3.53.0.0
org.apache.hadoop:hadoop-common:3.4.3
com.fasterxml.woodstox:woodstox-core:5.4.0
org.codehaus.woodstox:stax2-api:4.2.1
org.apache.commons:commons-collections4:4.4
org.apache.hadoop.thirdparty:hadoop-shaded-guava:1.5.0
org.apache.commons:commons-lang3:3.18.0
org.apache.commons:commons-configuration2:2.10.1
org.apache.commons:commons-text:1.14.0
org.apache.hadoop:hadoop-auth:3.4.3
org.eclipse.jetty:jetty-server:$jetty
org.eclipse.jetty:jetty-http:$jetty
org.eclipse.jetty:jetty-io:$jetty
org.eclipse.jetty:jetty-util:$jetty
org.eclipse.jetty:jetty-security:$jetty
org.eclipse.jetty:jetty-session:$jetty
org.eclipse.jetty.ee10:jetty-ee10-servlet:$jetty
org.eclipse.jetty.compression:jetty-compression-common:$jetty
org.eclipse.jetty.compression:jetty-compression-server:$jetty
org.eclipse.jetty.compression:jetty-compression-gzip:$jetty
jakarta.servlet:jakarta.servlet-api:6.0.0
org.assertj:assertj-core:3.27.7
net.bytebuddy:byte-buddy:1.18.3
org.junit.platform:junit-platform-console-standalone:1.14.4"

for a in $artifacts; do
    IFS=: read -r g art v cls <<<"$a"
    name=$art-$v${cls:+-$cls}.jar
    [ -s "$dir/$name" ] && continue
    path=${g//.//}/$art/$v/$name
    echo "fetch_rck: $name"
    curl -sSfL --retry 3 -o "$dir/$name.part" "$base/$path"
    want=$(curl -sSfL --retry 3 "$base/$path.sha1" | cut -c1-40)
    got=$(sha1sum "$dir/$name.part" | cut -c1-40)
    [ "$want" = "$got" ] || { echo "fetch_rck: $name: SHA-1 mismatch" >&2; rm -f "$dir/$name.part"; exit 1; }
    mv "$dir/$name.part" "$dir/$name"
done
# A list of exactly these jars for -cp (a jar left from an older list is not on it).
for a in $artifacts; do
    IFS=: read -r g art v cls <<<"$a"
    echo "$dir/$art-$v${cls:+-$cls}.jar"
done >"$dir/classpath.txt"
