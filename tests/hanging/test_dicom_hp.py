"""Protocols as DICOM Hanging Protocol objects: dciodvfy finds no error; import gives the protocol back."""

from __future__ import annotations

import shutil
import subprocess

import pydicom
import pytest

from workstation.hanging.dicom_hp import PRIVATE_CREATOR, PRIVATE_GROUP, from_dataset, to_dataset
from workstation.hanging.editing import export_protocol, import_protocol
from workstation.hanging.engine import build_plan
from workstation.hanging.facts import study_facts
from workstation.hanging.library import ProtocolLibrary
from workstation.hanging.protocol import ProtocolError
from workstation.home import Home

DCIODVFY = shutil.which("dciodvfy")


@pytest.fixture(scope="module")
def builtins() -> ProtocolLibrary:
    return ProtocolLibrary.load()


def standard_only(ds: pydicom.Dataset) -> pydicom.Dataset:
    """The object as another system would write it: without Lightbox's private element."""
    block = ds.private_block(PRIVATE_GROUP, PRIVATE_CREATOR)
    del ds[block.get_tag(1)]
    del ds[(PRIVATE_GROUP << 16) | (block.block_start >> 8)]
    return ds


@pytest.mark.skipif(DCIODVFY is None, reason="dciodvfy (dicom3tools) is not installed")
def test_every_builtin_passes_dciodvfy(builtins, tmp_path):
    for p in builtins.protocols:
        path = export_protocol(p, tmp_path / f"{p.id}.dcm")
        res = subprocess.run([DCIODVFY, str(path)], capture_output=True, text=True, timeout=60)
        errors = [line for line in (res.stdout + res.stderr).splitlines() if "Error" in line]
        assert not errors, (p.id, errors)


def test_export_import_gives_the_same_protocol(builtins, tmp_path, lightbox_home):
    home = Home.single(lightbox_home)
    for p in builtins.protocols:
        ds = pydicom.dcmread(export_protocol(p, tmp_path / f"{p.id}.dcm"))
        assert ds.SOPClassUID == "1.2.840.10008.5.1.4.38.1" and ds.HangingProtocolName == p.name[:16].strip()
        assert from_dataset(ds).to_dict() == p.to_dict()
    imported = import_protocol(home, tmp_path / "mg-screening.dcm")
    assert imported.origin == "user" and ProtocolLibrary.load(home).get("mg-screening").origin == "user"


def test_standard_attributes(builtins):
    ds = to_dataset(builtins.get("mg-screening"))
    assert [i.Modality for i in ds.HangingProtocolDefinitionSequence if "Modality" in i] == ["MG"]
    assert ds.NumberOfPriorsReferenced == 1
    timed = [t for s in ds.ImageSetsSequence for t in s.TimeBasedImageSetsSequence]
    assert sorted(tuple(t.AbstractPriorValue) for t in timed) == [(0, 0)] * 4 + [(1, 1)] * 4
    first = ds.DisplaySetsSequence[0]
    assert list(first.ImageBoxesSequence[0].DisplayEnvironmentSpatialPosition) == [0, 1, 0.5, 0.5]
    assert list(first.DisplaySetPatientOrientation) == ["P", "L"] and first.DisplaySetPresentationGroup == 1
    ct = to_dataset(builtins.get("ct-chest"))
    assert [d.VOIType for d in ct.DisplaySetsSequence[:4]] == ["LUNG", "LUNG", "MEDIASTINUM", "MEDIASTINUM"]
    assert [list(s.DisplaySetScrollingGroup) for s in ct.SynchronizedScrollingSequence] == [[1, 2], [3, 4], [5, 6]]
    pet = to_dataset(builtins.get("pet-ct"))
    (mip,) = [d for d in pet.DisplaySetsSequence if d.ReformattingOperationType == "3D_RENDERING"]
    assert mip.ThreeDRenderingType == "MIP"  # the PET MIP preset is a MIP to other systems too


@pytest.mark.parametrize("protocol_id, study", [("mg-screening", "mg-screening-2024"),
                                                ("chest-radiograph", "dx-chest-2024"),
                                                ("us-cine", "us-carotid-2024")])
def test_another_systems_object_hangs_the_demo_alike(builtins, demo, protocol_id, study):
    original = builtins.get(protocol_id)
    imported = from_dataset(standard_only(to_dataset(original)), "other system")
    assert imported.name == original.name[:16].strip() and len(imported.stages) == len(original.stages)
    current = study_facts(demo.cache, demo.uids[study])
    others = [study_facts(demo.cache, uid) for key, uid in demo.uids.items() if key != study]
    a = build_plan(current, others, [original])
    b = build_plan(current, others, [imported])
    for sa, sb in zip(a.stages, b.stages, strict=True):
        assert (sa.layout, sa.rows, sa.columns) == (sb.layout, sb.rows, sb.columns)
        for va, vb in zip(sa.viewports, sb.viewports, strict=True):
            assert (va.study_role, va.series_uid, va.rotation, va.flip_horizontal, va.cine) == \
                   (vb.study_role, vb.series_uid, vb.rotation, vb.flip_horizontal, vb.cine)


def test_the_standard_part_keeps_layout_windows_and_links(builtins):
    for pid in ("ct-chest", "mr-brain", "ct-abdomen", "default"):
        original = builtins.get(pid)
        imported = from_dataset(standard_only(to_dataset(original)))
        for sa, sb in zip(original.stages, imported.stages, strict=True):
            assert sb.layout.size == sa.layout.size
            for i, (va, vb) in enumerate(zip(sa.viewports, sb.viewports, strict=True)):
                assert sb.layout.rectangle(i) == pytest.approx(sa.layout.rectangle(i), abs=1e-3)
                assert va.study == vb.study and va.viewport_type == vb.viewport_type
                assert (va.window.name if va.window else None) == (vb.window.name if vb.window else None)
                assert ("scroll" in va.sync) == ("scroll" in vb.sync)


def test_not_a_hanging_protocol(tmp_path, lightbox_home):
    ds = pydicom.Dataset()
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    with pytest.raises(ProtocolError) as err:
        from_dataset(ds, "ct.dcm")
    assert err.value.field == "SOPClassUID"
    (tmp_path / "junk.dcm").write_bytes(b"not dicom")
    with pytest.raises(ProtocolError):
        import_protocol(Home.single(lightbox_home), tmp_path / "junk.dcm")
