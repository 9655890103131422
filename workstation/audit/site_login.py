"""The site login: who is reading, checked by an LDAP bind against the site's directory (ldap3).

Configured in the station's settings (``config.json``)::

    "site_login": {
        "uri": "ldaps://ldap.example.org" | "ldap://ldap.example.org:389",
        "bind_dn_template": "uid={login},ou=people,dc=example,dc=org",    # either this ...
        "search_base": "ou=people,dc=example,dc=org",                     # ... or a search
        "search_filter": "(uid={login})",
        "search_bind_dn": "", "search_bind_password": "",                 # empty: anonymous search
        "start_tls": true, "ca_file": "/etc/ssl/site-ca.pem",
        "display_name_attribute": "displayName", "timeout_s": 5
    }

The password is sent to the directory only (over TLS unless the site chose plain ``ldap://`` without
StartTLS) and never stored or logged.  Qt-free: the login dialog and the lock screen call
:func:`authenticate`; a window runs it with :func:`start_login` on a worker thread, so a slow or
frozen directory never freezes the window: the attempt ends after :func:`deadline_s` at the latest,
or at once when the reader cancels it (its sockets are shut, which wakes a bind waiting for an answer).
"""

from __future__ import annotations

import contextlib
import logging
import math
import socket
import ssl
import struct
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

log = logging.getLogger(__name__)

KEY = "site_login"
DEFAULT_FILTER = "(uid={login})"


class LoginError(Exception):
    """A login that did not succeed; ``reason`` is one of :data:`REASONS`, the message a plain sentence."""

    REASONS = ("credentials", "unreachable", "tls", "config", "directory", "cancelled")

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class SiteUser:
    """Who logged in: the login name typed, the directory's display name and the entry's DN."""

    login: str
    display_name: str
    dn: str = ""

    @property
    def shown(self) -> str:
        return self.display_name or self.login


@dataclass(frozen=True)
class SiteLoginSettings:
    """The ``site_login`` settings (see the module's text); ``configured`` when a URI is set."""

    uri: str = ""
    bind_dn_template: str = ""
    search_base: str = ""
    search_filter: str = DEFAULT_FILTER
    search_bind_dn: str = ""
    search_bind_password: str = ""
    start_tls: bool = False
    ca_file: str = ""
    display_name_attribute: str = "displayName"
    timeout_s: float = 5.0

    @property
    def configured(self) -> bool:
        return bool(self.uri.strip())

    @classmethod
    def of(cls, extra: Mapping[str, Any]) -> SiteLoginSettings:
        """From the settings' ``extra`` dictionary (unknown keys ignored, wrong types fall back to defaults)."""
        raw = extra.get(KEY) if isinstance(extra, Mapping) else None
        if not isinstance(raw, Mapping):
            return cls()
        try:
            timeout = max(0.5, float(raw.get("timeout_s", 5.0)))
        except (TypeError, ValueError):
            timeout = 5.0
        return cls(uri=str(raw.get("uri") or "").strip(),
                   bind_dn_template=str(raw.get("bind_dn_template") or "").strip(),
                   search_base=str(raw.get("search_base") or "").strip(),
                   search_filter=str(raw.get("search_filter") or DEFAULT_FILTER).strip(),
                   search_bind_dn=str(raw.get("search_bind_dn") or ""),
                   search_bind_password=str(raw.get("search_bind_password") or ""),
                   start_tls=raw.get("start_tls") in (True, "true", "1", 1),
                   ca_file=str(raw.get("ca_file") or "").strip(),
                   display_name_attribute=str(raw.get("display_name_attribute") or "displayName").strip(),
                   timeout_s=timeout)

    def store(self, extra: dict[str, Any]) -> None:
        """Write these settings into ``extra`` (an empty URI removes the site login)."""
        if not self.configured:
            extra.pop(KEY, None)
            return
        extra[KEY] = {"uri": self.uri, "bind_dn_template": self.bind_dn_template, "search_base": self.search_base,
                      "search_filter": self.search_filter, "search_bind_dn": self.search_bind_dn,
                      "search_bind_password": self.search_bind_password, "start_tls": self.start_tls,
                      "ca_file": self.ca_file, "display_name_attribute": self.display_name_attribute,
                      "timeout_s": self.timeout_s}

    def check(self) -> None:
        """Raise :class:`LoginError` (reason ``config``) naming what is wrong with the settings."""
        if not self.uri.startswith(("ldap://", "ldaps://")):
            raise LoginError(f"the site login server {self.uri!r} is not an ldap:// or ldaps:// address", "config")
        if self.start_tls and self.uri.startswith("ldaps://"):
            raise LoginError("StartTLS is for ldap:// addresses (ldaps:// is TLS already)", "config")
        if not self.bind_dn_template and not self.search_base:
            raise LoginError("the site login needs a bind DN template or a search base", "config")
        if self.bind_dn_template and "{login}" not in self.bind_dn_template:
            raise LoginError("the bind DN template must contain {login}", "config")
        if not self.bind_dn_template and "{login}" not in self.search_filter:
            raise LoginError("the search filter must contain {login}", "config")


