#!/usr/bin/python3
"""A small HTTP server for spec/core/engine_spec.lua (stdlib only, 127.0.0.1).

Started on port 0; prints its port on the first line of stdout. Exits on
GET /quit or after a watchdog (ENGINE_SERVER_LIFETIME seconds, 120 by default).

Endpoints:
  /echo            JSON: method, path, headers, body length, body, connection number
  /slow?ms=N       answers after N ms
  /big?n=N         N bytes of a repeating pattern
  /file            a fixed 300,000-byte blob with ETag, Range and If-Range
  /blob-sha        sha256 of that blob (to compare downloads)
  /drop            promises 1000 bytes, sends 100, closes the connection
  /status?code=N&retry_after=S   that status with a JSON body and Retry-After
  /redirect?to=URL 302 to URL
  /upload          parses multipart/form-data; JSON per part: name, filename, content_type, bytes, sha256
  /conns           number of TCP connections accepted so far
  /freeport        a port nothing listens on
  /stall           sends headers and a few bytes, then nothing (for low-speed detection)
  /quit            stops the server
"""
import hashlib
import json
import os
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse, parse_qs

BLOB = bytes((i * 7 + (i >> 8)) & 0xFF for i in range(300000))
ETAG = '"blob-v1"'
LOCK = threading.Lock()
STATE = {"conns": 0}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        with LOCK:
            STATE["conns"] += 1
            self.conn_no = STATE["conns"]

    def log_message(self, *args):
        pass

    def send(self, code, body, ctype="application/json", headers=()):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def do_GET(self):
        self.route()

    def do_POST(self):
        self.route()

    def do_PUT(self):
        self.route()

    def do_DELETE(self):
        self.route()

    def do_HEAD(self):
        self.route()

    def route(self):
        u = urlparse(self.path)
        q = {k: v[0] for k, v in parse_qs(u.query).items()}
        name = "ep_" + u.path.strip("/").replace("-", "_")
        fn = getattr(self, name, None)
        if fn is None:
            self.read_body()
            self.send(404, json.dumps({"error": {"type": "not_found", "message": u.path}}))
            return
        fn(q)

    def ep_echo(self, q):
        body = self.read_body()
        self.send(200, json.dumps({
            "method": self.command, "path": self.path,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body_len": len(body), "body": body.decode("latin-1"), "conn": self.conn_no,
        }), headers=[("X-Multi", "first"), ("X-Multi", "last"), ("X-Spaced", "  padded value  ")])

    def ep_slow(self, q):
        self.read_body()
        time.sleep(int(q.get("ms", "1000")) / 1000.0)
        self.send(200, json.dumps({"slow": True}))

    def ep_big(self, q):
        n = int(q.get("n", "1000"))
        self.send(200, (b"0123456789abcdef" * (n // 16 + 1))[:n], "application/octet-stream")

    def ep_blob_sha(self, q):
        self.send(200, hashlib.sha256(BLOB).hexdigest(), "text/plain")

    def ep_file(self, q):
        rng = self.headers.get("Range")
        if_range = self.headers.get("If-Range")
        start = None
        if rng and rng.startswith("bytes=") and rng.endswith("-"):
            if if_range is None or if_range == ETAG:
                start = int(rng[6:-1])
        if start is None:
            self.send(200, BLOB, "application/octet-stream", [("ETag", ETAG), ("Accept-Ranges", "bytes")])
        elif start >= len(BLOB):
            self.send(416, json.dumps({"error": "range"}), headers=[("Content-Range", "bytes */%d" % len(BLOB))])
        else:
            self.send(206, BLOB[start:], "application/octet-stream",
                      [("ETag", ETAG), ("Content-Range", "bytes %d-%d/%d" % (start, len(BLOB) - 1, len(BLOB)))])

    def ep_drop(self, q):
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", "1000")
        self.end_headers()
        self.wfile.write(b"x" * 100)
        self.wfile.flush()
        self.close_connection = True
        self.connection.shutdown(socket.SHUT_RDWR)

    def ep_stall(self, q):
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", "1000")
        self.end_headers()
        self.wfile.write(b"x" * 10)
        self.wfile.flush()
        time.sleep(float(q.get("s", "5")))
        self.close_connection = True

    def ep_status(self, q):
        self.read_body()
        code = int(q.get("code", "500"))
        headers = []
        if "retry_after" in q:
            headers.append(("Retry-After", q["retry_after"]))
        self.send(code, json.dumps({"error": {"type": "status_%d" % code, "message": "as asked"}}), headers=headers)

    def ep_redirect(self, q):
        self.read_body()
        self.send(302, "moved", "text/plain", [("Location", q["to"])])

    def ep_upload(self, q):
        body = self.read_body()
        ctype = self.headers.get("Content-Type", "")
        boundary = ctype.split("boundary=", 1)[1].strip('"').encode() if "boundary=" in ctype else b""
        parts = []
        for chunk in body.split(b"--" + boundary)[1:]:
            if chunk.startswith(b"--"):
                break
            head, _, data = chunk.partition(b"\r\n\r\n")
            data = data[:-2] if data.endswith(b"\r\n") else data
            info = {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
            for line in head.decode("latin-1").split("\r\n"):
                low = line.lower()
                if low.startswith("content-disposition:"):
                    for item in line.split(";")[1:]:
                        k, _, v = item.strip().partition("=")
                        info[k] = v.strip('"')
                elif low.startswith("content-type:"):
                    info["content_type"] = line.split(":", 1)[1].strip()
            parts.append(info)
        self.send(200, json.dumps({"parts": parts, "expect": self.headers.get("Expect")}))

    def ep_conns(self, q):
        with LOCK:
            n = STATE["conns"]
        self.send(200, json.dumps({"conns": n}))

    def ep_freeport(self, q):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        self.send(200, json.dumps({"port": port}))

    def ep_quit(self, q):
        self.send(200, "{}")
        threading.Thread(target=self.server.shutdown, daemon=True).start()


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 512

    def handle_error(self, request, client_address):
        pass  # clients that cancel or time out are expected


def main():
    srv = Server(("127.0.0.1", 0), Handler)
    print(srv.server_address[1], flush=True)
    limit = float(os.environ.get("ENGINE_SERVER_LIFETIME", "120"))
    if limit > 0:
        watchdog = threading.Timer(limit, srv.shutdown)
        watchdog.daemon = True
        watchdog.start()
    srv.serve_forever()
    os._exit(0)


if __name__ == "__main__":
    main()
