"""The GUI's storage SCP: started with the window, stopped at exit, never a crash when the port is taken.

The SCP itself is :class:`workstation.net.listener.Listener` (no Qt).  It
writes through a connection of its own, so the study list's data-version poll
sees every arriving instance land without being told.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from workstation.config import ConfigError, Settings
from workstation.home import Home
from workstation.net.association import NetworkError
from workstation.store.cache import StudyCache
from workstation.ui.study_format import first_line

if TYPE_CHECKING:  # pynetdicom is loaded when the listener starts
    from workstation.net.listener import Listener

log = logging.getLogger(__name__)


class GuiListener:
    """Start and stop the storage SCP the GUI runs (Qt-free).

    Parameters
    ----------
    home : Home
        Where received instances go and where the listener announces itself.
    settings_loader : callable
        Returns the current :class:`~workstation.config.Settings`.
    open_cache : callable, optional
        Opens the SCP's own connection to the index (default: a new one on ``home``).

    Attributes
    ----------
    message : str
        What the status bar shows: where we receive, or why we do not.
    ok : bool
        True while the SCP runs.
    """

    def __init__(self, home: Home, settings_loader: Callable[[], Settings],
                 open_cache: Callable[[], StudyCache] | None = None) -> None:
        self.home = home
        self._settings = settings_loader
        self._open_cache = open_cache or (lambda: StudyCache.open(home))
        self._listener: Listener | None = None
        self._cache: StudyCache | None = None
        self.message = ""
        self.ok = False

    @property
    def port(self) -> int | None:
        return self._listener.scp.port if self._listener is not None else None

    def start(self) -> bool:
        """Start receiving; False (with :attr:`message` saying why) when it cannot."""
        from workstation.net.listener import Listener

        if self._listener is not None:
            return True
        try:
            settings = self._settings()
        except (ConfigError, OSError) as exc:
            return self._fail(f"Not receiving: settings cannot be read ({first_line(str(exc))})")
        cache = None
        try:
            cache = self._open_cache()
            listener = Listener(self.home, settings, cache)
            listener.start()
        except NetworkError as exc:
            if cache is not None:
                cache.close()
            return self._fail(f"Not receiving: {first_line(str(exc))}")
        except Exception as exc:  # noqa: BLE001 - a GUI without a listener still reads studies
            if cache is not None:
                cache.close()
            log.warning("storage SCP did not start: %s", type(exc).__name__)
            return self._fail(f"Not receiving: {first_line(str(exc)) or type(exc).__name__}")
        self._listener, self._cache = listener, cache
        self.ok = True
        self.message = f"Receiving as {listener.scp.ae_title} on port {listener.scp.port}"
        return True

    def status(self) -> tuple[str, str]:
        """(status bar text, tooltip): :attr:`message`, plus refused associations when there were any.

        Refusals name the calling AE title, the address and the reason (never patient data).
        """
        tip = "The storage SCP: archives send retrieved (C-MOVE) and pushed studies here"
        listener = self._listener
        refusals = getattr(getattr(listener, "scp", None), "refusals", None)
        if not self.ok or refusals is None or refusals.count == 0:
            return self.message, tip
        last = refusals.last
        text = f"{self.message} — {refusals.count} refused (last: {last.calling_ae or '?'} from {last.address})"
        recent = "\n".join(r.describe() for r in refusals.recent[-10:])
        return text, f"{tip}\n\nRefused associations (only configured nodes may send):\n{recent}"

    def _fail(self, message: str) -> bool:
        self.ok = False
        self.message = message
        log.warning("storage SCP not started")
        return False

    def stop(self) -> None:
        """Stop receiving and close the SCP's connection.  Safe to call twice."""
        listener, self._listener = self._listener, None
        cache, self._cache = self._cache, None
        try:
            if listener is not None:
                listener.stop()
        finally:
            if cache is not None:
                cache.close()
            self.ok = False
