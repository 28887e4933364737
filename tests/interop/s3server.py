"""A local S3 server for the S3 tests: moto's ThreadedMotoServer on
127.0.0.1, and in front of it a proxy that counts requests and injects
faults by rule (a status with an S3 error body, a dropped connection, a
stall) on chosen requests, and when told checks each request's SigV4
signature as S3 does (moto accepts any keys)."""
from __future__ import annotations

import hashlib
import hmac
import http.client
import re
import socket
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

KEY, SECRET, REGION = "testkey", "testsecret", "us-east-1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_AUTH = re.compile(r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/s3/aws4_request, "
                   r"SignedHeaders=([^,]+), Signature=([0-9a-f]+)")


def _q(s: str) -> str:
    return urllib.parse.quote(s, safe="-_.~")


def sigv4_error(method: str, raw_path: str, headers, key: str, secret: str,
                region: str) -> tuple[int, str, str] | None:
    """What S3 answers a request signed with other keys or for another
    region, as (status, code, message); None when the signature holds."""
    m = _AUTH.fullmatch(headers.get("Authorization") or "")
    if not m:
        return 403, "AccessDenied", "Anonymous access is denied"
    akey, day, reg, signed, sig = m.groups()
    if akey != key:
        return 403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records."
    if reg != region:
        return (400, "AuthorizationHeaderMalformed", f"The authorization header is malformed; "
                f"the region '{reg}' is wrong; expecting '{region}'")
    path, _, query = raw_path.partition("?")
    pairs = []
    for part in query.split("&") if query else []:
        k, _, v = part.partition("=")
        pairs.append((_q(urllib.parse.unquote(k)), _q(urllib.parse.unquote(v))))
    names = signed.split(";")
    canon_headers = "".join(f"{n}:{' '.join((headers.get(n) or '').split())}\n" for n in names)
    creq = "\n".join([method, path, "&".join(f"{k}={v}" for k, v in sorted(pairs)), canon_headers,
                      signed, headers.get("x-amz-content-sha256") or "UNSIGNED-PAYLOAD"])
    scope = f"{day}/{reg}/s3/aws4_request"
    sts = "\n".join(["AWS4-HMAC-SHA256", headers.get("x-amz-date") or "", scope,
                     hashlib.sha256(creq.encode()).hexdigest()])
    k = ("AWS4" + secret).encode()
    for part in (day, reg, "s3", "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    if hmac.new(k, sts.encode(), hashlib.sha256).hexdigest() != sig:
        return (403, "SignatureDoesNotMatch", "The request signature we calculated does not match "
                "the signature you provided. Check your key and signing method.")
    return None


class Moto:
    """moto's server on a free port (started once per test session)."""

    def __init__(self):
        import logging
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        from moto.server import ThreadedMotoServer
        self.port = free_port()
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self.server.start()
        self.endpoint = f"http://127.0.0.1:{self.port}"

    def client(self):
        import boto3
        return boto3.client("s3", endpoint_url=self.endpoint, aws_access_key_id=KEY,
                            aws_secret_access_key=SECRET, region_name=REGION)

    def stop(self):
        self.server.stop()


@dataclass
class Rule:
    """Matches requests by method and a substring of the path (with query);
    applies to the `skip`+1-th through `skip`+`count`-th match (count None:
    all). action: an HTTP status (int, with an S3 error body of `code`),
    "drop" (close the connection unanswered) or "stall" (wait `seconds`,
    then forward)."""
    method: str
    path: str
    action: object
    count: int | None = 1
    skip: int = 0
    code: str = "InternalError"
    seconds: float = 0.0
    seen: int = 0
    fired: int = 0

    def take(self, method: str, path: str) -> bool:
        if method != self.method or self.path not in path:
            return False
        self.seen += 1
        if self.seen <= self.skip or (self.count is not None and self.fired >= self.count):
            return False
        self.fired += 1
        return True


@dataclass
class Counts:
    requests: dict = field(default_factory=dict)  # method -> n
    bytes_in: int = 0   # request bodies (to the server)
    bytes_out: int = 0  # response bodies (to the client)
    connections: int = 0  # TCP connections accepted
    log: list = field(default_factory=list)  # (method, path, status, range header or None)


class Proxy:
    """Forwards to the upstream server, counting and applying rules."""

    def __init__(self, upstream_port: int):
        self.upstream_port = upstream_port
        self.rules: list[Rule] = []
        self.counts = Counts()
        self.auth = None  # (key, secret, region): requests signed otherwise are refused
        self.started = {}  # upload id -> when its POST ?uploads was answered
        self.lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def setup(self):
                super().setup()
                with proxy.lock:
                    proxy.counts.connections += 1

            def _any(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                chunked = "chunked" in (self.headers.get("Transfer-Encoding") or "").lower()
                if chunked:  # pyarrow's (the AWS C++ SDK's) uploads
                    parts = []
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                        if size == 0:
                            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                                pass
                            break
                        parts.append(self.rfile.read(size))
                        self.rfile.readline()
                    body = b"".join(parts)
                    n = len(body)
                with proxy.lock:
                    rule = next((r for r in proxy.rules if r.take(self.command, self.path)), None)
                    c = proxy.counts
                    c.requests[self.command] = c.requests.get(self.command, 0) + 1
                    c.bytes_in += len(body)
                refusal = proxy.auth and sigv4_error(self.command, self.path, self.headers, *proxy.auth)
                if refusal:
                    rule = Rule(self.command, "", refusal[0], code=refusal[1])
                    rule.message = refusal[2]
                if rule is not None and rule.action == "drop":
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if rule is not None and rule.action == "stall":
                    time.sleep(rule.seconds)
                if rule is not None and isinstance(rule.action, int):
                    err = (f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{rule.code}</Code>'
                           f'<Message>{getattr(rule, "message", "injected")}</Message></Error>').encode()
                    self.send_response(rule.action)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(err)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(err)
                    with proxy.lock:
                        proxy.counts.log.append((self.command, self.path, rule.action, self.headers.get("Range")))
                    return
                conn = http.client.HTTPConnection("127.0.0.1", proxy.upstream_port, timeout=60)
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() not in ("connection", "transfer-encoding", "expect")}
                if chunked:
                    headers["Content-Length"] = str(len(body))
                conn.request(self.command, self.path, body=body if body or n else None, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                conn.close()
                query = urllib.parse.parse_qs(self.path.partition("?")[2], keep_blank_values=True)
                if "uploads" in query and self.command in ("POST", "GET"):
                    data = proxy._initiated(self.command, data)
                self.send_response(resp.status)
                for k, v in resp.getheaders():
                    if k.lower() not in ("connection", "transfer-encoding", "content-length", "server",
                                         "date"):
                        self.send_header(k, v)
                if self.command == "HEAD":
                    self.send_header("Content-Length", resp.getheader("Content-Length") or "0")
                else:
                    self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                with proxy.lock:
                    proxy.counts.bytes_out += len(data)
                    proxy.counts.log.append((self.command, self.path, resp.status, self.headers.get("Range")))

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _any

        class Server(ThreadingHTTPServer):
            def handle_error(self, request, client_address):
                pass  # a client that gave up on a stalled answer: expected

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def _initiated(self, method: str, data: bytes) -> bytes:
        """moto says every multipart upload began on 2010-11-10: note when
        each really began (its POST ?uploads) and say so in listings."""
        import datetime as dt
        if method == "POST":
            m = re.search(rb"<UploadId>([^<]+)</UploadId>", data)
            if m:
                self.started[m.group(1)] = dt.datetime.now(dt.timezone.utc)
            return data

        def fix(m):
            when = self.started.get(m.group(2))
            if when is None:
                return m.group(0)
            stamp = when.strftime("%Y-%m-%dT%H:%M:%S.000Z").encode()
            return re.sub(rb"<Initiated>[^<]*</Initiated>", b"<Initiated>" + stamp + b"</Initiated>",
                          m.group(0))
        return re.sub(rb"<Upload>(.*?<UploadId>([^<]+)</UploadId>.*?)</Upload>", fix, data, flags=re.S)

    def reset(self):
        with self.lock:
            self.rules = []
            self.counts = Counts()
            self.auth = None

    def add(self, *rules: Rule):
        with self.lock:
            self.rules.extend(rules)

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
