"""A DNS server on loopback that answers some names with faults, for resolver tests.

It is authoritative for ``fault.test`` only, never recurses, and answers
everything else with REFUSED.
"""

from __future__ import annotations

import contextlib
import socketserver
import struct
import threading
from collections.abc import Iterator

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.rrset

ZONE = dns.name.from_text("fault.test.")
CNAMES = {
    "loop1.fault.test.": "loop2.fault.test.",
    "loop2.fault.test.": "loop1.fault.test.",
    "alias.fault.test.": "target.fault.test.",
}
ADDRESSES = {"target.fault.test.": "127.0.0.1", "big.fault.test.": "127.0.0.1"}


def answer(wire: bytes, *, over_tcp: bool) -> bytes | None:
    """The reply to one query, or None to stay silent (the timeout fault)."""
    query = dns.message.from_wire(wire)
    reply = dns.message.make_response(query)
    question = query.question[0]
    name = question.name.to_text().lower()
    if not question.name.is_subdomain(ZONE):
        reply.set_rcode(dns.rcode.REFUSED)
        return reply.to_wire()
    reply.flags |= dns.flags.AA
    if name == "timeout.fault.test.":
        return None
    if name == "servfail.fault.test.":
        reply.set_rcode(dns.rcode.SERVFAIL)
        return reply.to_wire()
    if name == "big.fault.test." and not over_tcp:
        reply.flags |= dns.flags.TC
        return reply.to_wire()
    if name in CNAMES:
        # Like an authoritative server, add the in-zone chain up to a loop or an address.
        seen = set()
        while name in CNAMES and name not in seen:
            seen.add(name)
            reply.answer.append(dns.rrset.from_text(name, 60, "IN", "CNAME", CNAMES[name]))
            name = CNAMES[name]
        if name in ADDRESSES and question.rdtype == dns.rdatatype.A:
            reply.answer.append(dns.rrset.from_text(name, 60, "IN", "A", ADDRESSES[name]))
        return reply.to_wire()
    if name in ADDRESSES and question.rdtype == dns.rdatatype.A:
        reply.answer.append(dns.rrset.from_text(name, 60, "IN", "A", ADDRESSES[name]))
        return reply.to_wire()
    if name not in ADDRESSES:
        reply.set_rcode(dns.rcode.NXDOMAIN)
    return reply.to_wire()


class _Udp(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        data, sock = self.request
        wire = answer(data, over_tcp=False)
        if wire is not None:
            sock.sendto(wire, self.client_address)


class _Tcp(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        header = self.request.recv(2)
        if len(header) < 2:
            return
        (length,) = struct.unpack("!H", header)
        data = b""
        while len(data) < length:
            chunk = self.request.recv(length - len(data))
            if not chunk:
                return
            data += chunk
        wire = answer(data, over_tcp=True)
        if wire is not None:
            self.request.sendall(struct.pack("!H", len(wire)) + wire)


@contextlib.contextmanager
def fault_dns() -> Iterator[str]:
    """Run the server on one free port for UDP and TCP; yield ``127.0.0.1:PORT``."""
    for _ in range(10):
        udp = socketserver.ThreadingUDPServer(("127.0.0.1", 0), _Udp)
        port = udp.server_address[1]
        try:
            tcp = socketserver.ThreadingTCPServer(("127.0.0.1", port), _Tcp)
        except OSError:
            udp.server_close()
            continue
        break
    else:
        raise RuntimeError("no free port for both UDP and TCP")
    threads = [threading.Thread(target=server.serve_forever, daemon=True) for server in (udp, tcp)]
    for thread in threads:
        thread.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        for server in (udp, tcp):
            server.shutdown()
            server.server_close()

