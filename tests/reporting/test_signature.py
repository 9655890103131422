"""Signatures interoperate with DCMTK both ways; one changed byte is caught by both; trust is reported."""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

import pytest
from pydicom import dcmread

from tests.reporting.conftest import run_tool
from tests.reporting.test_sr_build import OBSERVER, filled
from workstation.reporting.certificates import (
    CertificateError,
    CertificateInfo,
    TrustStore,
    create_test_certificate,
    load_identity,
)
from workstation.reporting.signature import SignatureStatus, sign, verify
from workstation.reporting.sr_build import BuildRequest, ReportState, build_sr
from workstation.reporting.templates import get_template


@pytest.fixture
def signed_file(study, identity, tmp_path) -> Path:
    _cache, _uid, headers = study
    tpl = get_template("general")
    ds = sign(build_sr(BuildRequest(tpl, filled(tpl), headers, OBSERVER, state=ReportState.FINAL)), identity)
    path = tmp_path / "signed.dcm"
    ds.save_as(path)
    return path


def tamper(path: Path, needle: bytes, out: Path) -> Path:
    data = bytearray(path.read_bytes())
    at = data.find(needle)
    assert at > 0
    data[at] ^= 0x01  # one byte of a signed text value
    out.write_bytes(bytes(data))
    return out


def test_dcmsign_verifies_our_signature_and_catches_tampering(signed_file, test_cert, tmp_path):
    made, _ = test_cert
    ok = run_tool("dcmsign", "--verify", "+cf", str(made.cert_pem), "+rs", str(signed_file))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    ds = dcmread(signed_file)
    params = ds.MACParametersSequence[0]
    assert params.MACAlgorithm == "SHA256" and params.MACCalculationTransferSyntaxUID == "1.2.840.10008.1.2.1"
    assert 0x0040A730 in [int(t) for t in params.DataElementsSigned]  # the content tree is covered
    purpose = ds.DigitalSignaturesSequence[0].DigitalSignaturePurposeCodeSequence[0]
    assert (purpose.CodeValue, purpose.CodingSchemeDesignator) == ("5", "ASTM-sigpurpose")
    assert ds.DigitalSignaturesSequence[0].DigitalSignatureDateTime.endswith("+0000")

    bad = tamper(signed_file, b"Rundherd", tmp_path / "tampered.dcm")
    refused = run_tool("dcmsign", "--verify", "+cf", str(made.cert_pem), str(bad))
    assert refused.returncode != 0
    [check] = verify(dcmread(bad), TrustStore.from_paths([made.cert_pem]))
    assert check.status is SignatureStatus.INVALID


def test_verify_reports_signer_time_purpose_coverage_and_trust(signed_file, test_cert):
    made, _ = test_cert
    ds = dcmread(signed_file)
    [trusted] = verify(ds, TrustStore.from_paths([made.cert_pem.parent]))  # a folder of certificates
    assert trusted.status is SignatureStatus.VALID and trusted.trusted
    assert trusted.signer.common_name == "Jane Doe" and trusted.algorithm == "SHA256"
    assert "Verification Signature" in trusted.purpose
    assert "ContentSequence" in trusted.covered and "PatientName" in trusted.covered
    [untrusted] = verify(ds, None)
    assert untrusted.status is SignatureStatus.UNTRUSTED and untrusted.cryptographically_valid
    other = create_test_certificate(made.cert_pem.parent / "other", "Someone Else")
    [still] = verify(ds, TrustStore.from_paths([other.cert_pem]))
    assert still.status is SignatureStatus.UNTRUSTED


@pytest.mark.parametrize("options, algorithm", [
    ([], "RIPEMD160"),  # dcmsign's default MAC, which the cryptography package cannot hash
    (["+mm"], "MD5"),
    (["+m2", "+sp", "5", "+pr"], "SHA256"),
])
def test_we_verify_what_dcmsign_signed(study, tmp_path, test_cert, options, algorithm):
    made, _ = test_cert
    _cache, _uid, headers = study
    tpl = get_template("general")
    unsigned = tmp_path / "unsigned.dcm"
    build_sr(BuildRequest(tpl, filled(tpl), headers, OBSERVER, state=ReportState.FINAL)).save_as(unsigned)
    out = tmp_path / "dcmtk.dcm"
    res = run_tool("dcmsign", "--sign", str(made.key_pem), str(made.cert_pem), "-pw", *options, str(unsigned), str(out))
    assert res.returncode == 0, res.stdout + res.stderr
    [check] = verify(dcmread(out), TrustStore.from_paths([made.cert_pem]))
    assert check.algorithm == algorithm
    assert check.status is SignatureStatus.VALID, check.message
    [broken] = verify(dcmread(tamper(out, b"Rundherd", tmp_path / "t.dcm")), None)
    assert broken.status is SignatureStatus.INVALID


def test_a_second_signature_keeps_the_first_valid(signed_file, identity):
    twice = sign(dcmread(signed_file), identity)
    checks = verify(twice, None)
    assert [c.mac_id for c in checks] == [1, 2]
    assert all(c.cryptographically_valid for c in checks)


