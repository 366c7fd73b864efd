"""Throwaway certificate authority for the lab servers, built on trustme."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

import trustme


@dataclass(frozen=True)
class ServerCertificate:
    """A server context and the leaf certificate it presents, in PEM form."""

    context: ssl.SSLContext
    cert_pem: str


class LabCA:
    """A new root CA and an intermediate CA that write their files into ``directory``,
    which the caller deletes.

    ``cafile`` is the root CA certificate in PEM form, for clients to trust.
    ``intermediate_file`` is the intermediate CA certificate, which issues every server
    certificate. Servers send it after their own certificate but never send the root,
    as servers under a public CA do, so a client that lacks the root fails with OpenSSL's
    "unable to get local issuer certificate". The private keys stay in memory.
    ``server_context`` and ``issue`` write each server's key and certificate chain into
    ``directory``, because ``ssl`` loads them only from a file.
    """

    def __init__(self, directory: Path) -> None:
        self._directory = directory
        self._root = trustme.CA(organization_name="smtplab lab")
        self._intermediate = trustme.CA(parent_cert=self._root, organization_name="smtplab lab")
        self.cafile = directory / "lab-ca.pem"
        self._root.cert_pem.write_to_path(str(self.cafile))
        self.intermediate_file = directory / "lab-intermediate-ca.pem"
        self._intermediate.cert_pem.write_to_path(str(self.intermediate_file))

    def server_context(self, hostname: str, *other_hostnames: str) -> ssl.SSLContext:
        """Issue a certificate for ``hostname`` and ``other_hostnames`` from the intermediate
        CA and return a server context that presents it, followed by the intermediate CA
        certificate.

        The context does not request client certificates, which is what aiosmtpd expects
        of a server context.
        """
        return self.issue(hostname, *other_hostnames).context

    def issue(self, hostname: str, *other_hostnames: str) -> ServerCertificate:
        """Issue a certificate that names every given host, as ``server_context`` does, and
        return the context together with the leaf certificate."""
        leaf = self._intermediate.issue_cert(hostname, *other_hostnames)
        chain_file = self._directory / f"{hostname}.pem"
        # trustme's chain is the leaf and every CA certificate above it except the root.
        leaf.private_key_and_cert_chain_pem.write_to_path(str(chain_file))

        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(chain_file)
        return ServerCertificate(context, leaf.cert_chain_pems[0].bytes().decode("ascii"))
