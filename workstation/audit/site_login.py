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
:func:`authenticate`.
"""

from __future__ import annotations

import logging
import math
import ssl
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

KEY = "site_login"
DEFAULT_FILTER = "(uid={login})"


class LoginError(Exception):
    """A login that did not succeed; ``reason`` is one of :data:`REASONS`, the message a plain sentence."""

    REASONS = ("credentials", "unreachable", "tls", "config", "directory")

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


def _connect(cfg: SiteLoginSettings, user: str | None, password: str | None) -> Any:
    """An open (and, with StartTLS, encrypted) connection, not bound yet."""
    from ldap3 import Connection
    from ldap3.core.exceptions import LDAPException, LDAPSocketOpenError, LDAPStartTLSError

    conn = Connection(_server(cfg), user=user, password=password, receive_timeout=_seconds(cfg),
                      raise_exceptions=False, auto_referrals=False, read_only=True)
    try:
        conn.open()
        if cfg.start_tls and not conn.start_tls():
            raise LoginError(f"the site login server {cfg.uri} refused StartTLS", "tls")
    except LDAPStartTLSError as exc:
        raise LoginError(f"StartTLS with the site login server {cfg.uri} failed: {_tls_words(exc)}", "tls") from exc
    except LDAPSocketOpenError as exc:
        words = _tls_words(exc)
        if words:
            raise LoginError(f"the site login server {cfg.uri} is not trusted: {words}", "tls") from exc
        raise LoginError(f"the site login server {cfg.uri} cannot be reached — is it running and the address "
                         "right?", "unreachable") from exc
    except (LDAPException, OSError, ValueError, TypeError, struct.error) as exc:
        raise LoginError(f"the site login server {cfg.uri} cannot be reached ({type(exc).__name__})",
                         "unreachable") from exc
    return conn


def _tls_words(exc: Exception) -> str:
    text = str(exc)
    for marker in ("CERTIFICATE_VERIFY_FAILED", "certificate verify failed", "SSL", "TLS", "handshake"):
        if marker in text:
            return "its certificate could not be verified (set the CA file)" if "CERTIFICATE" in text.upper() \
                else "the TLS handshake failed"
    return ""


def _bind(conn: Any, cfg: SiteLoginSettings) -> None:
    if conn.bind():
        return
    desc = str((conn.result or {}).get("description") or "")
    if desc == "invalidCredentials":
        raise LoginError("wrong user name or password", "credentials")
    if desc in ("confidentialityRequired", "strongerAuthRequired"):
        raise LoginError(f"the site login server {cfg.uri} asks for TLS (turn on StartTLS or use ldaps://)", "tls")
    if not desc:
        raise LoginError(f"the site login server {cfg.uri} did not answer", "unreachable")
    raise LoginError(f"the site login server refused the login ({desc})", "directory")


def _user_dn(cfg: SiteLoginSettings, login: str) -> str:
    """The user's entry: from the template, or found by a search (anonymous or with the search account)."""
    from ldap3.utils.conv import escape_filter_chars
    from ldap3.utils.dn import escape_rdn

    if cfg.bind_dn_template:
        return cfg.bind_dn_template.replace("{login}", escape_rdn(login))
    conn = _connect(cfg, cfg.search_bind_dn or None, cfg.search_bind_password or None)
    try:
        if cfg.search_bind_dn:
            _bind(conn, cfg)
        elif not conn.bind():  # an anonymous bind
            raise LoginError("the site login server refused an anonymous search (set the search account)",
                             "directory")
        flt = cfg.search_filter.replace("{login}", escape_filter_chars(login))
        conn.search(cfg.search_base, flt, search_scope="SUBTREE", attributes=[], size_limit=2)
        found = [e.entry_dn for e in conn.entries]
    finally:
        conn.unbind()
    if len(found) != 1:
        # The same words as a wrong password: whether a login name exists is not told.
        raise LoginError("wrong user name or password", "credentials")
    return str(found[0])


def authenticate(cfg: SiteLoginSettings, login: str, password: str) -> SiteUser:
    """Check ``login`` and ``password`` by an LDAP bind; the user with the directory's display name.

    Parameters
    ----------
    cfg : SiteLoginSettings
        Where and how to bind.
    login, password : str
        What the user typed.  An empty password is refused here: LDAP takes a bind with an empty
        password as an *unauthenticated* bind and answers success (RFC 4513 5.1.2).

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
    dn = _user_dn(cfg, login)
    conn = _connect(cfg, dn, password)
    try:
        _bind(conn, cfg)
        name = ""
        attr = cfg.display_name_attribute or "displayName"
        if conn.search(dn, "(objectClass=*)", search_scope="BASE", attributes=[attr, "cn"]) and conn.entries:
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
