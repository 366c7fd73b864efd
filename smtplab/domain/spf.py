"""SPF records (RFC 7208): the parser, and the walk through include and redirect that counts lookups.

The parser touches no socket. ``evaluate_spf`` follows ``include`` and ``redirect``
through a ``DnsClient`` and counts, as RFC 7208 section 4.6.4 does, every
``include``, ``a``, ``mx``, ``ptr`` and ``exists`` mechanism and ``redirect``
modifier against the limit of 10, and empty or NXDOMAIN answers ("void lookups")
against the limit of 2.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field

from smtplab.domain.lookups import DnsAnswer, DnsClient
from smtplab.domain.problem import Problem
from smtplab.i18n import N_

LOOKUP_LIMIT = 10
VOID_LOOKUP_LIMIT = 2
MX_ADDRESS_LIMIT = 10
"""Addresses of MX hosts that one ``mx`` mechanism may look up (RFC 7208 section 4.6.4)."""
MAX_RECORDS = 40
"""Records followed in one walk; ends pathological include trees long after the limit is passed."""

MECHANISMS = ("all", "include", "a", "mx", "ptr", "ip4", "ip6", "exists")
LOOKUP_TERMS = frozenset({"include", "a", "mx", "ptr", "exists", "redirect"})
QUALIFIERS = {"+": "pass", "-": "fail", "~": "softfail", "?": "neutral"}

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]*$")
_DOMAIN_SPEC = re.compile(r"^[\x21-\x7e]+$")
_CIDR = re.compile(r"^(?P<spec>[^/]*?)(?:/(?P<v4>\d{1,2}))?(?://(?P<v6>\d{1,3}))?$")


def is_spf(text: str) -> bool:
    """True for a TXT string that declares SPF version 1 (RFC 7208 section 4.5)."""
    lowered = text.strip().lower()
    return lowered == "v=spf1" or lowered.startswith("v=spf1 ")


@dataclass(frozen=True, slots=True)
class SpfTerm:
    """One mechanism or modifier: ``qualifier`` is ``+ - ~ ?`` for mechanisms and "" for modifiers."""

    text: str
    kind: str
    name: str
    qualifier: str
    value: str | None
    error: Problem | None = None

    @property
    def counts_lookup(self) -> bool:
        return self.error is None and self.name in LOOKUP_TERMS


@dataclass(frozen=True, slots=True)
class SpfRecord:
    text: str
    terms: tuple[SpfTerm, ...]
    errors: tuple[Problem, ...]

    def mechanisms(self) -> list[SpfTerm]:
        return [term for term in self.terms if term.kind == "mechanism"]

    def modifier(self, name: str) -> SpfTerm | None:
        return next((term for term in self.terms if term.kind == "modifier" and term.name == name), None)

    @property
    def all_qualifier(self) -> str | None:
        term = next((term for term in self.mechanisms() if term.name == "all"), None)
        return term.qualifier if term else None


def parse_spf(text: str) -> SpfRecord:
    """Parse an SPF record; syntax problems are collected, so one bad term does not hide the rest."""
    tokens = text.split()
    errors: list[Problem] = []
    if not tokens:
        errors.append(Problem(N_("the record must start with v=spf1, not (empty)")))
    elif tokens[0].lower() != "v=spf1":
        errors.append(Problem(N_("the record must start with v=spf1, not {first}"), first=tokens[0]))
    terms = [_parse_term(token) for token in tokens[1:]]
    errors.extend(Problem.about(term.text, term.error) for term in terms if term.error)
    for name in ("redirect", "exp"):
        if sum(1 for term in terms if term.kind == "modifier" and term.name == name) > 1:
            errors.append(Problem(N_("the {name} modifier appears more than once"), name=name))
    return SpfRecord(text=text, terms=tuple(terms), errors=tuple(errors))


def _parse_term(token: str) -> SpfTerm:
    qualifier = token[0] if token[0] in QUALIFIERS else "+"
    body = token[1:] if token[0] in QUALIFIERS else token
    match = re.match(r"^([A-Za-z][A-Za-z0-9_.-]*)(.*)$", body)
    if match is None:
        error = Problem(N_("not a mechanism or modifier"))
        return SpfTerm(token, "mechanism", body.lower(), qualifier, None, error)
    name, rest = match.group(1).lower(), match.group(2)
    if rest.startswith("=") and token[0] not in QUALIFIERS:
        value = rest[1:]
        valid = _NAME.match(name) and _DOMAIN_SPEC.match(value or "x")
        error = None if valid else Problem(N_("invalid modifier"))
        if name in ("redirect", "exp") and not value:
            error = Problem(N_("{name}= needs a domain"), name=name)
        return SpfTerm(token, "modifier", name, "", value, error)
    if name not in MECHANISMS or (rest and not rest.startswith((":", "/"))):
        return SpfTerm(token, "mechanism", name, qualifier, None, Problem(N_("unknown mechanism")))
    value = rest[1:] if rest.startswith(":") else (rest or None)
    return SpfTerm(token, "mechanism", name, qualifier, value, _mechanism_error(name, value))


def _mechanism_error(name: str, value: str | None) -> Problem | None:
    if name == "all":
        return Problem(N_("all takes no argument")) if value else None
    if name in ("include", "exists"):
        if value and _DOMAIN_SPEC.match(value):
            return None
        return Problem(N_("{name} needs a domain"), name=name)
    if name in ("ip4", "ip6"):
        return _network_error(name, value)
    if value is None:
        return None
    if name == "ptr":
        return None if _DOMAIN_SPEC.match(value) else Problem(N_("invalid domain"))
    match = _CIDR.match(value)
    if (
        match is None
        or (match.group("v4") and int(match.group("v4")) > 32)
        or (match.group("v6") and int(match.group("v6")) > 128)
    ):
        return Problem(N_("invalid prefix length"))
    return None


def _network_error(name: str, value: str | None) -> Problem | None:
    if not value:
        return Problem(N_("{name} needs an address"), name=name)
    try:
        network = ipaddress.ip_network(value, strict=False)
    except ValueError:
        return Problem(N_("invalid {name} address {value}"), name=name, value=value)
    if (name == "ip4") != (network.version == 4):
        return Problem(N_("{value} is not an IPv{version} address"), value=value, version=name[-1])
    return None


def target_domain(term: SpfTerm, domain: str) -> str:
    """Return the domain a term queries: its argument without the prefix length, or the current domain."""
    if not term.value:
        return domain
    spec = term.value.split("/", 1)[0] if term.name in ("a", "mx") else term.value
    return spec or domain


@dataclass
class SpfNode:
    """One record reached in the walk: the queried domain, how it was reached, and its parse."""

    domain: str
    depth: int
    via: str | None
    answer: DnsAnswer | None
    records: list[str]
    parsed: SpfRecord | None


@dataclass
class SpfStep:
    """One term as it was walked, with the lookups it cost."""

    domain: str
    depth: int
    term: SpfTerm
    lookups: int
    void: bool
    target: str | None
    status: str | None
    note: str | None = None


@dataclass
class SpfEvaluation:
    """The result of walking a domain's SPF record and everything it includes.

    ``lookups`` counts terms as RFC 7208 section 4.6.4 does. ``mx_address_lookups`` counts
    the A/AAAA lookups of MX hosts, which the same section limits to 10 per mx mechanism,
    outside the limit of 10 terms.
    """

    domain: str
    nodes: list[SpfNode] = field(default_factory=list)
    steps: list[SpfStep] = field(default_factory=list)
    lookups: int = 0
    void_lookups: int = 0
    mx_address_lookups: int = 0
    loops: list[str] = field(default_factory=list)
    missing_includes: list[str] = field(default_factory=list)
    multiple_records: list[str] = field(default_factory=list)
    """Include and redirect targets with more than one SPF record (RFC 7208 section 4.5)."""
    too_many_mx: list[str] = field(default_factory=list)
    truncated: bool = False

    @property
    def root(self) -> SpfNode | None:
        return self.nodes[0] if self.nodes else None

    @property
    def record(self) -> SpfRecord | None:
        return self.root.parsed if self.root else None

    @property
    def syntax_errors(self) -> list[Problem]:
        return [
            Problem.about(node.domain, error)
            for node in self.nodes
            if node.parsed
            for error in node.parsed.errors
        ]

    @property
    def effective_all(self) -> str | None:
        """The qualifier of ``all`` that ends evaluation, following ``redirect`` when there is no ``all``."""
        for node in self.nodes:
            if node.depth == 0 or node.via == "redirect":
                if node.parsed is None:
                    return None
                qualifier = node.parsed.all_qualifier
                if qualifier is not None or node.parsed.modifier("redirect") is None:
                    return qualifier
        return None

    @property
    def permerror(self) -> bool:
        """True when a receiver gets a permanent error evaluating this record."""
        root = self.root
        return bool(
            root is None
            or len(root.records) > 1
            or self.syntax_errors
            or self.lookups > LOOKUP_LIMIT
            or self.void_lookups > VOID_LOOKUP_LIMIT
            or self.loops
            or self.missing_includes
            or self.multiple_records
            or self.too_many_mx
        )


async def evaluate_spf(client: DnsClient, domain: str) -> SpfEvaluation:
    """Fetch and walk the SPF record of ``domain``."""
    result = SpfEvaluation(domain=domain)
    await _walk(client, result, domain, depth=0, via=None, chain=(domain,))
    return result


async def _walk(
    client: DnsClient,
    result: SpfEvaluation,
    domain: str,
    *,
    depth: int,
    via: str | None,
    chain: tuple[str, ...],
) -> SpfNode:
    answer = await client.query(domain, "TXT")
    records = [value for value in answer.values if is_spf(value)]
    parsed = parse_spf(records[0]) if len(records) == 1 else None
    node = SpfNode(domain, depth, via, answer, records, parsed)
    result.nodes.append(node)
    if parsed is None:
        return node
    has_all = parsed.all_qualifier is not None
    for term in parsed.terms:
        if term.error is not None or (term.name == "redirect" and has_all) or term.name == "exp":
            continue
        if term.kind == "modifier" and term.name != "redirect":
            continue
        await _walk_term(client, result, domain, term, depth, chain)
    return node


async def _walk_term(
    client: DnsClient,
    result: SpfEvaluation,
    domain: str,
    term: SpfTerm,
    depth: int,
    chain: tuple[str, ...],
) -> None:
    if not term.counts_lookup:
        result.steps.append(SpfStep(domain, depth, term, 0, False, None, None))
        return
    target = target_domain(term, domain).rstrip(".").lower()
    result.lookups += 1
    step = SpfStep(domain, depth, term, 1, False, target, None)
    result.steps.append(step)
    if "%" in target:
        step.note = "macro: expanded per message, not followed"
        return
    if term.name in ("include", "redirect"):
        await _follow(client, result, step, term.name, depth, chain)
    elif term.name == "a":
        step.void = await _addresses_void(client, target)
    elif term.name == "exists":
        answer = await client.query(target, "A")
        step.status, step.void = answer.status, answer.void
    elif term.name == "mx":
        await _walk_mx(client, result, step, target)
    elif term.name == "ptr":
        step.note = "depends on the sending address, not followed"
    if step.void:
        result.void_lookups += 1


async def _follow(
    client: DnsClient,
    result: SpfEvaluation,
    step: SpfStep,
    kind: str,
    depth: int,
    chain: tuple[str, ...],
) -> None:
    target = step.target or ""
    if target in chain:
        result.loops.append(" -> ".join((*chain, target)))
        step.note = "loop"
        return
    if len(result.nodes) >= MAX_RECORDS:
        result.truncated = True
        step.note = "not followed: too many records"
        return
    node = await _walk(client, result, target, depth=depth + 1, via=kind, chain=(*chain, target))
    answer = node.answer
    step.status = answer.status if answer else None
    step.void = answer is not None and answer.void
    if not node.records:
        result.missing_includes.append(target)
        step.note = "no SPF record"
    elif len(node.records) > 1:
        result.multiple_records.append(target)
        step.note = f"{len(node.records)} SPF records"


async def _addresses_void(client: DnsClient, name: str) -> bool:
    a, aaaa = await client.addresses(name)
    return a.void and aaaa.void


async def _walk_mx(client: DnsClient, result: SpfEvaluation, step: SpfStep, target: str) -> None:
    answer = await client.query(target, "MX")
    step.status, step.void = answer.status, answer.void
    hosts = [value.split()[-1].rstrip(".").lower() for value in answer.values]
    hosts = [host for host in hosts if host]
    if len(hosts) > MX_ADDRESS_LIMIT:
        result.too_many_mx.append(target)
        step.note = f"{len(hosts)} MX hosts, more than {MX_ADDRESS_LIMIT}"
    result.mx_address_lookups += len(hosts)
    for host in hosts[:MX_ADDRESS_LIMIT]:
        await client.addresses(host)
