"""TLS details found in transcripts: cipher strength and the server certificate in PEM form."""

from __future__ import annotations

import contextlib
import ssl
from functools import cache
from types import MappingProxyType

from smtplab.importers.conversation import TranscriptError

PEM_BEGIN = "-----BEGIN CERTIFICATE-----"
PEM_END = "-----END CERTIFICATE-----"


def cipher_bits(cipher: str | None) -> int | None:
    """Secret key bits of an OpenSSL cipher name, or None when this OpenSSL does not know it."""
    if not cipher:
        return None
    return _cipher_table().get(cipher)


@cache
def _cipher_table() -> MappingProxyType[str, int]:
    # NOTE: the table lists the ciphers of the OpenSSL that Python is linked against, so a
    # transcript's cipher that this build lacks gets no bit count (None).
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    with contextlib.suppress(ssl.SSLError):  # an OpenSSL build may reject the level
        context.set_ciphers("ALL:@SECLEVEL=0")
    return MappingProxyType({item["name"]: item["strength_bits"] for item in context.get_ciphers()})


class PemCollector:
    """Collects the certificates between BEGIN and END markers, in the order they appear."""

    def __init__(self) -> None:
        self._lines: list[str] | None = None
        self._start = 0
        self.certificates: list[str] = []
        self.first: str | None = None
        self.first_line = 0
        """The 1-based line number of the first certificate's BEGIN marker."""

    @property
    def inside(self) -> bool:
        return self._lines is not None

    def check_closed(self) -> None:
        """Raise TranscriptError when the text ended inside a certificate block."""
        if self._lines is not None:
            raise TranscriptError(
                self._start, "the certificate block that starts here has no END CERTIFICATE line"
            )

    def feed(self, number: int, text: str) -> bool:
        """Take line ``number``; return True when it belongs to a certificate block."""
        stripped = text.strip()
        if stripped == PEM_BEGIN:
            self._lines, self._start = [stripped], number
            return True
        if self._lines is None:
            return False
        self._lines.append(stripped)
        if stripped == PEM_END:
            self.certificates.append("\n".join(self._lines) + "\n")
            if self.first is None:
                self.first = self.certificates[0]
                self.first_line = self._start
            self._lines = None
        return True
