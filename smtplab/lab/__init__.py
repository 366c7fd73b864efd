"""Local SMTP servers, DNS responder, MTA-STS policy server and CA on loopback for tests,
demos and notebooks.

``Lab`` starts the scenarios' servers, a DNS responder for their names and their mail
domains' records, and an HTTPS server for the domains' MTA-STS policies, on an event
loop in a daemon thread::

    from smtplab.lab import Lab

    with Lab() as lab:
        healthy = lab.servers["healthy"]
        print(healthy.host, healthy.endpoints, lab.nameserver, lab.cafile)
        posture = probe_domain(healthy.mail_domain, **lab.domain_options())

The servers import nothing from the rest of smtplab, so the probe engine is tested
against servers that share no code with it. Only ``Lab.domain_options`` imports
``smtplab.config``, to build the client's settings.
"""

from .controller import Lab, LabServer

__all__ = ["Lab", "LabServer"]
