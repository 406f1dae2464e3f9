"""The HTTP server `vxlab check` runs on a group's "Internet" side for its TCP transfers.

Standard library only: the check runs this file's source with `python3 -c` on the hypervisor (in
the group's namespace, or on its SVI), so it runs wherever the lab's upstream is. It serves
`GET /bytes/N` (N bytes of `payload(N)`, which the checker knows too) and `PUT /sink` (answers
with the size and SHA-256 of what it received), listens only on the addresses it is given, and
stops when its standard input closes, or after `--seconds` at the latest.

Usage: python3 traffic_server.py --port P --seconds S ADDRESS [ADDRESS ...]   (prints READY once listening)
"""

from __future__ import annotations

import argparse
import hashlib
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

READY = "vxlab-traffic-server-ready"
MAX_BYTES = 64 << 20
SEED = b"vxlab traffic check"


def payload(size: int) -> bytes:
    """The bytes a download of `size` carries: not compressible, and known to both ends."""
    return hashlib.shake_256(SEED).digest(size)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        prefix = "/bytes/"
        if not self.path.startswith(prefix) or not self.path[len(prefix) :].isdigit():
            self.send_error(404)
            return
        size = int(self.path[len(prefix) :])
        if size > MAX_BYTES:
            self.send_error(413)
            return
        body = payload(size)
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(size))
        self.end_headers()
        self.wfile.write(body)

    def do_PUT(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if self.path != "/sink" or length > MAX_BYTES:
            self.send_error(404 if self.path != "/sink" else 413)
            return
        digest, left = hashlib.sha256(), length
        while left:
            chunk = self.rfile.read(min(left, 65536))
            if not chunk:
                break
            digest.update(chunk)
            left -= len(chunk)
        answer = f"{length - left} {digest.hexdigest()}\n".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: object) -> None:
        pass  # the checker reports every transfer; nothing to say here


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: str, port: int) -> None:
        self.address_family = socket.AF_INET6 if ":" in address else socket.AF_INET
        super().__init__((address, port), Handler)


def _until_eof(stop: threading.Event) -> None:
    sys.stdin.read()
    stop.set()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("addresses", nargs="+")
    args = parser.parse_args(argv)
    servers = [Server(a, args.port) for a in args.addresses]
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    stop = threading.Event()
    # The checker holds our stdin open while it needs us: its end closing (or its SSH dropping)
    # stops us at once; `--seconds` is the backstop.
    threading.Thread(target=_until_eof, args=(stop,), daemon=True).start()
    print(READY, flush=True)
    stop.wait(args.seconds)
    for server in servers:
        server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
