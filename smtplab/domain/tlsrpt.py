"""SMTP TLS reporting records (RFC 8460 section 3), parsed without I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from smtplab.domain.problem import Problem
from smtplab.i18n import N_


def is_tlsrpt(text: str) -> bool:
    return re.match(r"^\s*v\s*=\s*TLSRPTv1\s*(;|$)", text) is not None


@dataclass
class TlsRptRecord:
    text: str
    rua: list[str] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)


def parse_tlsrpt(text: str) -> TlsRptRecord:
    """Parse ``v=TLSRPTv1; rua=...``; each rua URI must be ``mailto:`` or ``https:``."""
    record = TlsRptRecord(text=text)
    tags: dict[str, str] = {}
    for part in (part.strip() for part in text.split(";")):
        if not part:
            continue
        name, sep, value = part.partition("=")
        if not sep:
            record.errors.append(Problem(N_("{text} is not a field=value pair"), text=repr(part)))
            continue
        tags[name.strip().lower()] = value.strip()
    if "rua" not in tags:
        record.errors.append(Problem(N_("the rua field is missing")))
        return record
    record.rua = [uri.strip() for uri in tags["rua"].split(",") if uri.strip()]
    for uri in record.rua:
        scheme, _, rest = uri.partition(":")
        if scheme.lower() not in ("mailto", "https") or not rest:
            record.errors.append(Problem(N_("{uri} is not a mailto: or https: URI"), uri=uri))
        elif scheme.lower() == "mailto" and "@" not in rest:
            record.errors.append(Problem(N_("{uri} has no mail address"), uri=uri))
    if not record.rua:
        record.errors.append(Problem(N_("the rua field lists no URI")))
    return record