def test_signing_identity_files(test_cert, tmp_path):
    _made, protected = test_cert
    with pytest.raises(CertificateError, match="passphrase"):
        load_identity(protected.pkcs12, None, "wrong")
    with pytest.raises(CertificateError, match="passphrase is needed"):
        load_identity(protected.key_pem, protected.cert_pem, None)
    ident = load_identity(protected.pkcs12, None, "secret")
    assert ident.info.common_name == "Jane Doe" and ident.info.organisation == "St. Elsewhere"
    other = create_test_certificate(tmp_path, "Other")
    with pytest.raises(CertificateError, match="does not belong to the key"):
        load_identity(protected.key_pem, other.cert_pem, "secret")


def test_a_certificate_of_another_key_type_is_refused_by_name(test_cert, tmp_path):
    # An Ed25519 certificate has no RSA public numbers: it was an AttributeError, not the reason.
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519
    from cryptography.x509.oid import NameOID

    made, _protected = test_cert
    key = ed25519.Ed25519PrivateKey.generate()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Ed25519 signer")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(hours=1))
            .not_valid_after(now + dt.timedelta(days=1)).sign(key, None))
    cert_pem = tmp_path / "ed25519-cert.pem"
    cert_pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    with pytest.raises(CertificateError, match="does not belong to the key"):
        load_identity(made.key_pem, cert_pem)


def test_expiry_warning(identity):
    info: CertificateInfo = identity.info
    assert info.expiry_warning() == ""
    soon = info.not_after - dt.timedelta(days=10)
    assert "expires in 10 days" in info.expiry_warning(soon) or "expires in 9 days" in info.expiry_warning(soon)
    assert "expired" in info.expiry_warning(info.not_after + dt.timedelta(days=1))


def test_cli_verify_exit_codes(lightbox_cmd, signed_file, test_cert, tmp_path):
    made, _ = test_cert

    def run(*args):
        return subprocess.run(lightbox_cmd + ["report", "verify", *args], capture_output=True, text=True, timeout=120)

    ok = run(str(signed_file), "--trust", str(made.cert_pem))
    assert ok.returncode == 0 and "Signature 1: valid" in ok.stdout
    assert "signer: O=St. Elsewhere,CN=Jane Doe" in ok.stdout
    assert run(str(signed_file)).returncode == 3  # intact, but nobody trusts the certificate
    bad = run(str(tamper(signed_file, b"Rundherd", tmp_path / "t.dcm")), "--trust", str(made.cert_pem))
    assert bad.returncode == 1 and "invalid – document altered" in bad.stdout
    from pydicom.data import get_testdata_file

    assert run(get_testdata_file("CT_small.dcm")).returncode == 2  # unsigned


@pytest.mark.parametrize("name", [
    "CT_small.dcm", "MR_small_implicit.dcm", "rtplan.dcm",
    "JPEG2000.dcm", "SC_rgb_rle.dcm",  # encapsulated: fragments hashed as items without lengths
    "emri_small_jpeg_2k_lossless.dcm",  # encapsulated Pixel Data that says OW
    "color3d_jpeg_baseline.dcm",  # an all-space SH value: DCMTK signs it trimmed
])
def test_images_both_ways_with_dcmsign(tmp_path, test_cert, identity, name):
    from pydicom.data import get_testdata_file

    made, _ = test_cert
    src = get_testdata_file(name)
    ours = tmp_path / "ours.dcm"
    sign(dcmread(src), identity).save_as(ours)
    check = run_tool("dcmsign", "--verify", "+cf", str(made.cert_pem), str(ours))
    assert check.returncode == 0, check.stdout + check.stderr
    source_syntax = dcmread(src).file_meta.TransferSyntaxUID
    # compressed objects keep their syntax; others are signed (and stored) as Explicit VR Little Endian
    expected = source_syntax if source_syntax.is_compressed else "1.2.840.10008.1.2.1"
    assert dcmread(ours).file_meta.TransferSyntaxUID == expected
    theirs = tmp_path / "theirs.dcm"
    res = run_tool("dcmsign", "--sign", str(made.key_pem), str(made.cert_pem), "-pw", str(src), str(theirs))
    assert res.returncode == 0, res.stdout + res.stderr
    [c] = verify(dcmread(theirs), TrustStore.from_paths([made.cert_pem]))
    assert c.status is SignatureStatus.VALID, c.message


def test_big_endian_verified_but_not_signed(tmp_path, test_cert, identity):
    from pydicom.data import get_testdata_file

    from workstation.reporting.signature import SignatureError

    made, _ = test_cert
    src = get_testdata_file("MR_small_bigendian.dcm")
    theirs = tmp_path / "theirs.dcm"
    run_tool("dcmsign", "--sign", str(made.key_pem), str(made.cert_pem), "-pw", str(src), str(theirs))
    [c] = verify(dcmread(theirs), TrustStore.from_paths([made.cert_pem]))
    assert c.status is SignatureStatus.VALID, c.message
    with pytest.raises(SignatureError, match="big endian"):
        sign(dcmread(src), identity)
