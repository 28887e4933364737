#!/usr/bin/env bash
# Installs what a fresh Debian 12 machine lacks to build and test firn:
# the -dev packages (apt-get, skipping what is installed) and a Python
# virtual environment .venv with the pinned reference clients.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"

debs="build-essential cmake ninja-build pkg-config libzstd-dev libsnappy-dev zlib1g-dev
      liblz4-dev libjansson-dev libsqlite3-dev libpq-dev libmicrohttpd-dev libcurl4-openssl-dev clang libclang-rt-14-dev python3-venv postgresql openjdk-17-jdk-headless"
missing=""
for p in $debs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "bootstrap: installing Debian packages:$missing"
    sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $missing >/dev/null
fi

stamp=.venv/.requirements.stamp
if [ ! -f "$stamp" ] || ! cmp -s scripts/requirements.txt "$stamp"; then
    echo "bootstrap: setting up .venv"
    [ -x .venv/bin/python ] || python3 -m venv .venv
    .venv/bin/pip install -q --disable-pip-version-check -r scripts/requirements.txt
    cp scripts/requirements.txt "$stamp"
fi

# Spark's jars for the Spark interop tests (Maven Central)
bash scripts/fetch_jars.sh

# The Iceberg REST Compatibility Kit and Java's reference REST server (Maven Central)
bash scripts/fetch_rck.sh
