"""DMARC records (RFC 7489): tag parsing and validation, without I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from smtplab.domain.problem import Problem
from smtplab.i18n import N_

POLICIES = ("none", "quarantine", "reject")
# Tags of RFC 7489 section 6.3, plus np, psd and t from the DMARCbis drafts, which
# receivers that do not know them ignore.
KNOWN_TAGS = frozenset(
    {"v", "p", "sp", "pct", "rua", "ruf", "adkim", "aspf", "fo", "rf", "ri", "np", "psd", "t"}
)
_URI = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*):(?P<rest>[^!]+)(?:!(?P<size>\d+[kmgt]?))?$", re.I)

PUBLIC_SUFFIX_FILES = (
    Path("/usr/share/publicsuffix/public_suffix_list.dat"),
    Path("/usr/share/publicsuffix/effective_tld_names.dat"),
)


def is_dmarc(text: str) -> bool:
    """True for a TXT string that declares DMARC version 1 (the ``v=DMARC1`` tag first)."""
    return re.match(r"^\s*v\s*=\s*DMARC1\s*(;|$)", text) is not None


@dataclass
class DmarcRecord:
    """A parsed DMARC record: ``tags`` in order of appearance, problems split by severity.

    ``errors`` make receivers ignore the record. ``tag_errors`` are invalid values of the tags
    after v and p, which receivers discard in favour of the defaults (RFC 7489 section 6.3).
    ``unknown_tags`` are ignored by receivers too, but usually are typos.
    """

    text: str
    tags: dict[str, str] = field(default_factory=dict)
    errors: list[Problem] = field(default_factory=list)
    tag_errors: list[Problem] = field(default_factory=list)
    unknown_tags: list[str] = field(default_factory=list)

    @property
    def policy(self) -> str | None:
        value = self.tags.get("p", "").lower()
        if value in POLICIES:
            return value
        # RFC 7489 section 6.6.3: a record without a valid p but with a valid rua counts as p=none.
        if "p" not in self.tags and self.rua and not self.rua_errors:
            return "none"
        return None

    @property
    def subdomain_policy(self) -> str | None:
        value = self.tags.get("sp", "").lower()
        return value if value in POLICIES else self.policy

    @property
    def pct(self) -> int:
        value = self.tags.get("pct", "100")
        return int(value) if value.isdigit() and int(value) <= 100 else 100

    @property
    def rua(self) -> list[str]:
        return _uris(self.tags.get("rua"))

    @property
    def ruf(self) -> list[str]:
        return _uris(self.tags.get("ruf"))

    @property
    def rua_errors(self) -> list[str]:
        return [uri for uri in self.rua if _uri_error(uri)]

    @property
    def valid(self) -> bool:
        return not self.errors and self.policy is not None


def parse_dmarc(text: str) -> DmarcRecord:
    """Parse a DMARC record and check each tag's value."""
    record = DmarcRecord(text=text)
    parts = [part.strip() for part in text.split(";")]
    for index, part in enumerate(parts):
        if not part:
            continue
        name, sep, value = part.partition("=")
        name, value = name.strip().lower(), value.strip()
        if not sep or not re.match(r"^[a-z][a-z0-9]*$", name):
            record.errors.append(Problem(N_("{text} is not a tag=value pair"), text=repr(part)))
            continue
        if name in record.tags:
            record.errors.append(Problem(N_("the {name} tag appears more than once"), name=name))
            continue
        record.tags[name] = value
        if index == 0 and name != "v":
            record.errors.append(Problem(N_("the record must start with v=DMARC1")))
        if name not in KNOWN_TAGS:
            record.unknown_tags.append(name)
    _check_order(record)
    record.errors.extend(_policy_errors(record.tags))
    record.tag_errors.extend(_value_errors(record.tags))
    return record


def _check_order(record: DmarcRecord) -> None:
    names = list(record.tags)
    if record.tags.get("v") != "DMARC1":
        record.errors.append(Problem(N_("the v tag must be exactly DMARC1")))
    if "p" not in record.tags:
        if not record.rua:
            record.errors.append(Problem(N_("the p tag is missing")))
    elif names.index("p") != 1:
        # The ABNF of RFC 7489 section 6.4 puts the request (p) right after the version.
        record.errors.append(Problem(N_("the p tag must follow v=DMARC1 directly")))


