#!/usr/bin/env bash
# make demo-s3: scripts/demo.sh's life cycle on s3:// against a local S3
# server (moto, from .venv) started and stopped here; the catalog is a
# local SQLite file. Usage: scripts/demo_s3.sh [FIRN]
set -euo pipefail
cd "$(dirname "$0")/.."
firn=$(realpath "${1:-build/firn}")
py=.venv/bin/python
work=$(mktemp -d)
port=$($py -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
$py - "$port" > "$work/moto.log" 2>&1 <<'PY' &
import logging, sys, time, boto3
logging.getLogger("werkzeug").setLevel(logging.ERROR)
from moto.server import ThreadedMotoServer
port = int(sys.argv[1])
ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False).start()
boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", aws_access_key_id="demo",
             aws_secret_access_key="demo", region_name="us-east-1").create_bucket(Bucket="demo-bucket")
print("ready", flush=True)
while True:
    time.sleep(1)
PY
server=$!
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 100); do grep -q ready "$work/moto.log" 2>/dev/null && break; sleep 0.1; done
grep -q ready "$work/moto.log" || { cat "$work/moto.log"; exit 1; }
cat > "$work/firn" <<SH
#!/bin/sh
exec "$firn" --conf s3.endpoint=http://127.0.0.1:$port --conf s3.access-key-id=demo \
  --conf s3.secret-access-key=demo --catalog "sqlite:///$work/catalog.db" \
  --warehouse s3://demo-bucket/wh "\$@"
SH
chmod +x "$work/firn"
echo "# S3 server on 127.0.0.1:$port, warehouse s3://demo-bucket/wh, catalog $work/catalog.db"
bash scripts/demo.sh "$work/firn"
