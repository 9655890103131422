"""rsyslog from Debian's packages as the Audit Record Repository: syslog over TLS (imtcp + gtls) into a file.

The test starts it on 127.0.0.1 with its own configuration and certificates (made here with
``cryptography``), can stop and start it again on the same port and file, and always stops it.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.audit.daemon import start_daemon, stop_daemon

RSYSLOGD = shutil.which("rsyslogd") or "/usr/sbin/rsyslogd"
GTLS = "/usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_gtls.so"


def available() -> bool:
    return os.path.exists(RSYSLOGD) and any(Path(p).exists() for p in (
        GTLS, "/usr/lib/rsyslog/lmnsd_gtls.so", "/usr/lib/aarch64-linux-gnu/rsyslog/lmnsd_gtls.so"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_pki(folder: Path) -> dict[str, Path]:
    """A CA and a server certificate for 127.0.0.1 signed by it (PEM files)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.UTC)

    def _key():
        return ec.generate_private_key(ec.SECP256R1())

    def _pem_key(key) -> bytes:
        return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                 serialization.NoEncryption())

    ca_key = _key()
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Lightbox test audit CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(hours=1))
          .not_valid_after(now + dt.timedelta(days=2))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = _key()
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])).issuer_name(ca_name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + dt.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                        x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(ca_key, hashes.SHA256()))
    out = {"ca": folder / "ca.pem", "cert": folder / "server.pem", "key": folder / "server.key"}
    out["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    out["cert"].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    out["key"].write_bytes(_pem_key(key))
    os.chmod(out["key"], 0o600)
    return out


@dataclass
class RsyslogRepository:
    """One rsyslogd listening for RFC 5425 syslog over TLS on ``port``, writing each MSG as a line of ``output``."""

    folder: Path
    port: int = field(default_factory=free_port)
    udp_port: int = field(default_factory=free_port)  # RFC 5426 input beside the TLS one
    proc: subprocess.Popen | None = None

    def __post_init__(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.pki = make_pki(self.folder)
        self.output = self.folder / "received.log"
        self.work = self.folder / "work"
        self.work.mkdir(exist_ok=True)
        self.conf = self.folder / "rsyslog.conf"
        self.conf.write_text(f"""
global(workDirectory="{self.work}" maxMessageSize="256k"
       DefaultNetstreamDriver="gtls"
       DefaultNetstreamDriverCAFile="{self.pki['ca']}"
       DefaultNetstreamDriverCertFile="{self.pki['cert']}"
       DefaultNetstreamDriverKeyFile="{self.pki['key']}")
module(load="imtcp" StreamDriver.Name="gtls" StreamDriver.Mode="1" StreamDriver.AuthMode="anon")
input(type="imtcp" address="127.0.0.1" port="{self.port}")
module(load="imudp")
input(type="imudp" address="127.0.0.1" port="{self.udp_port}")
template(name="auditline" type="string" string="%hostname% %app-name% %msgid% %msg%\\n")
action(type="omfile" file="{self.output}" template="auditline" flushOnTXEnd="on" asyncWriting="off")
""")

    def start(self) -> None:
        assert self.proc is None
        self.proc = start_daemon([RSYSLOGD, "-n", "-f", str(self.conf), "-i", str(self.folder / "rsyslogd.pid")],
                                 self.port, "rsyslogd", self.folder / "rsyslogd.out")

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        stop_daemon(proc)

    def messages(self) -> list[str]:
        """The audit messages (XML) received so far, in order."""
        if not self.output.exists():
            return []
        out = []
        for line in self.output.read_text(encoding="utf-8", errors="replace").splitlines():
            parts = line.split(" ", 3)
            if len(parts) == 4 and parts[2] == "IHE+RFC-3881":
                out.append(parts[3].lstrip("\ufeff").strip())
        return out

    def wait_for(self, count: int, timeout: float = 20.0) -> list[str]:
        """The messages once there are at least ``count`` (or what there is after ``timeout``)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.messages()
            if len(got) >= count:
                return got
            time.sleep(0.1)
        return self.messages()
