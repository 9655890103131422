"""The file meta group of a received object, packed directly, is byte for byte pydicom's."""

from __future__ import annotations

import io

import pytest
from pydicom import dcmread
from pydicom.filewriter import write_file_meta_info
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, ImplicitVRLittleEndian, JPEG2000Lossless
from pynetdicom import dimse_messages
from pynetdicom.dsutils import create_file_meta

from tests.net.helpers import CALLING_AE, free_port, make_ct
from workstation.config import Node, Settings
from workstation.home import Home
from workstation.net import file_meta, storage_scp  # noqa: F401 - importing storage_scp installs the packing
from workstation.net.association import Peer
from workstation.net.send import send_files
from workstation.store.cache import StudyCache


@pytest.mark.parametrize("sop_instance", ["1.2.3.4", "1.2.3.45", "2.25.310000000000000000000000000000001000"])
@pytest.mark.parametrize("syntax", [ExplicitVRLittleEndian, ImplicitVRLittleEndian, JPEG2000Lossless])
def test_packed_meta_is_what_pydicom_writes(sop_instance, syntax):
    expected = io.BytesIO()
    write_file_meta_info(expected, create_file_meta(sop_class_uid=CTImageStorage, sop_instance_uid=sop_instance,
                                                    transfer_syntax=syntax))
    assert file_meta.meta_group(CTImageStorage, sop_instance, syntax) == expected.getvalue()


def test_pynetdicom_writes_received_objects_with_it():
    assert file_meta.install()  # already installed by storage_scp: idempotent
    assert dimse_messages.create_file_meta is file_meta._create_file_meta
    out = io.BytesIO()
    dimse_messages.write_file_meta_info(out, dimse_messages.create_file_meta(
        sop_class_uid=CTImageStorage, sop_instance_uid="1.2.3", transfer_syntax=ExplicitVRLittleEndian))
    assert out.getvalue() == file_meta.meta_group(CTImageStorage, "1.2.3", ExplicitVRLittleEndian)


def test_a_uid_that_is_not_ascii_goes_to_pynetdicom_as_before():
    meta = dimse_messages.create_file_meta(sop_class_uid=CTImageStorage, sop_instance_uid="1.2.\u00e9",
                                           transfer_syntax=ExplicitVRLittleEndian)
    assert not isinstance(meta, file_meta.PackedMeta)
    assert meta.MediaStorageSOPInstanceUID == "1.2.\u00e9"


def test_a_received_object_reads_back_with_its_meta(lightbox_home, tmp_path):
    settings = Settings(storage_port=free_port(), storage_bind_address="127.0.0.1",
                        nodes=[Node(name="sender", ae_title=CALLING_AE, host="127.0.0.1", port=104)])
    ds = make_ct(("M\u00fcller^J\u00fcrgen", "LBX-M1"), "1.2.826.0.1.3680043.8.498.1", "1.2.826.0.1.3680043.8.498.2", 1)
    ds.SpecificCharacterSet = "ISO_IR 100"
    path = tmp_path / "one.dcm"
    ds.save_as(path, enforce_file_format=True)
    with StudyCache.open(Home.single(lightbox_home).ensure()) as cache, storage_scp.StorageSCP(cache, settings) as scp:
        assert send_files([path], Peer("127.0.0.1", scp.port, settings.ae_title), CALLING_AE).ok
        row = cache.instance(str(ds.SOPInstanceUID))
        assert row is not None
        got = dcmread(cache.path_of(row))
    assert got.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
    assert got.file_meta.TransferSyntaxUID == ExplicitVRLittleEndian
    assert str(got.PatientName) == "M\u00fcller^J\u00fcrgen"
