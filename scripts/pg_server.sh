#!/usr/bin/env bash
# A throwaway PostgreSQL server for the catalog tests, from Debian's
# postgresql package: trust authentication, 127.0.0.1:PORT, a database
# "firn". As root the server runs as the postgres user (PostgreSQL refuses
# root), in a directory it owns.
#
#   scripts/pg_server.sh start DIR PORT    prints the URI: postgresql://postgres@127.0.0.1:PORT/firn
#   scripts/pg_server.sh stop DIR
set -euo pipefail
cmd=${1:?usage: pg_server.sh start DIR PORT | stop DIR}
dir=${2:?directory}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$bin/pg_ctl" ] || { echo "pg_server: PostgreSQL server binaries not found (apt-get install postgresql)" >&2; exit 1; }
as() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
case "$cmd" in
start)
    port=${3:?port}
    mkdir -p "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
    if [ ! -f "$dir/data/PG_VERSION" ]; then
        as "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 >"$dir/initdb.log" 2>&1 ||
            { cat "$dir/initdb.log" >&2; exit 1; }
    fi
    as "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100" start >/dev/null ||
        { cat "$dir/server.log" >&2; exit 1; }
    as "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -qAt \
        -c "SELECT 1 FROM pg_database WHERE datname = 'firn'" | grep -q 1 ||
        as "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres firn
    echo "postgresql://postgres@127.0.0.1:$port/firn"
    ;;
stop)
    [ -f "$dir/data/postmaster.pid" ] && as "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
    ;;
*)
    echo "usage: pg_server.sh start DIR PORT | stop DIR" >&2
    exit 2
    ;;
esac
