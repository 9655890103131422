"""The generated demo studies: counts, headers, geometry, known objects, determinism."""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict

import numpy as np
import pydicom
import pytest

from workstation.demo import plan as plan_module
from workstation.demo import studies as studies_module
from workstation.demo.plan import SIZES, demo_uid, planned_series, planned_studies
from workstation.demo.studies import (
    CT_SPHERES,
    DEMO_VERSION,
    PRIOR_CT_SPHERES,
    demo_patients,
    generate_demo_studies,
)
from workstation.dicom.uids import is_valid_uid


def _series_of(headers, study_key: str, series_key: str, size: str = "small"):
    plan = next(s for s in planned_series(size) if s.study.key == study_key and s.key == series_key)
    items = [ds for ds in headers if ds.SeriesInstanceUID == plan.uid]
    return plan, sorted(items, key=lambda ds: int(ds.InstanceNumber))


def test_writes_every_planned_instance_under_out_dir(small_demo):
    out, paths = small_demo
    plans = planned_series("small")
    assert len(paths) == sum(s.instances for s in plans)
    assert len(set(paths)) == len(paths)
    for p in paths:
        assert p.is_file() and out in p.parents


def test_every_file_reads_and_decodes(small_demo):
    plans = {s.uid: s for s in planned_series("small")}
    for path in small_demo[1]:
        ds = pydicom.dcmread(path)
        assert ds.file_meta.TransferSyntaxUID == pydicom.uid.ExplicitVRLittleEndian
        assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
        plan = plans[ds.SeriesInstanceUID]
        pixels = ds.pixel_array
        if plan.modality == "US":
            assert pixels.shape == (plan.frames, plan.rows, plan.columns, 3)
        else:
            assert pixels.shape == (plan.rows, plan.columns)
        assert pixels.max() > pixels.min()


def test_studies_and_series_counts(small_headers):
    by_study = defaultdict(Counter)
    for ds in small_headers:
        by_study[ds.StudyInstanceUID][ds.SeriesDescription] += 1
    studies = {s.key: s for s in planned_studies("small")}
    n = SIZES["small"]
    assert len(by_study) == len(studies) == 10
    assert by_study[studies["ct-chest-2024"].uid] == {
        "CT CHEST 1.25 SOFT": n.ct_slices,
        "CT CHEST 1.25 LUNG": n.ct_slices,
    }
    assert by_study[studies["ct-chest-2023"].uid] == {"CT CHEST 1.25 SOFT": n.ct_slices}
    assert by_study[studies["mr-brain-2024"].uid] == {
        "T1 SAG": n.mr_sagittal_slices,
        "T2 AX": n.mr_axial_slices,
        "FLAIR AX": n.mr_axial_slices,
        "T1 AX": n.mr_axial_slices,
    }
    assert by_study[studies["mr-brain-2023"].uid] == {
        "T2 AX": n.mr_axial_slices,
        "FLAIR AX": n.mr_axial_slices,
        "T1 AX": n.mr_axial_slices,
    }
    assert by_study[studies["dx-chest-2024"].uid] == {"CHEST PA": 1, "CHEST LATERAL": 1}
    assert by_study[studies["dx-chest-2023"].uid] == {"CHEST PA": 1}
    views = {"R CC": 1, "L CC": 1, "R MLO": 1, "L MLO": 1}
    assert by_study[studies["mg-screening-2024"].uid] == views
    assert by_study[studies["mg-screening-2023"].uid] == views
    assert by_study[studies["us-carotid-2024"].uid] == {"CAROTID R LONG CINE": 1}
    assert by_study[studies["petct-2024"].uid] == {"CT AC 3.0": n.petct_ct_slices, "PET AC": n.pet_slices}


def test_full_size_plan():
    plans = planned_series("full")
    ct = [s for s in plans if s.modality == "CT" and not s.params.get("petct")]
    assert len(ct) == 3
    petct = {s.key: s for s in plans if s.study.key == "petct-2024"}
    assert (petct["ct"].rows, petct["ct"].instances, petct["ct"].slice_thickness) == (512, 84, 3.0)
    assert (petct["pet-ac"].rows, petct["pet-ac"].instances, petct["pet-ac"].pixel_spacing) == (128, 64, (4.0, 4.0))
    for s in ct:
        assert (s.rows, s.columns, s.instances) == (512, 512, 200)
        assert s.slice_thickness == 1.25 == abs(s.slice_step)
    mr = {s.key: s for s in plans if s.modality == "MR"}
    assert set(mr) == {"t1-sag", "t2-ax", "flair-ax", "t1-ax"}
    for key in ("t1-ax", "t2-ax", "flair-ax"):
        assert (mr[key].rows, mr[key].columns, mr[key].instances, mr[key].slice_thickness) == (256, 256, 24, 5.0)
    assert mr["t1-sag"].orientation == (0.0, 1.0, 0.0, 0.0, 0.0, -1.0)
    dx = [s for s in plans if s.modality == "DX"]
    assert [(s.rows, s.columns) for s in dx] == [(2048, 2048)] * 3
    mg = [s for s in plans if s.modality == "MG"]
    assert len(mg) == 8 and {(s.rows, s.columns) for s in mg} == {(2048, 1664)}
    (us,) = [s for s in plans if s.modality == "US"]
    assert (us.columns, us.rows) == (640, 480) and 30 <= us.frames <= 60
    # Modest disk use: stored bytes of all pixel data.
    total = sum(s.rows * s.columns * s.frames * s.instances * (3 if s.modality == "US" else 2) for s in plans)
    assert total < 600e6