class LoginAbort:
    """Ends a login from another thread: the connections it opened are shut, a waiting bind wakes up.

    :func:`authenticate` registers each connection it opens here and, once the abort
    is set, raises :class:`LoginError` with the abort's message and reason.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._connections: list[Any] = []
        self.error: LoginError | None = None

    @property
    def aborted(self) -> bool:
        return self.error is not None

    def abort(self, message: str, reason: str) -> None:
        """Stop the login with ``message`` (the first abort wins); safe from any thread."""
        with self._lock:
            if self.error is None:
                self.error = LoginError(message, reason)
            connections = list(self._connections)
        for conn in connections:
            _shut(conn)

    def check(self) -> None:
        """Raise the abort's :class:`LoginError` once it is set."""
        if self.error is not None:
            raise self.error

    def register(self, conn: Any) -> None:
        with self._lock:
            self._connections.append(conn)
            aborted = self.error is not None
        if aborted:
            _shut(conn)


def _shut(conn: Any) -> None:
    """Shut a connection's socket: a recv() blocked on it in another thread returns at once."""
    sock = getattr(conn, "socket", None)
    if sock is None:
        return
    with contextlib.suppress(OSError):  # not connected yet, or closed already: nothing waits on it
        sock.shutdown(socket.SHUT_RDWR)


def _server(cfg: SiteLoginSettings) -> Any:
    from ldap3 import Server, Tls

    use_ssl = cfg.uri.startswith("ldaps://")
    tls = None
    if use_ssl or cfg.start_tls:
        tls = Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=cfg.ca_file or None,
                  version=ssl.PROTOCOL_TLS_CLIENT)
    # ldap3 packs the timeouts into socket options as whole seconds (a float fails in struct.pack).
    return Server(cfg.uri, use_ssl=use_ssl, tls=tls, connect_timeout=_seconds(cfg), get_info="NO_INFO")


def _seconds(cfg: SiteLoginSettings) -> int:
    return max(1, math.ceil(cfg.timeout_s))


def _connect(cfg: SiteLoginSettings, user: str | None, password: str | None,
             abort: LoginAbort | None = None) -> Any:
    """An open (and, with StartTLS, encrypted) connection, not bound yet."""
    from ldap3 import Connection
    from ldap3.core.exceptions import LDAPException, LDAPSocketOpenError, LDAPStartTLSError

    conn = Connection(_server(cfg), user=user, password=password, receive_timeout=_seconds(cfg),
                      raise_exceptions=False, auto_referrals=False, read_only=True)
    if abort is not None:
        abort.register(conn)  # before open(): an abort while the bind waits shuts this connection's socket
    try:
        if abort is not None:
            abort.check()
        conn.open()
        if abort is not None:
            abort.check()
        if cfg.start_tls and not conn.start_tls():
            raise LoginError(f"the site login server {cfg.uri} refused StartTLS", "tls")
    except LDAPStartTLSError as exc:
        _stop_if_aborted(conn, abort, exc)
        raise LoginError(f"StartTLS with the site login server {cfg.uri} failed: {_tls_words(exc)}", "tls") from exc
    except LDAPSocketOpenError as exc:
        _stop_if_aborted(conn, abort, exc)
        words = _tls_words(exc)
        if words:
            raise LoginError(f"the site login server {cfg.uri} is not trusted: {words}", "tls") from exc
        raise LoginError(f"the site login server {cfg.uri} cannot be reached — is it running and the address "
                         "right?", "unreachable") from exc
    except (LDAPException, OSError, ValueError, TypeError, struct.error) as exc:
        _stop_if_aborted(conn, abort, exc)
        raise LoginError(f"the site login server {cfg.uri} cannot be reached ({type(exc).__name__})",
                         "unreachable") from exc
    except LoginError:
        conn.unbind()
        raise
    return conn


