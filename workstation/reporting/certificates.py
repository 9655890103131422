"""The radiologist's signing identity (X.509 certificate + RSA key) and the trust store.

Key material is read from the files the user names (PKCS#12, or PEM key and
certificate) each time a report is signed; the passphrase is asked for then
and never stored.  A test certificate for demos is made by
:func:`create_test_certificate`.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # cryptography (~40 ms to import) loads when a key or certificate is read, not at start-up
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import rsa

EXPIRY_WARNING_DAYS = 30


class CertificateError(ValueError):
    """A key or certificate cannot be read, does not match, or cannot sign."""


@dataclass(frozen=True)
class SigningIdentity:
    """An RSA private key with its certificate."""

    key: rsa.RSAPrivateKey
    certificate: x509.Certificate

    @property
    def info(self) -> CertificateInfo:
        return CertificateInfo.of(self.certificate)


@dataclass(frozen=True)
class CertificateInfo:
    """What a person wants to know about a certificate."""

    subject: str
    common_name: str
    organisation: str
    issuer: str
    not_before: dt.datetime
    not_after: dt.datetime
    serial: int
    fingerprint_sha256: str

    @classmethod
    def of(cls, cert: x509.Certificate) -> CertificateInfo:
        from cryptography.hazmat.primitives import hashes
        from cryptography.x509.oid import NameOID

        return cls(
            subject=cert.subject.rfc4514_string(),
            common_name=_attr(cert.subject, NameOID.COMMON_NAME),
            organisation=_attr(cert.subject, NameOID.ORGANIZATION_NAME),
            issuer=cert.issuer.rfc4514_string(),
            not_before=cert.not_valid_before_utc,
            not_after=cert.not_valid_after_utc,
            serial=cert.serial_number,
            fingerprint_sha256=cert.fingerprint(hashes.SHA256()).hex(),
        )

    def days_left(self, now: dt.datetime | None = None) -> float:
        now = now or dt.datetime.now(dt.UTC)
        return (self.not_after - now).total_seconds() / 86400

    def expiry_warning(self, now: dt.datetime | None = None) -> str:
        """A warning when the certificate has expired or expires within 30 days, else ''."""
        left = self.days_left(now)
        if left < 0:
            return f"the signing certificate expired on {self.not_after:%Y-%m-%d}"
        if left < EXPIRY_WARNING_DAYS:
            return f"the signing certificate expires in {int(left)} days ({self.not_after:%Y-%m-%d})"
        return ""


def _attr(name: x509.Name, oid: x509.ObjectIdentifier) -> str:
    values = name.get_attributes_for_oid(oid)
    return str(values[0].value) if values else ""


def _password(passphrase: str | bytes | None) -> bytes | None:
    if passphrase is None or passphrase == "":
        return None
    return passphrase.encode("utf-8") if isinstance(passphrase, str) else passphrase


def load_certificate(path: str | os.PathLike[str]) -> x509.Certificate:
    """A certificate from a PEM or DER file."""
    from cryptography import x509

    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise CertificateError(f"cannot read certificate {path}: {exc.strerror or exc}") from None
    try:
        if b"-----BEGIN" in data:
            return x509.load_pem_x509_certificate(data)
        return x509.load_der_x509_certificate(data)
    except ValueError:
        raise CertificateError(f"{path} is not an X.509 certificate (PEM or DER)") from None


def load_identity(key_path: str | os.PathLike[str], cert_path: str | os.PathLike[str] | None = None,
                  passphrase: str | bytes | None = None) -> SigningIdentity:
    """Read the signing key and certificate.

    Parameters
    ----------
    key_path : path
        A PKCS#12 file (key and certificate together), or a PEM private key.
    cert_path : path, optional
        The PEM/DER certificate when ``key_path`` is a PEM key; ignored for PKCS#12.
    passphrase : str, optional
        The key's passphrase (asked from the user; never stored).
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import pkcs12

    try:
        data = Path(key_path).read_bytes()
    except OSError as exc:
        raise CertificateError(f"cannot read key {key_path}: {exc.strerror or exc}") from None
    password = _password(passphrase)
    if b"-----BEGIN" not in data:
        try:
            key, cert, _chain = pkcs12.load_key_and_certificates(data, password)
        except ValueError:
            raise CertificateError(
                f"cannot open {key_path}: wrong passphrase, or not a PKCS#12 file") from None
        if cert is None and cert_path:
            cert = load_certificate(cert_path)
    else:
        try:
            key = serialization.load_pem_private_key(data, password)
        except TypeError:
            raise CertificateError(f"the key {key_path} is protected: a passphrase is needed") from None
        except ValueError:
            raise CertificateError(f"cannot open the key {key_path}: wrong passphrase, or not a PEM key") from None
        if not cert_path:
            raise CertificateError("a PEM key needs its certificate (--cert)")
        cert = load_certificate(cert_path)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise CertificateError("only RSA keys can sign DICOM objects (PS3.15 RSA signature profiles)")
    if cert is None:
        raise CertificateError(f"{key_path} holds no certificate")
    public = cert.public_key()  # a certificate of another key type cannot be the RSA key's
    if not isinstance(public, rsa.RSAPublicKey) or public.public_numbers() != key.public_key().public_numbers():
        raise CertificateError("the certificate does not belong to the key")
    return SigningIdentity(key, cert)


