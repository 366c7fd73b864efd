"""STARTTLS, implicit TLS, protocol versions and ciphers."""

from __future__ import annotations

from collections.abc import Iterator

from smtplab.diagnosis.context import HostContext
from smtplab.diagnosis.evidence import error_line, step_lines
from smtplab.diagnosis.finding import Finding
from smtplab.diagnosis.rules.base import at
from smtplab.errors import ERROR_NAMES

OBSOLETE_VERSIONS = ("SSLv3", "TLSv1", "TLSv1.1")
WEAK_CIPHER_MARKS = ("RC4", "3DES", "DES-CBC", "NULL", "EXPORT", "MD5", "anon")


def _label(error: str | None) -> str:
    return ERROR_NAMES.get(error or "", error or "-")


def starttls_missing(context: HostContext) -> Iterator[Finding]:
    for item in context.views:
        if item.record.mode == "starttls" and item.starttls_offered is False:
            yield at(item, "tls.starttls_missing", step_lines(item, "ehlo", "plain"))


def starttls_failed(context: HostContext) -> Iterator[Finding]:
    for item in context.views:
        if item.record.mode != "starttls" or not item.starttls_offered or item.tls is not None:
            continue
        reply = item.starttls_reply
        if reply is not None and reply.code != 220:
            yield at(item, "tls.starttls_refused", step_lines(item, "starttls"), code=reply.code)
        elif item.tls_failure is not None:
            yield at(item, "tls.starttls_failed", step_lines(item, "starttls") + error_line(item),
                     detail=item.tls_failure.get("detail"))


def starttls_extra_data(context: HostContext) -> Iterator[Finding]:
    for item in context.views:
        stray = [event for event in item.unsolicited if event["step"] == "starttls"]
        if stray:
            text = str(stray[0].get("text", ""))
            yield at(item, "tls.starttls_extra_data",
                     step_lines(item, "starttls") + [f"S: {text[:200]}"], data=repr(text[:80]))


def implicit_tls_failed(context: HostContext) -> Iterator[Finding]:
    for item in context.views:
        if item.record.mode != "tls" or item.reachable is not True or item.tls is not None:
            continue
        if item.error == "plaintext_on_tls_port":
            yield at(item, "tls.implicit_plaintext", error_line(item) + step_lines(item, "banner"),
                     detail=item.error_detail)
        elif item.tls_failure is not None:
            yield at(item, "tls.implicit_failed", error_line(item),
                     error=_label(item.tls_failure.get("error")), detail=item.tls_failure.get("detail"))


def tls_on_plain_port(context: HostContext) -> Iterator[Finding]:
    for item in context.views:
        if item.error == "tls_on_plain_port":
            yield at(item, "tls.plain_port_tls", error_line(item))


def weak_protocol(context: HostContext) -> Iterator[Finding]:
    for item in context.views:
        if item.tls is None:
            continue
        version, cipher = item.tls.get("version"), item.tls.get("cipher") or ""
        shown = [f"TLS {version} {cipher} {item.tls.get('bits')} bits"]
        if version in OBSOLETE_VERSIONS:
            yield at(item, "tls.obsolete_version", shown, version=version)
        bits = item.tls.get("bits")  # None when an imported transcript did not show it
        if (bits is not None and bits < 128) or any(mark in cipher for mark in WEAK_CIPHER_MARKS):
            yield at(item, "tls.weak_cipher", shown, cipher=cipher, bits=bits)


def accepted_offers(context: HostContext) -> Iterator[Finding]:
    """Obsolete TLS versions and weak ciphers a server still accepts (with ``tls_scan``)."""
    for item in context.views:
        accepted = item.accepted_offers() or []
        shown = [f"TLS offer {offer['offer']} accepted: {offer.get('version')} {offer.get('cipher')}"
                 for offer in accepted]
        versions = [offer["offer"] for offer in accepted if offer["offer"] != "weak-ciphers"]
        if versions:
            yield at(item, "tls.obsolete_accepted", shown, versions=" ".join(versions))
        weak = [offer for offer in accepted if offer["offer"] == "weak-ciphers"]
        if weak:
            yield at(item, "tls.weak_cipher_accepted", shown, cipher=weak[0].get("cipher"))