def _stop_if_aborted(conn: Any, abort: LoginAbort | None, exc: Exception) -> None:
    """Raise the abort's error (the connection closed) when the failure came from an abort."""
    if abort is not None and abort.error is not None:
        conn.unbind()
        raise abort.error from exc


def _tls_words(exc: Exception) -> str:
    text = str(exc)
    for marker in ("CERTIFICATE_VERIFY_FAILED", "certificate verify failed", "SSL", "TLS", "handshake"):
        if marker in text:
            return "its certificate could not be verified (set the CA file)" if "CERTIFICATE" in text.upper() \
                else "the TLS handshake failed"
    return ""


def _ask(cfg: SiteLoginSettings, abort: LoginAbort | None, operation: Callable[[], Any]) -> Any:
    """Run one LDAP operation; a directory that does not answer (ldap3 raises even with
    ``raise_exceptions=False`` when the socket times out or closes) is a :class:`LoginError`."""
    from ldap3.core.exceptions import LDAPException

    try:
        result = operation()
    except (LDAPException, OSError) as exc:
        if abort is not None:
            abort.check()  # woken by an abort: say so, not "did not answer"
        raise LoginError(f"the site login server {cfg.uri} did not answer within {_seconds(cfg)} s",
                         "unreachable") from exc
    if abort is not None:
        abort.check()
    return result


def _bind(conn: Any, cfg: SiteLoginSettings, abort: LoginAbort | None = None) -> None:
    if _ask(cfg, abort, conn.bind):
        return
    desc = str((conn.result or {}).get("description") or "")
    if desc == "invalidCredentials":
        raise LoginError("wrong user name or password", "credentials")
    if desc in ("confidentialityRequired", "strongerAuthRequired"):
        raise LoginError(f"the site login server {cfg.uri} asks for TLS (turn on StartTLS or use ldaps://)", "tls")
    if not desc:
        raise LoginError(f"the site login server {cfg.uri} did not answer", "unreachable")
    raise LoginError(f"the site login server refused the login ({desc})", "directory")


def _user_dn(cfg: SiteLoginSettings, login: str, abort: LoginAbort | None = None) -> str:
    """The user's entry: from the template, or found by a search (anonymous or with the search account)."""
    from ldap3.utils.conv import escape_filter_chars
    from ldap3.utils.dn import escape_rdn

    if cfg.bind_dn_template:
        return cfg.bind_dn_template.replace("{login}", escape_rdn(login))
    conn = _connect(cfg, cfg.search_bind_dn or None, cfg.search_bind_password or None, abort)
    try:
        if cfg.search_bind_dn:
            _bind(conn, cfg, abort)
        elif not _ask(cfg, abort, conn.bind):  # an anonymous bind
            raise LoginError("the site login server refused an anonymous search (set the search account)",
                             "directory")
        flt = cfg.search_filter.replace("{login}", escape_filter_chars(login))
        _ask(cfg, abort, lambda: conn.search(cfg.search_base, flt, search_scope="SUBTREE", attributes=[],
                                             size_limit=2))
        found = [e.entry_dn for e in conn.entries]
    finally:
        conn.unbind()
    if len(found) != 1:
        # The same words as a wrong password: whether a login name exists is not told.
        raise LoginError("wrong user name or password", "credentials")
    return str(found[0])


def authenticate(cfg: SiteLoginSettings, login: str, password: str, abort: LoginAbort | None = None) -> SiteUser:
    """Check ``login`` and ``password`` by an LDAP bind; the user with the directory's display name.

    Parameters
    ----------
    cfg : SiteLoginSettings
        Where and how to bind.
    login, password : str
        What the user typed.  An empty password is refused here: LDAP takes a bind with an empty
        password as an *unauthenticated* bind and answers success (RFC 4513 5.1.2).
    abort : LoginAbort, optional
        Set from another thread to end the login (see :func:`start_login`).

    Returns
    -------
    SiteUser

    Raises
    ------
    LoginError
        Wrong credentials, server unreachable, TLS not trusted, settings incomplete; the message is a
        plain sentence without the password.
    """
    cfg.check()
    login = login.strip()
    if not login or not password:
        raise LoginError("enter your user name and password", "credentials")
    dn = _user_dn(cfg, login, abort)
    conn = _connect(cfg, dn, password, abort)
    try:
        _bind(conn, cfg, abort)
        name = ""
        attr = cfg.display_name_attribute or "displayName"
        found = _ask(cfg, abort, lambda: conn.search(dn, "(objectClass=*)", search_scope="BASE",
                                                     attributes=[attr, "cn"]))
        if found and conn.entries:
            entry = conn.entries[0]
            for a in (attr, "cn"):
                values = entry.entry_attributes_as_dict.get(a) or []
                if values:
                    name = str(values[0])
                    break
    finally:
        conn.unbind()
    log.info("site login succeeded")  # never the login name: logs carry no person's name
    return SiteUser(login=login, display_name=name, dn=dn)


