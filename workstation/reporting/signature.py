"""DICOM digital signatures: sign and verify (PS3.15 Annex C, PS3.3 C.12.1.1.3).

A signature adds an item to the MAC Parameters Sequence (4FFE,0001) naming
the MAC algorithm and the Data Elements Signed, and an item to the Digital
Signatures Sequence (FFFA,FFFA) holding the signer's certificate and the
RSASSA-PKCS1-v1_5 signature over the MAC bytes (:mod:`.mac`) followed by
the signature item's own MAC ID Number, Digital Signature UID, DateTime,
Certificate Type and Purpose Code Sequence.

Verification handles any object signed this way: Lightbox's SHA256 and
DCMTK's default RIPEMD160, which the ``cryptography`` package cannot verify;
for it (and MD5) the DigestInfo is recovered from the signature with the
public key and compared with the digest computed here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any

from pydicom import dcmread
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import UID, ExplicitVRLittleEndian, generate_uid

from workstation.reporting.certificates import CertificateInfo, SigningIdentity, TrustStore
from workstation.reporting.codes import Coded

if TYPE_CHECKING:  # cryptography loads when a report is signed or checked, not when the window starts
    from cryptography.hazmat.primitives.asymmetric import rsa
from workstation.reporting.mac import (
    DIGITAL_SIGNATURES_SEQUENCE,
    MAC_PARAMETERS_SEQUENCE,
    dataset_bytes,
    mac_bytes,
    signable_tags,
)

CERTIFICATE_TYPE = "X509_1993_SIG"
# Signature item fields that are not part of what is signed.
_UNSIGNED_ITEM_TAGS = (0x04000115, 0x04000120, 0x04000305, 0x04000310)  # certificate, signature, timestamp

PURPOSE_AUTHOR = Coded("1", "ASTM-sigpurpose", "Author's Signature")
PURPOSE_VERIFICATION = Coded("5", "ASTM-sigpurpose", "Verification Signature")

# DER prefixes of DigestInfo (PKCS#1 v1.5), with and without the NULL parameters.
_DIGEST_INFO_OIDS = {
    "RIPEMD160": bytes.fromhex("06052b24030201"),
    "MD5": bytes.fromhex("06082a864886f70d0205"),
    "SHA1": bytes.fromhex("06052b0e03021a"),
    "SHA256": bytes.fromhex("0609608648016503040201"),
    "SHA384": bytes.fromhex("0609608648016503040202"),
    "SHA512": bytes.fromhex("0609608648016503040203"),
}
#: MAC algorithms the ``cryptography`` package verifies itself (by the name of its hash class).
_CRYPTO_HASHES = ("SHA1", "SHA256", "SHA384", "SHA512")


class SignatureError(ValueError):
    """The object cannot be signed (unreadable, or the signature would not verify)."""


class SignatureStatus(str, Enum):
    VALID = "valid"
    INVALID = "invalid – document altered"
    UNTRUSTED = "untrusted certificate"
    UNSIGNED = "unsigned"
    UNVERIFIABLE = "cannot be verified"


@dataclass
class SignatureCheck:
    """The verdict on one signature, with what a reader needs to judge it."""

    status: SignatureStatus
    mac_id: int | None = None
    signature_uid: str = ""
    signed_at: str = ""
    algorithm: str = ""
    purpose: str = ""
    signer: CertificateInfo | None = None
    covered: list[str] = field(default_factory=list)  # keywords (or tags) of the signed elements
    trusted: bool = False
    message: str = ""

    @property
    def cryptographically_valid(self) -> bool:
        return self.status in (SignatureStatus.VALID, SignatureStatus.UNTRUSTED)

    def as_dict(self) -> dict[str, Any]:
        s = self.signer
        return {
            "status": self.status.value, "valid": self.status is SignatureStatus.VALID, "mac_id": self.mac_id,
            "signature_uid": self.signature_uid, "signed_at": self.signed_at, "algorithm": self.algorithm,
            "purpose": self.purpose, "trusted": self.trusted, "message": self.message,
            "signer": None if s is None else {"subject": s.subject, "issuer": s.issuer,
                                              "not_before": s.not_before.isoformat(),
                                              "not_after": s.not_after.isoformat()},
            "covered_elements": self.covered,
        }


def utc_datetime(now: dt.datetime | None = None) -> str:
    """A DT value in UTC (DCMTK 3.6.7 ignores the offset when it checks the certificate's validity)."""
    now = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    return now.strftime("%Y%m%d%H%M%S.%f") + "+0000"


def _mac_transfer_syntax(ds: Dataset) -> UID:
    """Explicit VR Little Endian, or the file's own encapsulated (compressed) transfer syntax.

    Compressed pixel data cannot be re-encoded losslessly in another syntax,
    so (as DCMTK does) the MAC is computed in the file's own syntax, whose
    data set encoding is explicit VR little endian too.
    """
    meta = getattr(ds, "file_meta", None)
    ts = UID(str(meta.get("TransferSyntaxUID", ExplicitVRLittleEndian))) if meta is not None else ExplicitVRLittleEndian
    return ts if ts.is_compressed and ts.is_little_endian else ExplicitVRLittleEndian


def _explicit_little_endian(uid: str) -> bool:
    ts = UID(str(uid))
    return ts == ExplicitVRLittleEndian or (ts.is_transfer_syntax and ts.is_little_endian and not ts.is_implicit_VR)


def encode(ds: Dataset) -> bytes:
    """The Part 10 file of ``ds`` in its MAC transfer syntax (Explicit VR Little Endian unless compressed)."""
    syntax = _mac_transfer_syntax(ds)
    if getattr(ds, "file_meta", None) is None:
        from pydicom.dataset import FileMetaDataset

        ds.file_meta = FileMetaDataset()
    current = ds.file_meta.get("TransferSyntaxUID")
    if (current is not None and not UID(str(current)).is_little_endian) \
            or getattr(ds, "original_encoding", (None, True))[1] is False:
        raise SignatureError("big endian objects cannot be signed here: convert them to little endian first")
    ds.file_meta.TransferSyntaxUID = syntax
    # Objects read without a file meta header get one from their own UIDs.
    if "SOPClassUID" in ds and "MediaStorageSOPClassUID" not in ds.file_meta:
        ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    if "SOPInstanceUID" in ds and "MediaStorageSOPInstanceUID" not in ds.file_meta:
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


def sign(ds: Dataset, identity: SigningIdentity, *, purpose: Coded = PURPOSE_VERIFICATION,
         tags: Iterable[int] | None = None, now: dt.datetime | None = None) -> Dataset:
    """Sign ``ds`` and return the signed dataset (re-read from its encoding).

    The dataset is encoded first and the MAC computed on what was encoded,
    so the file written from the returned dataset carries exactly the signed
    bytes.  ``tags`` defaults to every top-level signable element.  The
    signature is verified before it is returned.

    Raises
    ------
    SignatureError
        The signature did not verify (it is never returned then).
    """
    ds = dcmread(io.BytesIO(encode(ds)))
    signed = sorted({int(t) for t in tags}) if tags is not None else [int(t) for t in signable_tags(ds)]
    mac_params: DataElement | None = ds.get(MAC_PARAMETERS_SEQUENCE)  # None when not signed yet
    existing = [int(i.MACIDNumber) for i in mac_params.value] if mac_params is not None else []
    mac_id = max(existing, default=0) + 1
    item = Dataset()
    item.MACIDNumber = mac_id
    item.DigitalSignatureUID = generate_uid(prefix="2.25.")
    item.DigitalSignatureDateTime = utc_datetime(now)
    item.CertificateType = CERTIFICATE_TYPE
    purpose_item = Dataset()
    purpose_item.CodeValue, purpose_item.CodingSchemeDesignator, purpose_item.CodeMeaning = purpose.as_list()
    item.DigitalSignaturePurposeCodeSequence = [purpose_item]
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding
    from cryptography.hazmat.primitives.serialization import Encoding

    data = mac_bytes(ds, signed) + dataset_bytes(item, skip=_UNSIGNED_ITEM_TAGS)
    item.CertificateOfSigner = identity.certificate.public_bytes(Encoding.DER)
    item.Signature = identity.key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    params = Dataset()
    params.MACIDNumber = mac_id
    params.MACCalculationTransferSyntaxUID = _mac_transfer_syntax(ds)
    params.MACAlgorithm = "SHA256"
    params.DataElementsSigned = signed
    if mac_params is None:
        ds.MACParametersSequence = Sequence([params])
    else:
        mac_params.value.append(params)
    if DIGITAL_SIGNATURES_SEQUENCE in ds:
        ds[DIGITAL_SIGNATURES_SEQUENCE].value.append(item)
    else:
        ds.DigitalSignaturesSequence = Sequence([item])
    signed_ds = dcmread(io.BytesIO(encode(ds)))
    checks = verify(signed_ds)
    if not checks or not checks[-1].cryptographically_valid:
        raise SignatureError(f"the new signature does not verify: {checks[-1].message if checks else 'none'}")
    return signed_ds


def verify(ds: Dataset, trust: TrustStore | None = None) -> list[SignatureCheck]:
    """Check every top-level signature of ``ds``; an empty list when there is none."""
    sigs = ds.get(DIGITAL_SIGNATURES_SEQUENCE)
    if sigs is None or not sigs.value:
        return []
    params = {}
    for p in ds.get(MAC_PARAMETERS_SEQUENCE, Dataset()).value if MAC_PARAMETERS_SEQUENCE in ds else []:
        if "MACIDNumber" in p:
            params[int(p.MACIDNumber)] = p
    return [_verify_one(ds, item, params, trust) for item in sigs.value]


def _verify_one(ds: Dataset, item: Dataset, params: dict[int, Dataset], trust: TrustStore | None) -> SignatureCheck:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import rsa

    check = SignatureCheck(SignatureStatus.UNVERIFIABLE)
    try:
        check.mac_id = int(item.MACIDNumber)
        check.signature_uid = str(item.get("DigitalSignatureUID", ""))
        check.signed_at = str(item.get("DigitalSignatureDateTime", ""))
        purposes = item.get("DigitalSignaturePurposeCodeSequence") or []
        check.purpose = str(Coded.from_item(purposes[0])) if purposes else ""
        p = params.get(check.mac_id)
        if p is None:
            check.message = f"no MAC parameters for MAC ID {check.mac_id}"
            return check
        check.algorithm = str(p.get("MACAlgorithm", "")).strip()
        signed = p.get("DataElementsSigned")
        # VM 1 reads as one tag
        signed = [] if signed is None else [signed] if isinstance(signed, int) else list(signed)
        tags = [int(t) for t in signed]
        check.covered = [_keyword(t) for t in tags]
        if not _explicit_little_endian(str(p.get("MACCalculationTransferSyntaxUID", ""))):
            check.message = f"MAC transfer syntax {p.get('MACCalculationTransferSyntaxUID')} is not supported"
            return check
        if str(item.get("CertificateType", "")).strip() != CERTIFICATE_TYPE:
            check.message = f"certificate type {item.get('CertificateType')!r} is not supported"
            return check
        cert = x509.load_der_x509_certificate(_der_trimmed(bytes(item.CertificateOfSigner)))
        check.signer = CertificateInfo.of(cert)
    except Exception as exc:  # noqa: BLE001 - any malformed signature item is reported, not raised
        check.message = f"unreadable signature item ({exc})"
        return check
    data = mac_bytes(ds, tags) + dataset_bytes(item, skip=_UNSIGNED_ITEM_TAGS)
    key = cert.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        check.message = "the signer's key is not RSA"
        return check
    try:
        ok = _rsa_verify(key, bytes(item.Signature), data, check.algorithm)
    except ValueError as exc:
        check.message = str(exc)
        return check
    if not ok:
        check.status = SignatureStatus.INVALID
        check.message = "the signed data elements changed after signing (or the signature is damaged)"
        return check
    check.trusted = bool(trust and trust.trusts(cert))
    when = _parse_dt(check.signed_at)
    if when is not None and not (check.signer.not_before <= when <= check.signer.not_after):
        check.status = SignatureStatus.UNTRUSTED
        check.message = "signed outside the certificate's validity period"
    elif check.trusted:
        check.status = SignatureStatus.VALID
    else:
        check.status = SignatureStatus.UNTRUSTED
        check.message = "the signature is intact but the trust store does not trust the signer's certificate"
    return check


def _rsa_verify(key: rsa.RSAPublicKey, signature: bytes, data: bytes, algorithm: str) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    if algorithm in _CRYPTO_HASHES:
        algorithm_class: type[hashes.HashAlgorithm] = getattr(hashes, algorithm)
        try:
            key.verify(signature, data, padding.PKCS1v15(), algorithm_class())
            return True
        except InvalidSignature:
            return False
    if algorithm not in _DIGEST_INFO_OIDS:
        raise ValueError(f"MAC algorithm {algorithm!r} is not supported")
    try:
        digest = hashlib.new(algorithm.lower(), data).digest()
    except ValueError:
        raise ValueError(f"this system's hash library has no {algorithm}") from None
    return _recovered_digest_info(key, signature) in _digest_infos(algorithm, digest)


def _recovered_digest_info(key: rsa.RSAPublicKey, signature: bytes) -> bytes:
    """The DigestInfo inside a PKCS#1 v1.5 signature (the RSA public operation, padding stripped)."""
    numbers = key.public_numbers()
    k = (numbers.n.bit_length() + 7) // 8
    if len(signature) != k:
        return b""
    em = pow(int.from_bytes(signature, "big"), numbers.e, numbers.n).to_bytes(k, "big")
    if em[:2] != b"\x00\x01":
        return b""
    sep = em.find(b"\x00", 2)
    if sep < 10 or em[2:sep] != b"\xff" * (sep - 2):
        return b""
    return em[sep + 1:]


def _digest_infos(algorithm: str, digest: bytes) -> set[bytes]:
    oid = _DIGEST_INFO_OIDS[algorithm]
    octets = bytes([0x04, len(digest)]) + digest
    out = set()
    for alg_id in (oid + b"\x05\x00", oid):
        alg_seq = bytes([0x30, len(alg_id)]) + alg_id
        body = alg_seq + octets
        out.add(bytes([0x30, len(body)]) + body)
    return out


def _der_trimmed(data: bytes) -> bytes:
    """A DER value without the pad byte OB values get to reach an even length."""
    if len(data) < 2 or data[1] < 0x80:
        return data[: 2 + (data[1] if len(data) > 1 else 0)]
    n = data[1] & 0x7F
    return data[: 2 + n + int.from_bytes(data[2:2 + n], "big")]


def _keyword(tag: int) -> str:
    from pydicom.datadict import keyword_for_tag

    return keyword_for_tag(tag) or f"({tag >> 16:04X},{tag & 0xFFFF:04X})"


def _parse_dt(value: str) -> dt.datetime | None:
    """A DT value as an aware datetime; no offset means UTC (how DCMTK reads it)."""
    v = value.strip()
    if len(v) < 14 or not v[:14].isdigit():
        return None
    tz = dt.UTC
    for sign in "+-":
        if sign in v[14:]:
            body, off = v.rsplit(sign, 1)
            if len(off) == 4 and off.isdigit():
                delta = dt.timedelta(hours=int(off[:2]), minutes=int(off[2:]))
                tz = dt.timezone(delta if sign == "+" else -delta)
            v = body
            break
    try:
        return dt.datetime.strptime(v[:14], "%Y%m%d%H%M%S").replace(tzinfo=tz)
    except ValueError:
        return None