def test_ct_reconstructions_share_geometry_and_differ_in_kernel(small_headers):
    soft_plan, soft = _series_of(small_headers, "ct-chest-2024", "soft")
    _, lung = _series_of(small_headers, "ct-chest-2024", "lung")
    _, prior = _series_of(small_headers, "ct-chest-2023", "soft")
    assert soft[0].FrameOfReferenceUID == lung[0].FrameOfReferenceUID
    assert prior[0].FrameOfReferenceUID != soft[0].FrameOfReferenceUID
    assert prior[0].StudyInstanceUID != soft[0].StudyInstanceUID
    assert prior[0].StudyDate < soft[0].StudyDate and prior[0].PatientID == soft[0].PatientID
    assert [d.ImagePositionPatient for d in soft] == [d.ImagePositionPatient for d in lung]
    assert soft[0].ConvolutionKernel != lung[0].ConvolutionKernel
    assert list(soft[0].WindowCenterWidthExplanation)[:2] == ["SOFT TISSUE", "LUNG"]
    assert list(lung[0].WindowCenterWidthExplanation)[0] == "LUNG"
    assert float(soft[0].RescaleIntercept) == -1024.0 and float(soft[0].RescaleSlope) == 1.0
    assert soft[0].SliceThickness == soft_plan.slice_thickness


@pytest.mark.parametrize("series_key", ["ct-chest-2024/soft", "ct-chest-2024/lung", "mr-brain-2024/t1-sag",
                                        "mr-brain-2024/t2-ax"])  # fmt: skip
def test_positions_step_along_the_normal_by_the_spacing(small_headers, series_key):
    plan, items = _series_of(small_headers, *series_key.split("/"))
    o = np.asarray(items[0].ImageOrientationPatient, dtype=float)
    normal = np.cross(o[:3], o[3:])
    positions = np.asarray([d.ImagePositionPatient for d in items], dtype=float)
    steps = np.diff(positions, axis=0)
    along = steps @ normal
    assert np.allclose(along, along[0]) and abs(along[0]) == pytest.approx(float(items[0].SliceThickness))
    assert np.allclose(steps - np.outer(along, normal), 0.0, atol=1e-4)  # no in-plane drift
    for d, p in zip(items, positions, strict=True):
        assert float(d.SliceLocation) == pytest.approx(float(p @ normal), abs=1e-3)
        assert list(d.ImageOrientationPatient) == list(items[0].ImageOrientationPatient)


def _voxel_of(items, point):
    """(dataset, row, column) of the voxel nearest to a patient-space point."""
    ds = min(items, key=lambda d: abs(float(d.ImagePositionPatient[2]) - point[2]))
    x0, y0, _ = (float(v) for v in ds.ImagePositionPatient)
    dy, dx = (float(v) for v in ds.PixelSpacing)
    return ds, int(round((point[1] - y0) / dy)), int(round((point[0] - x0) / dx))


@pytest.mark.parametrize(("series_key", "spheres"), [("ct-chest-2024/soft", CT_SPHERES),
                                                     ("ct-chest-2024/lung", CT_SPHERES),
                                                     ("ct-chest-2023/soft", PRIOR_CT_SPHERES)])  # fmt: skip
def test_ct_spheres_have_their_value_and_diameter(small_demo, small_headers, series_key, spheres):
    plan, headers = _series_of(small_headers, *series_key.split("/"))
    paths = {str(ds.SOPInstanceUID): p for ds, p in zip(small_headers, small_demo[1], strict=True)}
    for sphere in spheres:
        header, row, col = _voxel_of(headers, sphere.centre_mm)
        ds = pydicom.dcmread(paths[str(header.SOPInstanceUID)])
        hu = ds.pixel_array.astype(float) * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
        assert hu[row, col] == sphere.hu, sphere.label
        # Extent along x: the run of sphere-valued pixels through the centre.
        line = hu[row] == sphere.hu
        left = col - np.argmin(line[col::-1]) + 1
        right = col + np.argmin(line[col:]) - 1
        width = (right - left + 1) * plan.pixel_spacing[1]
        assert abs(width - sphere.diameter_mm) <= plan.pixel_spacing[1], sphere.label


def test_two_patients_one_with_a_utf8_name(small_demo, small_headers):
    patients = {ds.PatientID: ds for ds in small_headers}
    assert set(patients) == {p.patient_id for p in demo_patients()} and len(patients) == 2
    anna = patients["LBX-0002"]
    assert anna.SpecificCharacterSet == "ISO_IR 192"
    assert str(anna.PatientName) == "Müller^Anna"
    assert anna.IssuerOfPatientID and anna.PatientBirthDate and anna.PatientSex == "F"
    robert = patients["LBX-0001"]
    assert str(robert.PatientName).isascii() and "SpecificCharacterSet" not in robert
    raw = next(p for p, ds in zip(small_demo[1], small_headers, strict=True) if ds.PatientID == "LBX-0002")
    assert "Müller^Anna".encode() in raw.read_bytes()


