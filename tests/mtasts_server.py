"""A local HTTPS server for MTA-STS policies: stdlib http.server with a trustme certificate.

It binds a loopback address and an ephemeral port, and picks the policy by the Host
header (RFC 8461 section 3.3 serves it at ``https://mta-sts.<domain>/.well-known/mta-sts.txt``).
"""

from __future__ import annotations

import ssl
import tempfile
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import trustme

POLICY_PATH = "/.well-known/mta-sts.txt"


@dataclass(frozen=True)
class Reply:
    """What the server sends for one host: a status, a content type and a body."""

    body: str
    status: int = 200
    content_type: str = "text/plain"
    location: str | None = None


@dataclass
class PolicyServer:
    """A running policy server; ``cafile`` is the PEM file of the CA that signed its certificate."""

    server: ThreadingHTTPServer
    thread: threading.Thread
    address: str
    port: int
    cafile: Path
    directory: tempfile.TemporaryDirectory[str]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)
        self.directory.cleanup()


def start_policy_server(replies: Mapping[str, Reply], address: str = "127.0.0.10") -> PolicyServer:
    """Serve ``replies`` keyed by host name; the certificate names every host in ``replies``."""
    ca = trustme.CA()
    directory = tempfile.TemporaryDirectory(prefix="smtplab-mtasts-")
    cafile = Path(directory.name) / "ca.pem"
    ca.cert_pem.write_to_path(str(cafile))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert(*replies).configure_cert(context)

    handler = _handler(dict(replies))
    server = ThreadingHTTPServer((address, 0), handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, name="mtasts-server", daemon=True)
    thread.start()
    return PolicyServer(server, thread, address, server.server_address[1], cafile, directory)


def _handler(replies: dict[str, Reply]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the name http.server dispatches to
            host = (self.headers.get("Host") or "").rsplit(":", 1)[0].lower()
            reply = replies.get(host)
            if reply is None or self.path != POLICY_PATH:
                reply = Reply("not found\n", status=404)
            body = reply.body.encode("utf-8")
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(body)))
            if reply.location:
                self.send_header("Location", reply.location)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the stdlib signature
            pass

    return Handler
