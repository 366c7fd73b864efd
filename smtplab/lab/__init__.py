"""Local SMTP servers, DNS responder and CA on loopback for tests, demos and notebooks.

``Lab`` starts the scenarios' servers and a DNS responder for their names on an event
loop in a daemon thread::

    from smtplab.lab import Lab

    with Lab() as lab:
        healthy = lab.servers["healthy"]
        print(healthy.host, healthy.endpoints, lab.nameserver, lab.cafile)

This package imports nothing from the rest of smtplab, so the probe engine is tested
against servers that share no code with it.
"""

from .controller import Lab, LabServer

__all__ = ["Lab", "LabServer"]
