"""A static HTTP server with byte ranges, for pst's remote-input checks.

    python range_server.py DIRECTORY PORT_FILE

Serves DIRECTORY on 127.0.0.1 at a free port (written to PORT_FILE once
listening) with what object stores give: HEAD with Content-Length, GET with
`Range: bytes=a-b` answered 206 with Content-Range. Two paths misbehave on
purpose: /forbidden/... answers 403, /drop/... closes the connection
without an answer. Python's http.server alone ignores Range.
"""

import os
import re
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT = os.path.abspath(sys.argv[1])
RANGE = re.compile(r"bytes=(\d+)-(\d*)$")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _file(self):
        path = self.path.split("?", 1)[0]
        if path.startswith("/forbidden/"):
            self.send_response(403)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        if path.startswith("/drop/"):
            self.close_connection = True
            self.connection.close()
            return None
        full = os.path.abspath(os.path.join(ROOT, path.lstrip("/")))
        if not full.startswith(ROOT) or not os.path.isfile(full):
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        return full

    def do_HEAD(self):
        full = self._file()
        if full:
            self.send_response(200)
            self.send_header("Content-Length", str(os.path.getsize(full)))
            self.send_header("Accept-Ranges", "bytes")
            self.end_headers()

    def do_GET(self):
        full = self._file()
        if not full:
            return
        size = os.path.getsize(full)
        start, end = 0, size - 1
        match = RANGE.match(self.headers.get("Range", ""))
        if match:
            start = int(match.group(1))
            end = min(int(match.group(2)) if match.group(2) else size - 1, size - 1)
            if start >= size:
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{size}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(end - start + 1))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        with open(full, "rb") as f:
            f.seek(start)
            self.wfile.write(f.read(end - start + 1))


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(sys.argv[2] + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.replace(sys.argv[2] + ".tmp", sys.argv[2])
server.serve_forever()
