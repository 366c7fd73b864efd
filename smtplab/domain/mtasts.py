"""MTA-STS (RFC 8461): the ``_mta-sts`` TXT record, the policy file and MX pattern matching.

Everything here is pure; ``fetch`` holds the HTTPS request.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from smtplab.domain.problem import Problem
from smtplab.i18n import N_

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
    errors: list[Problem] = field(default_factory=list)


def parse_sts_record(text: str) -> StsRecord:
    record = StsRecord(text=text)
    for part in (part.strip() for part in text.split(";")):
        if not part:
            continue
        name, sep, value = part.partition("=")
        if not sep:
            record.errors.append(Problem(N_("{text} is not a field=value pair"), text=repr(part)))
        elif name.strip() == "id":
            record.id = value.strip()
    if record.id is None:
        record.errors.append(Problem(N_("the id field is missing")))
    elif not re.fullmatch(r"[A-Za-z0-9]{1,32}", record.id):
        record.errors.append(Problem(N_("id={value} must be 1 to 32 letters and digits"), value=record.id))
    return record


@dataclass
class StsPolicy:
    """A parsed policy file: mode, max_age in seconds and MX patterns."""

    text: str
    version: str | None = None
    mode: str | None = None
    max_age: int | None = None
    mx: list[str] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)

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
            policy.errors.append(Problem(N_("{text} is not a key: value line"), text=repr(line)))
            continue
        name, value = name.strip(), value.strip()
        if name == "mx":
            policy.mx.append(value.lower().rstrip("."))
        elif name in fields:
            policy.errors.append(Problem(N_("the {name} field appears more than once"), name=name))
        else:
            fields[name] = value
    _check_fields(policy, fields)
    return policy


def _check_fields(policy: StsPolicy, fields: dict[str, str]) -> None:
    policy.version = fields.get("version")
    if policy.version != "STSv1":
        policy.errors.append(_field_error(
            policy.version,
            N_("version must be STSv1, not {value}"),
            N_("version must be STSv1, not (missing)"),
        ))
    policy.mode = fields.get("mode")
    if policy.mode not in MODES:
        policy.errors.append(_field_error(
            policy.mode,
            N_("mode must be enforce, testing or none, not {value}"),
            N_("mode must be enforce, testing or none, not (missing)"),
        ))
    age = fields.get("max_age")
    if age is None or not age.isdigit() or int(age) > MAX_AGE_LIMIT:
        policy.errors.append(_field_error(
            age,
            N_("max_age must be 0 to {limit} seconds, not {value}"),
            N_("max_age must be 0 to {limit} seconds, not (missing)"),
            limit=MAX_AGE_LIMIT,
        ))
    else:
        policy.max_age = int(age)
    if policy.mode in ("enforce", "testing") and not policy.mx:
        policy.errors.append(Problem(N_("no mx pattern is listed")))
    for pattern in policy.mx:
        if not re.fullmatch(r"(\*\.)?[a-z0-9_-]+(\.[a-z0-9_-]+)*", pattern):
            message = N_("mx: {pattern} is not a host name or *.domain pattern")
            policy.errors.append(Problem(message, pattern=pattern))


def _field_error(value: str | None, message: str, missing: str, **params: object) -> Problem:
    """Report an invalid policy field value with ``message``, or a missing or empty one with ``missing``."""
    if value:
        return Problem(message, value=value, **params)
    return Problem(missing, **params)


def pattern_matches(pattern: str, host: str) -> bool:
    """Match an MX host against a policy pattern: ``*.`` stands for exactly one leftmost label."""
    pattern, host = pattern.lower().rstrip("."), host.lower().rstrip(".")
    if pattern.startswith("*."):
        return "." in host and host.split(".", 1)[1] == pattern[2:]
    return pattern == host


def matching_patterns(patterns: list[str], host: str) -> list[str]:
    return [pattern for pattern in patterns if pattern_matches(pattern, host)]
