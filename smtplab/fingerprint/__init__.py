"""Guess the server software from what a probe saw (sans-IO, pure functions).

>>> from smtplab.fingerprint import fingerprint, check_expectation
>>> guesses = fingerprint(result.views[0])
>>> guesses[0].software, guesses[0].confidence, guesses[0].evidence
>>> check_expectation(guesses, software="postfix", banner_host="mx.example.com", view=result.views[0])

Every product's clues live in ``signatures.py``; ``PRODUCTS`` maps the stable ids
to display names.
"""

from __future__ import annotations

from smtplab.fingerprint.capture import CapturedSession, parse_session
from smtplab.fingerprint.engine import MIN_CONFIDENCE, identify
from smtplab.fingerprint.expectation import CONFIDENT, check_expectation
from smtplab.fingerprint.model import Clue, Guess, Signature
from smtplab.fingerprint.signatures import PRODUCTS, SIGNATURES
from smtplab.fingerprint.view import fingerprint

__all__ = [
    "CONFIDENT",
    "MIN_CONFIDENCE",
    "PRODUCTS",
    "SIGNATURES",
    "CapturedSession",
    "Clue",
    "Guess",
    "Signature",
    "check_expectation",
    "fingerprint",
    "identify",
    "parse_session",
]
