"""Throwaway certificate authority for the lab servers, built on trustme."""

from __future__ import annotations

import ssl
from pathlib import Path

import trustme


class LabCA:
    """A new CA that writes its files into ``directory``; the caller deletes the directory.

    ``cafile`` is the CA certificate in PEM form, for clients to trust. The CA's private
    key stays in memory. ``server_context`` writes each server's key and certificate
    chain into ``directory``, because ``ssl`` loads them only from a file.
    """

    def __init__(self, directory: Path) -> None:
        self._directory = directory
        self._ca = trustme.CA(organization_name="smtplab lab")
        self.cafile = directory / "lab-ca.pem"
        self._ca.cert_pem.write_to_path(str(self.cafile))

    def server_context(self, hostname: str) -> ssl.SSLContext:
        """Issue a certificate for ``hostname`` and return a server context that presents it.

        The context does not request client certificates, which is what aiosmtpd expects
        of a server context.
        """
        leaf = self._ca.issue_cert(hostname)
        chain_file = self._directory / f"{hostname}.pem"
        leaf.private_key_and_cert_chain_pem.write_to_path(str(chain_file))

        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(chain_file)
        return context
