"""MTA-STS (RFC 8461): the ``_mta-sts`` TXT record, the policy file and MX pattern matching.

Everything here is pure; ``fetch`` holds the HTTPS request.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MODES = ("enforce", "testing", "none")
MAX_AGE_LIMIT = 31_557_600
"""Largest max_age in seconds (about one year, RFC 8461 section 3.2)."""
SHORT_MAX_AGE = 604_800
"""A max_age under one week leaves senders without a cached policy soon after a lapse."""
POLICY_PATH = "/.well-known/mta-sts.txt"
MAX_POLICY_BYTES = 65_536
"""RFC 8461 section 3.3 lets senders stop reading a policy after 64 KiB."""


def is_sts(text: str) -> bool:
    return re.match(r"^\s*v\s*=\s*STSv1\s*(;|$)", text) is not None


@dataclass
class StsRecord:
    """The ``_mta-sts`` TXT record; ``id`` changes whenever the policy does."""

    text: str
    id: str | None = None
    errors: list[str] = field(default_factory=list)


def parse_sts_record(text: str) -> StsRecord:
    record = StsRecord(text=text)
    for part in (part.strip() for part in text.split(";")):
        if not part:
            continue
        name, sep, value = part.partition("=")
        if not sep:
            record.errors.append(f"{part!r} is not a field=value pair")
        elif name.strip() == "id":
            record.id = value.strip()
    if record.id is None:
        record.errors.append("the id field is missing")
    elif not re.fullmatch(r"[A-Za-z0-9]{1,32}", record.id):
        record.errors.append(f"id={record.id} must be 1 to 32 letters and digits")
    return record


@dataclass
class StsPolicy:
    """A parsed policy file: mode, max_age in seconds and MX patterns."""

    text: str
    version: str | None = None
    mode: str | None = None
    max_age: int | None = None
    mx: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.errors


def parse_policy(text: str) -> StsPolicy:
    """Parse ``key: value`` lines (RFC 8461 section 3.2); ``mx`` may repeat."""
    policy = StsPolicy(text=text)
    fields: dict[str, str] = {}
    for line in text.replace("\r\n", "\n").split("\n"):
        if not line.strip():
            continue
        name, sep, value = line.partition(":")
        if not sep:
            policy.errors.append(f"{line!r} is not a key: value line")
            continue
        name, value = name.strip(), value.strip()
        if name == "mx":
            policy.mx.append(value.lower().rstrip("."))
        elif name in fields:
            policy.errors.append(f"the {name} field appears more than once")
        else:
            fields[name] = value
    _check_fields(policy, fields)
    return policy


def _check_fields(policy: StsPolicy, fields: dict[str, str]) -> None:
    policy.version = fields.get("version")
    if policy.version != "STSv1":
        policy.errors.append(f"version must be STSv1, not {policy.version or '(missing)'}")
    policy.mode = fields.get("mode")
    if policy.mode not in MODES:
        policy.errors.append(f"mode must be enforce, testing or none, not {policy.mode or '(missing)'}")
    age = fields.get("max_age")
    if age is None or not age.isdigit() or int(age) > MAX_AGE_LIMIT:
        policy.errors.append(f"max_age must be 0 to {MAX_AGE_LIMIT} seconds, not {age or '(missing)'}")
    else:
        policy.max_age = int(age)
    if policy.mode in ("enforce", "testing") and not policy.mx:
        policy.errors.append("no mx pattern is listed")
    for pattern in policy.mx:
        if not re.fullmatch(r"(\*\.)?[a-z0-9_-]+(\.[a-z0-9_-]+)*", pattern):
            policy.errors.append(f"mx: {pattern} is not a host name or *.domain pattern")


def pattern_matches(pattern: str, host: str) -> bool:
    """Match an MX host against a policy pattern: ``*.`` stands for exactly one leftmost label."""
    pattern, host = pattern.lower().rstrip("."), host.lower().rstrip(".")
    if pattern.startswith("*."):
        return "." in host and host.split(".", 1)[1] == pattern[2:]
    return pattern == host


def matching_patterns(patterns: list[str], host: str) -> list[str]:
    return [pattern for pattern in patterns if pattern_matches(pattern, host)]