class Authenticator(Protocol):
    """A login check as the window runs it: raises :class:`LoginError`, stops when ``abort`` is set."""

    def __call__(self, login: str, password: str, abort: LoginAbort | None = None) -> SiteUser: ...


def site_authenticator(cfg: SiteLoginSettings) -> Authenticator:
    """The LDAP bind of ``cfg`` as an :class:`Authenticator`."""

    def check(login: str, password: str, abort: LoginAbort | None = None) -> SiteUser:
        return authenticate(cfg, login, password, abort)

    return check


def deadline_s(cfg: SiteLoginSettings) -> float:
    """How long a whole login may take: three of the directory's timeouts (connect, bind, read the name).

    Each LDAP operation is bounded by ``timeout_s`` already; this bounds the whole,
    whatever the directory does (a search login makes more round trips, a TLS
    handshake may stall).
    """
    return 3.0 * max(cfg.timeout_s, 0.5) + 1.0


class LoginAttempt:
    """One login run on a worker thread, ended by :meth:`cancel` or its deadline.

    ``outcome`` is None while it runs, then the :class:`SiteUser` or the
    :class:`LoginError`; ``finished`` tells whether the worker has returned (a
    cancelled attempt has an outcome at once, its worker ends as its sockets shut).
    Start one with :func:`start_login`.
    """

    def __init__(self, check: Authenticator, login: str, password: str, deadline: float) -> None:
        self.abort = LoginAbort()
        self._check, self._login, self._password = check, login, password
        self._done = threading.Event()
        self._result: SiteUser | LoginError | None = None
        self._thread = threading.Thread(target=self._run, name="site-login", daemon=True)
        self._timer = threading.Timer(deadline, self._expire)
        self._timer.daemon = True
        self._deadline = deadline

    def _start(self) -> LoginAttempt:
        self._thread.start()
        self._timer.start()
        return self

    def _run(self) -> None:
        try:
            result: SiteUser | LoginError = self._check(self._login, self._password, self.abort)
        except LoginError as exc:
            result = exc
        except Exception as exc:  # noqa: BLE001 - the window gets a sentence, never a dead worker
            log.exception("site login failed")
            result = LoginError(f"the site login failed ({type(exc).__name__})", "directory")
        finally:
            self._password = ""
            self._timer.cancel()
        if self.abort.error is not None:  # cancelled or out of time: that is the answer, whatever came back
            result = self.abort.error
        self._result = result
        self._done.set()

    def _expire(self) -> None:
        self.abort.abort(f"the site login server did not answer within {self._deadline:g} s", "unreachable")

    def cancel(self) -> None:
        """End the attempt now (its outcome: a :class:`LoginError` with reason ``cancelled``)."""
        self.abort.abort("login cancelled", "cancelled")

    @property
    def outcome(self) -> SiteUser | LoginError | None:
        if self.abort.error is not None and not self._done.is_set():
            return self.abort.error
        return self._result

    @property
    def finished(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for the worker to return; True when it has."""
        return self._done.wait(timeout)


def start_login(check: Authenticator, login: str, password: str, deadline: float) -> LoginAttempt:
    """Run ``check(login, password, abort)`` on a worker thread, ended after ``deadline`` seconds at the latest.

    Parameters
    ----------
    check : Authenticator
        The login check (:func:`site_authenticator`).
    login, password : str
        What the reader typed (the password is dropped once the check returns).
    deadline : float
        Seconds; past them the attempt ends as unreachable (:func:`deadline_s`).

    Returns
    -------
    LoginAttempt
        Poll its ``outcome`` (a window does from a timer) or ``wait`` for it.
    """
    return LoginAttempt(check, login, password, deadline)._start()