def test_projection_and_mammography_headers(small_headers):
    dx = {ds.SeriesDescription + ds.StudyDate: ds for ds in small_headers if ds.Modality == "DX"}
    assert dx["CHEST PA20240312"].ViewPosition == "PA" and dx["CHEST LATERAL20240312"].ViewPosition == "LL"
    assert dx["CHEST PA20230307"].ViewPosition == "PA"
    for ds in dx.values():
        assert len(ds.ImagerPixelSpacing) == 2 and ds.ViewCodeSequence[0].CodingSchemeDesignator == "SCT"
    mg = [ds for ds in small_headers if ds.Modality == "MG"]
    views = Counter((ds.StudyDate, ds.ImageLaterality, ds.ViewPosition) for ds in mg)
    assert len(views) == 8 and set(views.values()) == {1}
    for ds in mg:
        meaning = ds.ViewCodeSequence[0].CodeMeaning
        assert meaning == ("cranio-caudal" if ds.ViewPosition == "CC" else "medio-lateral oblique")


def test_ultrasound_cine_and_regions(small_demo, small_headers):
    (header,) = [ds for ds in small_headers if ds.Modality == "US"]
    path = small_demo[1][small_headers.index(header)]
    ds = pydicom.dcmread(path)
    assert ds.PhotometricInterpretation == "RGB" and int(ds.NumberOfFrames) == SIZES["small"].us_frames
    assert float(ds.FrameTime) == pytest.approx(1000 / 30, abs=1e-3)
    assert int(ds.RecommendedDisplayFrameRate) == 30
    region = ds.SequenceOfUltrasoundRegions[0]
    assert region.RegionDataType == 1 and region.PhysicalUnitsXDirection == 3
    assert float(region.PhysicalDeltaX) == pytest.approx(0.1) and float(region.PhysicalDeltaY) == pytest.approx(0.1)
    frames = ds.pixel_array
    assert not np.array_equal(frames[0], frames[len(frames) // 2])  # it moves


def test_uids_are_valid_and_unique(small_headers, monkeypatch):
    sops = [str(ds.SOPInstanceUID) for ds in small_headers]
    assert len(set(sops)) == len(sops)
    for ds in small_headers:
        for uid in (ds.SOPInstanceUID, ds.SeriesInstanceUID, ds.StudyInstanceUID, ds.get("FrameOfReferenceUID")):
            assert uid is None or is_valid_uid(str(uid))
    # A different size or demo version never reuses a UID.
    full = {s.uid for s in planned_series("full")}
    assert not full & {str(ds.SeriesInstanceUID) for ds in small_headers}
    before = demo_uid("small", "ct-chest-2024")
    monkeypatch.setattr(plan_module, "DEMO_VERSION", DEMO_VERSION + 1)
    assert demo_uid("small", "ct-chest-2024") != before


def test_generation_is_deterministic(small_demo, tmp_path):
    again = generate_demo_studies(tmp_path, size="small")
    first_out, first = small_demo
    assert [p.relative_to(tmp_path) for p in again] == [p.relative_to(first_out) for p in first]
    for a, b in zip(first, again, strict=True):
        assert hashlib.sha1(a.read_bytes()).digest() == hashlib.sha1(b.read_bytes()).digest(), a


class _SteppingClock:
    """Stands for the ``time`` module: each ``monotonic()`` call moves the clock on by ``step`` seconds."""

    def __init__(self, step: float) -> None:
        self.step, self.now, self.reads = step, 0.0, 0

    def monotonic(self) -> float:
        self.now += self.step
        self.reads += 1
        return self.now


def test_progress_is_throttled_and_complete(tmp_path, monkeypatch):
    # The generator's clock is one the test moves (0.03 s a read): which reports pass the throttle is then
    # fixed, not a matter of how busy the machine is.
    clock = _SteppingClock(0.03)
    monkeypatch.setattr(studies_module, "time", clock)
    calls: list[tuple[float, int, int]] = []
    generate_demo_studies(tmp_path, size="small", progress=lambda d, t: calls.append((clock.now, d, t)))
    total = calls[0][2]
    assert calls[0][1:] == (0, total) and calls[-1][1:] == (total, total)
    assert [c[1] for c in calls] == sorted(c[1] for c in calls)
    gaps = np.diff([c[0] for c in calls[1:-1]])
    assert len(gaps) > 1 and (gaps >= studies_module._PROGRESS_INTERVAL_S).all()
    files = clock.reads - 1  # one read before the first file, one after each
    assert len(calls) - 2 == files // 4  # every fourth file's read (0.12 s on) passes the 0.1 s throttle


def test_unknown_size_is_refused(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(ValueError, match="size"):
        generate_demo_studies(out, size="huge")
    assert not out.exists()
