"""Shared pytest fixtures for smtplab's tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import NoReturn, TypeVar

import dns.asyncresolver
import dns.resolver
import pytest

from smtplab import Credentials, ProbeConfig, ProbeResult, Secret, probe
from smtplab.lab import Lab

from dnsserver import find_unbound
from domainlab import DomainLab, running_domain_lab
from postfix_server import (
    REQUIRED_COMMANDS,
    PostfixServer,
    find_command,
    find_missing_sasl_mechanisms,
    start_postfix,
    stop_postfix,
)

_ResolverT = TypeVar("_ResolverT", bound=dns.resolver.BaseResolver)

_POSTFIX_INSTALL_HINT = (
    "apt-get install postfix sasl2-bin libsasl2-modules "
    "(preseed postfix/main_mailer_type to 'No configuration')"
)


@pytest.fixture(autouse=True, scope="session")
def _block_system_resolver() -> Iterator[None]:
    """Point dnspython's default resolvers at a closed loopback port.

    Tests must query only the test DNS servers they start, through a
    ``Resolver(configure=False)``. Any lookup through the default resolver goes to
    127.0.0.1 port 9 and fails within a second instead of reaching the network.
    """
    saved = (dns.resolver.default_resolver, dns.asyncresolver.default_resolver)
    dns.resolver.default_resolver = _unusable_resolver(dns.resolver.Resolver)
    dns.asyncresolver.default_resolver = _unusable_resolver(dns.asyncresolver.Resolver)
    yield
    dns.resolver.default_resolver, dns.asyncresolver.default_resolver = saved


def _unusable_resolver(resolver_class: type[_ResolverT]) -> _ResolverT:
    resolver = resolver_class(configure=False)
    resolver.nameservers = ["127.0.0.1"]
    resolver.port = 9
    resolver.timeout = 0.5
    resolver.lifetime = 0.5
    return resolver


@pytest.fixture(scope="session")
def postfix() -> Iterator[PostfixServer]:
    """Run one Postfix instance on loopback for the whole session.

    Skips when Postfix, the Cyrus SASL tools or the PLAIN and LOGIN plugins are
    missing, or when the tests do not run as root. When the ``CI`` environment
    variable is non-empty it fails instead, because CI must run these tests.
    """
    missing = [name for name in REQUIRED_COMMANDS if find_command(name) is None]
    if missing:
        _skip_or_fail(f"{', '.join(missing)} not found; {_POSTFIX_INSTALL_HINT}")
    missing = find_missing_sasl_mechanisms()
    if missing:
        _skip_or_fail(f"Cyrus SASL mechanisms not found: {', '.join(missing)}; {_POSTFIX_INSTALL_HINT}")
    if os.geteuid() != 0:
        _skip_or_fail("Postfix must be started as root; run pytest as root")

    server = start_postfix()
    try:
        yield server
    finally:
        stop_postfix(server)


def _skip_or_fail(reason: str) -> NoReturn:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so these tests must run)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def lab() -> Iterator[Lab]:
    """The embedded lab (motivating broken server, healthy server, DNS, CA) for the session."""
    with Lab() as running:
        yield running


@pytest.fixture(scope="session")
def domain_lab(lab: Lab) -> Iterator[DomainLab]:
    """A loopback unbound with the test zones and an MTA-STS policy server, for the session."""
    if find_unbound() is None:
        _skip_or_fail("unbound not found; apt-get install unbound")
    with running_domain_lab(lab) as running:
        yield running


@pytest.fixture(scope="session")
def lab_config(lab: Lab) -> ProbeConfig:
    """Probe settings that resolve through the lab's DNS and trust the lab's CA."""
    return ProbeConfig(
        nameserver=lab.nameserver,
        cafile=str(lab.cafile),
        ehlo_name="client.smtplab.test",
        reply_timeout=5.0,
        probe_timeout=30.0,
    )


@pytest.fixture(scope="session")
def broken(lab: Lab, lab_config: ProbeConfig) -> ProbeResult:
    """A probe of the lab's motivating broken server (no AUTH, implicit TLS reset)."""
    server = lab.servers["broken"]
    return probe(server.host, ports=server.endpoints, config=lab_config)


@pytest.fixture(scope="session")
def healthy(lab: Lab, lab_config: ProbeConfig) -> ProbeResult:
    """A probe of the lab's healthy submission server, with its credentials."""
    server = lab.servers["healthy"]
    assert server.username and server.password
    credentials = Credentials(server.username, Secret(server.password))
    return probe(server.host, ports=server.endpoints, config=lab_config, credentials=credentials)