def is_pkcs12(path: str | os.PathLike[str]) -> bool:
    try:
        with open(path, "rb") as f:
            return b"-----BEGIN" not in f.read(4096)
    except OSError:
        return False


@dataclass(frozen=True)
class TestCertificate:
    key_pem: Path
    cert_pem: Path
    pkcs12: Path


def create_test_certificate(out_dir: str | os.PathLike[str], common_name: str, organisation: str = "",
                            *, passphrase: str | None = None, days: int = 365, key_size: int = 2048,
                            now: dt.datetime | None = None, unit: str = "") -> TestCertificate:
    """A self-signed RSA certificate for demos and tests (not for clinical use).

    Writes ``signer-key.pem`` (encrypted when a passphrase is given),
    ``signer-cert.pem`` and ``signer.p12``.  notBefore is an hour in the past:
    a certificate made a moment ago must already be valid where clocks differ.
    ``unit`` goes into the subject's organisational unit (the window's test
    identities say "Not for clinical use" there).
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import pkcs12
    from cryptography.x509.oid import NameOID

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    now = now or dt.datetime.now(dt.UTC)
    key = rsa.generate_private_key(public_exponent=65537, key_size=key_size)
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if organisation:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation))
    if unit:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit))
    name = x509.Name(attrs)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .sign(key, hashes.SHA256())
    )
    enc = (serialization.BestAvailableEncryption(passphrase.encode("utf-8")) if passphrase
           else serialization.NoEncryption())
    paths = TestCertificate(out / "signer-key.pem", out / "signer-cert.pem", out / "signer.p12")
    _write_private(paths.key_pem, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, enc))
    paths.cert_pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    _write_private(paths.pkcs12, pkcs12.serialize_key_and_certificates(
        common_name.encode("utf-8"), key, cert, None, enc))
    return paths


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def _certificates_in(path: Path) -> list[x509.Certificate]:
    from cryptography import x509

    data = path.read_bytes() if path.exists() else b""
    if data.count(b"BEGIN CERTIFICATE") > 1:
        return list(x509.load_pem_x509_certificates(data))
    return [load_certificate(path)]


class TrustStore:
    """Certificates the user trusts: a signer is trusted if it is one of them or issued by one."""

    def __init__(self, certificates: list[x509.Certificate]) -> None:
        self.certificates = certificates

    @classmethod
    def from_paths(cls, paths: Iterable[str | os.PathLike[str]]) -> TrustStore:
        """PEM/DER files, or folders of them (``*.pem``, ``*.crt``, ``*.cer``, ``*.der``)."""
        certs: list[x509.Certificate] = []
        for p in paths:
            p = Path(p)
            if p.is_dir():
                # A folder may hold keys too: take what reads as certificates.
                for f in sorted(f for f in p.iterdir() if f.suffix.lower() in (".pem", ".crt", ".cer", ".der")):
                    try:
                        certs.extend(_certificates_in(f))
                    except CertificateError:
                        continue
            else:
                certs.extend(_certificates_in(p))
        return cls(certs)

    def trusts(self, cert: x509.Certificate) -> bool:
        """True when ``cert`` is a trusted certificate or was issued (signed) by one."""
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes

        fp = cert.fingerprint(hashes.SHA256())
        for anchor in self.certificates:
            if anchor.fingerprint(hashes.SHA256()) == fp:
                return True
            if anchor.subject == cert.issuer:
                try:
                    cert.verify_directly_issued_by(anchor)
                    return True
                except (InvalidSignature, ValueError, TypeError):
                    continue
        return False