def _policy_error(name: str, value: str) -> Problem:
    return Problem(N_("{name}={value} is not one of none, quarantine, reject"), name=name, value=value)


def _policy_errors(tags: dict[str, str]) -> list[Problem]:
    if "p" in tags and tags["p"].lower() not in POLICIES:
        return [_policy_error("p", tags["p"])]
    return []


def _value_errors(tags: dict[str, str]) -> list[Problem]:
    errors: list[Problem] = []
    for name in ("sp", "np"):
        if name in tags and tags[name].lower() not in POLICIES:
            errors.append(_policy_error(name, tags[name]))
    if "pct" in tags and not (tags["pct"].isdigit() and 0 <= int(tags["pct"]) <= 100):
        errors.append(Problem(N_("pct={value} is not a number from 0 to 100"), value=tags["pct"]))
    for name in ("adkim", "aspf"):
        if name in tags and tags[name].lower() not in ("r", "s"):
            errors.append(Problem(N_("{name}={value} is not r or s"), name=name, value=tags[name]))
    if "fo" in tags and not all(part.strip() in ("0", "1", "d", "s") for part in tags["fo"].split(":")):
        errors.append(Problem(N_("fo={value} must list 0, 1, d or s separated by colons"), value=tags["fo"]))
    if "rf" in tags and not all(part.strip().lower() == "afrf" for part in tags["rf"].split(":")):
        errors.append(Problem(N_("rf={value} must be afrf"), value=tags["rf"]))
    if "ri" in tags and not tags["ri"].isdigit():
        errors.append(Problem(N_("ri={value} is not a number of seconds"), value=tags["ri"]))
    for name in ("rua", "ruf"):
        errors.extend(
            Problem.about(name, problem) for uri in _uris(tags.get(name)) if (problem := _uri_error(uri))
        )
    return errors


def _uris(value: str | None) -> list[str]:
    if not value:
        return []
    return [part.strip() for part in value.split(",") if part.strip()]


def _uri_error(uri: str) -> Problem | None:
    match = _URI.match(uri)
    if match is None:
        return Problem(N_("{uri} is not a URI"), uri=uri)
    if match.group("scheme").lower() != "mailto":
        return Problem(N_("{uri} is not a mailto: URI, the only scheme receivers must support"), uri=uri)
    if "@" not in match.group("rest"):
        return Problem(N_("{uri} has no mail address"), uri=uri)
    return None


def report_domain(uri: str) -> str | None:
    """Return the domain of a ``mailto:`` report address, lowercase, or None."""
    match = _URI.match(uri)
    if match is None or match.group("scheme").lower() != "mailto" or "@" not in match.group("rest"):
        return None
    return match.group("rest").rsplit("@", 1)[1].rstrip(".").lower()


def organizational_domain(domain: str, suffixes: frozenset[str] | None = None) -> str:
    """Return the organizational domain (RFC 7489 section 3.2): one label below the public suffix.

    Without a public suffix list, the last two labels are taken, which is wrong for
    suffixes such as ``co.uk``.
    """
    labels = domain.rstrip(".").lower().split(".")
    if suffixes:
        for start in range(len(labels)):
            candidate = ".".join(labels[start:])
            wildcard = ".".join(["*", *labels[start + 1 :]])
            if (candidate in suffixes or wildcard in suffixes) and f"!{candidate}" not in suffixes:
                return ".".join(labels[max(start - 1, 0) :])
    return ".".join(labels[-2:])


def load_public_suffixes(paths: tuple[Path, ...] = PUBLIC_SUFFIX_FILES) -> frozenset[str] | None:
    """Read the Public Suffix List from the Debian ``publicsuffix`` package, None when absent."""
    for path in paths:
        if path.is_file():
            lines = path.read_text(encoding="utf-8").splitlines()
            return frozenset(
                line.strip().lower() for line in lines if line.strip() and not line.startswith("//")
            )
    return None
