"""Fetch an MTA-STS policy over HTTPS from an address resolved by the probe's own resolver.

The connection goes to the resolved address, with the policy host as SNI and Host
header, so the machine's resolver is never used. RFC 8461 section 3.3: the
certificate must be valid for the host, redirects are not followed, and only a
``200`` with a ``text/plain`` body counts.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from dataclasses import dataclass

from smtplab.domain.lookups import DnsClient
from smtplab.domain.mtasts import MAX_POLICY_BYTES, POLICY_PATH

log = logging.getLogger("smtplab")

MAX_HEADER_BYTES = 16_384


@dataclass(frozen=True, slots=True)
class PolicyFetch:
    """The outcome of one policy request.

    ``status`` is ``ok``, ``dns_failed``, ``connect_failed``, ``tls_failed``, ``timeout``,
    ``http_error`` (not a 200, redirects included), ``bad_content_type``, ``too_large``
    or ``invalid_response``. ``body`` is set for ``ok`` and ``bad_content_type``.
    """

    url: str
    status: str
    address: str | None = None
    http_status: int | None = None
    content_type: str | None = None
    body: str | None = None
    detail: str | None = None


def policy_url(host: str, port: int) -> str:
    authority = host if port == 443 else f"{host}:{port}"
    return f"https://{authority}{POLICY_PATH}"


async def fetch_policy(
    client: DnsClient, host: str, *, port: int = 443, cafile: str | None = None, timeout: float = 10.0
) -> PolicyFetch:
    """Resolve ``host`` with ``client`` and GET the policy from the first address that connects."""
    url = policy_url(host, port)
    a, aaaa = await client.addresses(host)
    addresses = [*a.values, *aaaa.values]
    if not addresses:
        return PolicyFetch(url, "dns_failed", detail=f"A: {a.status}, AAAA: {aaaa.status}")
    context = ssl.create_default_context(cafile=cafile)
    result = PolicyFetch(url, "connect_failed")
    for address in addresses:
        result = await _fetch_from(address, host, port, context, url, timeout)
        if result.status != "connect_failed":
            return result
    return result


async def _fetch_from(
    address: str, host: str, port: int, context: ssl.SSLContext, url: str, timeout: float
) -> PolicyFetch:
    log.info("fetching MTA-STS policy %s from %s", url, address)
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await _connect(address, port, context, host)
            try:
                return await _request(reader, writer, host, port, url, address)
            finally:
                writer.close()
    except TimeoutError:
        return PolicyFetch(url, "timeout", address, detail=f"no complete answer within {timeout:g} s")
    except ssl.SSLError as exc:
        return PolicyFetch(url, "tls_failed", address, detail=_ssl_detail(exc))
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as exc:
        return PolicyFetch(url, "invalid_response", address, detail=f"{type(exc).__name__}: {exc}")
    except OSError as exc:
        return PolicyFetch(url, "connect_failed", address, detail=f"{type(exc).__name__}: {exc}")


async def _connect(
    address: str, port: int, context: ssl.SSLContext, host: str
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection(address, port, ssl=context, server_hostname=host)


def _ssl_detail(exc: ssl.SSLError) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"certificate not valid: {exc.verify_message or exc}"
    return f"{type(exc).__name__}: {exc}"


async def _request(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    host: str,
    port: int,
    url: str,
    address: str,
) -> PolicyFetch:
    authority = host if port == 443 else f"{host}:{port}"
    writer.write(
        f"GET {POLICY_PATH} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: smtplab\r\n"
        "Accept: text/plain\r\nConnection: close\r\n\r\n".encode("ascii")
    )
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    if len(head) > MAX_HEADER_BYTES:
        return PolicyFetch(url, "invalid_response", address, detail="response headers too long")
    status, headers = _parse_head(head.decode("iso-8859-1"))
    if status is None:
        return PolicyFetch(url, "invalid_response", address, detail=head[:80].decode("iso-8859-1"))
    content_type = headers.get("content-type")
    if status != 200:
        location = headers.get("location")
        detail = f"HTTP {status}" + (f", redirect to {location} (not followed)" if location else "")
        return PolicyFetch(url, "http_error", address, status, content_type, detail=detail)
    body = await _read_body(reader, headers)
    if body is None:
        return PolicyFetch(
            url,
            "too_large",
            address,
            status,
            content_type,
            detail=f"policy larger than {MAX_POLICY_BYTES} bytes",
        )
    text = body.decode("utf-8", "replace")
    media_type = (content_type or "").split(";")[0].strip().lower()
    result_status = "ok" if media_type == "text/plain" else "bad_content_type"
    return PolicyFetch(url, result_status, address, status, content_type, text)


def _parse_head(head: str) -> tuple[int | None, dict[str, str]]:
    lines = head.split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
        return None, {}
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return int(parts[1]), headers


async def _read_body(reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes | None:
    """Read the body; None when it is larger than a policy may be."""
    if "chunked" in headers.get("transfer-encoding", "").lower():
        return await _read_chunked(reader)
    length = headers.get("content-length")
    if length is not None and length.isdigit():
        if int(length) > MAX_POLICY_BYTES:
            return None
        return await reader.readexactly(int(length))
    body = await reader.read(MAX_POLICY_BYTES + 1)
    while body and len(body) <= MAX_POLICY_BYTES:
        more = await reader.read(MAX_POLICY_BYTES + 1 - len(body))
        if not more:
            break
        body += more
    return None if len(body) > MAX_POLICY_BYTES else body


async def _read_chunked(reader: asyncio.StreamReader) -> bytes | None:
    body = b""
    while True:
        size_line = await reader.readuntil(b"\r\n")
        size = int(size_line.split(b";")[0].strip() or b"0", 16)
        if size == 0:
            return body
        body += await reader.readexactly(size)
        await reader.readexactly(2)
        if len(body) > MAX_POLICY_BYTES:
            return None
