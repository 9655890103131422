"""Audit messages to an Audit Record Repository as syslog: RFC 5424 messages over TLS (RFC 5425,
octet-counting framing), plain TCP with the same framing, or UDP (RFC 5426, one message per datagram).
"""

from __future__ import annotations

import datetime as dt
import socket
import ssl
from dataclasses import dataclass
from typing import Any
from collections.abc import Mapping

# IHE ITI TF-2 3.20.7: facility 10 (security/authorization), severity 5 (notice); MSGID "IHE+RFC-3881".
PRI = 10 * 8 + 5
APP_NAME = "lightbox"
MSG_ID = "IHE+RFC-3881"
UDP_MAX = 65000  # an audit message larger than a datagram is still sent; the network may drop it


def _field(value: str, limit: int) -> str:
    clean = "".join(c for c in value if 33 <= ord(c) <= 126)[:limit]
    return clean or "-"


def format_message(xml: str, host: str, procid: str | int, time: dt.datetime | None = None) -> bytes:
    """One RFC 5424 message carrying ``xml`` (UTF-8 with the BOM the RFC asks for with UTF-8 MSG)."""
    stamp = (time or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).isoformat(timespec="milliseconds")
    stamp = stamp.replace("+00:00", "Z")
    header = f"<{PRI}>1 {stamp} {_field(host, 255)} {APP_NAME} {_field(str(procid), 128)} {MSG_ID} - "
    return header.encode("ascii") + b"\xef\xbb\xbf" + xml.encode("utf-8")


def frame(message: bytes) -> bytes:
    """RFC 5425 octet-counting: ``MSG-LEN SP SYSLOG-MSG``."""
    return str(len(message)).encode("ascii") + b" " + message


@dataclass(frozen=True)
class Repository:
    """Where audit messages go: ``host``, ``port``, ``transport`` (tls, tcp, udp) and the TLS files."""

    host: str
    port: int
    transport: str = "tls"
    ca_file: str = ""
    cert_file: str = ""
    key_file: str = ""
    timeout_s: float = 5.0

    @classmethod
    def from_settings(cls, extra: Mapping[str, Any]) -> Repository | None:
        """From ``audit.repository`` ("host:port") and its companions in the settings, or None when unset."""
        raw = extra.get("audit") if isinstance(extra, Mapping) else None
        if not isinstance(raw, Mapping) or not raw.get("repository"):
            return None
        host, _, port = str(raw["repository"]).rpartition(":")
        transport = str(raw.get("transport") or "tls").lower()
        if transport not in ("tls", "tcp", "udp"):
            raise ValueError(f"audit transport must be tls, tcp or udp, not {transport!r}")
        return cls(host=host or "127.0.0.1", port=int(port or (6514 if transport == "tls" else 514)),
                   transport=transport, ca_file=str(raw.get("ca_file") or ""),
                   cert_file=str(raw.get("cert_file") or ""), key_file=str(raw.get("key_file") or ""),
                   timeout_s=float(raw.get("timeout_s") or 5.0))

    def describe(self) -> str:
        return f"{self.transport}://{self.host}:{self.port}"


class Connection:
    """One open connection to the repository; ``send`` raises OSError when the repository is gone."""

    def __init__(self, repo: Repository) -> None:
        self.repo = repo
        self._sock: socket.socket | None = None
        if repo.transport == "udp":
            self._sock = socket.socket(socket.AF_INET6 if ":" in repo.host else socket.AF_INET, socket.SOCK_DGRAM)
            self._sock.connect((repo.host, repo.port))
            return
        raw = socket.create_connection((repo.host, repo.port), timeout=repo.timeout_s)
        if repo.transport == "tls":
            ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=repo.ca_file or None)
            ctx.minimum_version = ssl.TLSVersion.TLSv1_2
            if repo.cert_file:
                ctx.load_cert_chain(repo.cert_file, repo.key_file or None)
            try:
                raw = ctx.wrap_socket(raw, server_hostname=repo.host)
            except BaseException:
                raw.close()
                raise
        self._sock = raw

    def send(self, message: bytes) -> None:
        assert self._sock is not None
        if self.repo.transport == "udp":
            self._sock.send(message)
        else:
            self._sock.sendall(frame(message))

    def close(self) -> None:
        if self._sock is None:
            return
        sock, self._sock = self._sock, None
        try:
            if isinstance(sock, ssl.SSLSocket):
                sock.unwrap()  # close_notify, so the receiver takes everything before the close
        except (OSError, ValueError):
            pass
        finally:
            sock.close()
