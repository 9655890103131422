"""Setting up the reader's signing identity from the window (no terminal): inspect, import, create a test one.

The settings dialog only calls these.  Imported key material is copied into the
home's configuration folder (owner-only permissions), so the report still signs
after the original file moved; only paths go into the settings, never a
passphrase.  A test identity is labelled "not for clinical use" in its
certificate (organisational unit), and the dialog says so whenever it is in use.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from workstation.reporting.certificates import (
    EXPIRY_WARNING_DAYS,
    CertificateError,
    CertificateInfo,
    create_test_certificate,
    is_pkcs12,
    load_certificate,
    load_identity,
)
from workstation.reporting.settings import ReportingSettings

if TYPE_CHECKING:  # cryptography loads when an identity is inspected or made, not when the window starts
    from cryptography import x509

TEST_LABEL = "Not for clinical use"
SIGNING_FOLDER = "signing"
_PN_COMPONENT = re.compile(r"^[^\\\r\n]*$")


@dataclass(frozen=True)
class IdentitySummary:
    """What the settings dialog shows about the signing identity in use."""

    configured: bool
    subject: str = ""
    issuer: str = ""
    valid_from: str = ""
    valid_to: str = ""
    days_left: int = 0
    warning: str = ""
    test_identity: bool = False
    problem: str = ""

    def lines(self) -> list[str]:
        if not self.configured:
            return ["No signing identity: import your certificate or create a test identity"]
        if self.problem:
            return [self.problem]
        out = [f"Subject: {self.subject}", f"Issuer: {self.issuer}",
               f"Valid: {self.valid_from} to {self.valid_to} ({self.days_left} days left)"]
        if self.test_identity:
            out.append(f"TEST IDENTITY — {TEST_LABEL.upper()}")
        if self.warning:
            out.append(f"Warning: {self.warning}")
        return out


def is_test_certificate(cert: x509.Certificate) -> bool:
    """A certificate made for demos: labelled so, or self-signed by the test-certificate maker."""
    from cryptography.x509.oid import NameOID

    units = [str(a.value) for a in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)]
    if any(TEST_LABEL.lower() in u.lower() for u in units):
        return True
    orgs = [str(a.value) for a in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)]
    return cert.subject == cert.issuer and "Lightbox Demo" in orgs


def summarize_certificate(cert: x509.Certificate, now: dt.datetime | None = None) -> IdentitySummary:
    info = CertificateInfo.of(cert)
    return IdentitySummary(
        configured=True, subject=info.subject, issuer=info.issuer,
        valid_from=f"{info.not_before:%Y-%m-%d}", valid_to=f"{info.not_after:%Y-%m-%d}",
        days_left=int(info.days_left(now)), warning=info.expiry_warning(now), test_identity=is_test_certificate(cert))


def describe_identity(rs: ReportingSettings, now: dt.datetime | None = None) -> IdentitySummary:
    """The signing identity the settings name, read without its passphrase (the certificate is public)."""
    if not rs.key_path:
        return IdentitySummary(configured=False)
    try:
        if rs.cert_path:
            return summarize_certificate(load_certificate(rs.cert_path), now)
        if is_pkcs12(rs.key_path):
            return summarize_certificate(load_identity(rs.key_path, None, None).certificate, now)
        return IdentitySummary(configured=True, problem="A PEM key without its certificate: import the certificate too")
    except CertificateError as exc:
        if "passphrase" in str(exc):
            return IdentitySummary(configured=True, problem="The key file is protected: its certificate shows after "
                                                            "importing it again with the passphrase")
        return IdentitySummary(configured=True, problem=str(exc))


def _copy_private(src: Path, dest: Path) -> None:
    tmp = dest.with_name(dest.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f, open(src, "rb") as g:
        shutil.copyfileobj(g, f)
    os.replace(tmp, dest)


def import_identity(config_dir: Path, key_path: str | os.PathLike[str], cert_path: str | os.PathLike[str] | None = None,
                    passphrase: str | None = None) -> tuple[ReportingSettings, IdentitySummary]:
    """Check a PKCS#12 file (or a PEM key and its certificate) and copy it into ``config_dir``/signing.

    Returns the reporting settings' new key and certificate paths (in a
    ReportingSettings holding only those) and the identity's summary.

    Raises
    ------
    CertificateError
        Unreadable, wrong passphrase, not RSA, or the certificate does not belong to the key; nothing is copied.
    """
    identity = load_identity(key_path, cert_path, passphrase)
    folder = Path(config_dir) / SIGNING_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    pkcs = is_pkcs12(key_path)
    key_dest = folder / ("signer.p12" if pkcs else "signer-key.pem")
    _copy_private(Path(key_path), key_dest)
    cert_dest = folder / "signer-cert.pem"
    from cryptography.hazmat.primitives import serialization

    # The certificate is public: kept readable beside the key, so the dialog shows it without the passphrase.
    cert_dest.write_bytes(identity.certificate.public_bytes(serialization.Encoding.PEM))
    return (ReportingSettings(key_path=str(key_dest), cert_path=str(cert_dest)),
            summarize_certificate(identity.certificate))


def create_test_identity(config_dir: Path, common_name: str,
                         organisation: str = "") -> tuple[ReportingSettings, IdentitySummary]:
    """A self-signed identity labelled "not for clinical use", kept in ``config_dir``/signing/test."""
    name = common_name.strip() or "Test Reader"
    made = create_test_certificate(Path(config_dir) / SIGNING_FOLDER / "test", name, organisation or "Lightbox Demo",
                                   unit=TEST_LABEL)
    cert = load_certificate(made.cert_pem)
    return ReportingSettings(key_path=str(made.key_pem), cert_path=str(made.cert_pem)), summarize_certificate(cert)


def validate_person_name(text: str) -> str:
    """A DICOM PN (``Family^Given^Middle^Prefix^Suffix``) from what was typed: "Jane Doe" becomes "Doe^Jane".

    Raises
    ------
    ValueError
        Backslashes or line breaks, more than five components, or a component group over 64 characters.
    """
    value = text.strip()
    if not value:
        return ""
    if "^" not in value and "=" not in value:
        parts = value.split()
        # One word is a family name: the caret says so (PS3.5 6.2.1.2), not a name of unknown parts.
        value = f"{parts[-1]}^{' '.join(parts[:-1])}" if len(parts) > 1 else value + "^"
    if not _PN_COMPONENT.match(value):
        raise ValueError("a person name holds no backslash or line break")
    for group in value.split("="):
        if len(group.split("^")) > 5:
            raise ValueError("a person name has at most five components: Family^Given^Middle^Prefix^Suffix")
        if len(group) > 64:
            raise ValueError("a person name is at most 64 characters")
    return value


def expiry_days() -> int:
    return EXPIRY_WARNING_DAYS
