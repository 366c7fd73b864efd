"""Problems the record parsers find, as translatable messages.

A ``Problem`` is a ``str`` whose value is the English text, so lists of problems
join, compare and serialize like the English strings they replace. It also keeps
its English message id and ``{name}`` parameters, so ``render`` can translate it
into a report language. ``scripts/extract_messages.py`` extracts the ids marked
with ``N_`` in the parser modules.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

from smtplab.i18n import N_, render

__all__ = ["Problem", "join_problems", "render_value"]

SEPARATOR = N_("{first}; {second}")
"""Joins two problems of one record in a list."""
SUBJECT = N_("{subject}: {problem}")
"""Names what a problem is about: a term, a tag or the domain whose record has it."""


class Problem(str):
    """One problem of a record: equal to its English text, translatable with ``render``.

    ``message`` is the English message id with ``{name}`` placeholders, and ``params`` fills
    them. A parameter may be another ``Problem``, which is rendered in the same language.
    """

    message: str
    params: Mapping[str, Any]

    def __new__(cls, message: str, /, **params: Any) -> Problem:
        problem = super().__new__(cls, message.format(**params))
        object.__setattr__(problem, "message", message)
        object.__setattr__(problem, "params", MappingProxyType(dict(params)))
        return problem

    @classmethod
    def about(cls, subject: str, problem: Problem) -> Problem:
        """Prefix a problem with what it is about, as in ``include:x: unknown mechanism``."""
        return cls(SUBJECT, subject=subject, problem=problem)

    def render(self, lang: str) -> str:
        """Translate the message into ``lang`` and fill in its parameters, nested problems translated too."""
        values = {
            name: value.render(lang) if isinstance(value, Problem) else value
            for name, value in self.params.items()
        }
        return render(self.message, values, lang)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"Problem is immutable: cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"Problem is immutable: cannot delete {name!r}")

    def __repr__(self) -> str:
        return f"Problem({str(self)!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        # The default pickling of a str subclass passes the English text to __new__
        # as the message id, which loses the parameters.
        return (_rebuild, (self.message, dict(self.params)))


def _rebuild(message: str, params: dict[str, Any]) -> Problem:
    return Problem(message, **params)


def join_problems(problems: Sequence[Problem], lang: str) -> str:
    """Render problems in ``lang`` and join them with the language's separator ("; " in English)."""
    rendered = [problem.render(lang) for problem in problems]
    if not rendered:
        return ""
    text = rendered[0]
    for item in rendered[1:]:
        text = render(SEPARATOR, {"first": text, "second": item}, lang)
    return text


def render_value(value: object, lang: str) -> object:
    """Render a problem, or a non-empty tuple or list of problems, in ``lang``.

    Other values are returned unchanged.
    """
    if isinstance(value, Problem):
        return value.render(lang)
    if isinstance(value, tuple | list) and value and all(isinstance(item, Problem) for item in value):
        return join_problems(value, lang)
    return value
