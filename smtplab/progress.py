"""Progress of a run, reported to observers as endpoints finish.

An observer is any object with an ``on_endpoint_done(record)`` method. The
other hooks of ``ProbeObserver`` are optional: the runner calls them only when
the observer defines them. Observers run on the event loop's thread, between
probes, so they must return quickly and must not block.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from typing import IO, TYPE_CHECKING, Any, Protocol, runtime_checkable

from smtplab.record import EndpointRecord

if TYPE_CHECKING:
    from tqdm import tqdm

log = logging.getLogger("smtplab")


@runtime_checkable
class EndpointObserver(Protocol):
    """The one required hook: called once per endpoint probed in this run."""

    def on_endpoint_done(self, record: EndpointRecord) -> None: ...


class ProbeObserver:
    """Base class with every hook the runner calls; each does nothing until overridden."""

    def on_start(self, expected: int | None, resumed: int) -> None:
        """Called once before probing: ``expected`` endpoints in all (None when the
        number of targets is not known up front), ``resumed`` of them already done."""

    def on_target_planned(self, host: str, endpoints: int, expected: int) -> None:
        """Called when a target is resolved: it has ``endpoints`` in all (resumed ones
        included), where ``expected`` were counted for it in ``on_start``."""

    def on_endpoint_done(self, record: EndpointRecord) -> None:
        """Called when an endpoint's probe has finished and its record is written."""

    def on_finish(self) -> None:
        """Called once when the run ends, also when it is interrupted."""


class Observers:
    """Fans each hook out to several observers, skipping the optional hooks an observer lacks.

    An exception in an observer is logged and the observer is dropped, so a
    broken progress display never stops a scan.
    """

    def __init__(self, observers: Iterable[EndpointObserver] = ()) -> None:
        self._observers = list(observers)
        for observer in self._observers:
            if not callable(getattr(observer, "on_endpoint_done", None)):
                raise TypeError(f"observer {observer!r} has no on_endpoint_done(record) method")

    def start(self, expected: int | None, resumed: int) -> None:
        self._call("on_start", expected, resumed)

    def planned(self, host: str, endpoints: int, expected: int) -> None:
        self._call("on_target_planned", host, endpoints, expected)

    def endpoint_done(self, record: EndpointRecord) -> None:
        self._call("on_endpoint_done", record)

    def finish(self) -> None:
        self._call("on_finish")

    def _call(self, hook: str, *arguments: Any) -> None:
        for observer in list(self._observers):
            method = getattr(observer, hook, None)
            if method is None:
                continue
            try:
                method(*arguments)
            except Exception:
                log.exception("observer %r failed in %s; it gets no further calls", observer, hook)
                self._observers.remove(observer)


class TqdmProgress(ProbeObserver):
    """A tqdm progress bar of endpoints, on stderr by default.

    The total starts as targets times endpoints and is corrected as names
    resolve to more or fewer addresses than one.
    """

    def __init__(self, *, file: IO[str] | None = None, disable: bool | None = None,
                 description: str = "endpoints") -> None:
        self._file = file or sys.stderr
        self._disable = disable
        self._description = description
        self._bar: tqdm[Any] | None = None

    def on_start(self, expected: int | None, resumed: int) -> None:
        from tqdm import tqdm

        self._bar = tqdm(total=expected, initial=resumed, unit="endpoint", desc=self._description,
                         file=self._file, disable=self._disable, dynamic_ncols=True,
                         smoothing=0.1)

    def on_target_planned(self, host: str, endpoints: int, expected: int) -> None:
        if self._bar is not None and self._bar.total is not None and endpoints != expected:
            self._bar.total += endpoints - expected
            self._bar.refresh()

    def on_endpoint_done(self, record: EndpointRecord) -> None:
        if self._bar is not None:
            self._bar.update(1)

    def on_finish(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
