"""Import SMTP conversations captured by other tools, for the same analysis as a live probe.

>>> from smtplab.importers import from_transcript
>>> result = from_transcript(open("session.txt").read(), host="mail.example.com")
>>> result.endpoints, result.findings

Supported formats are swaks output, ``openssl s_client`` output and ``S:``/``C:``
dialogues; each module's docstring states the rules it reads by.
"""

from smtplab.importers.conversation import TranscriptError
from smtplab.importers.importer import PARSERS, detect_format, from_transcript

__all__ = ["PARSERS", "TranscriptError", "detect_format", "from_transcript"]
