"""DICOMweb against Orthanc's plugin: QIDO-RS query, WADO-RS retrieve into the cache, STOW-RS send."""

from __future__ import annotations

import pytest
from pydicom import dcmread
from pydicom.uid import generate_uid

from tests.interop.peers import orthanc_instance_count
from tests.net.helpers import make_ct
from workstation.net.association import NetworkError
from workstation.net.delivery import deliver
from workstation.net.dicomweb import qido
from workstation.net.retrieve import retrieve
from workstation.store.importer import import_paths

pytestmark = [pytest.mark.interop, pytest.mark.timeout(180)]


@pytest.fixture
def web_node(loaded_orthanc):
    return loaded_orthanc.node("WEB", retrieve="dicomweb", url=loaded_orthanc.dicomweb_url)


def _by_study(files):
    out = {}
    for f in files:
        ds = dcmread(f, stop_before_pixels=True)
        out.setdefault(str(ds.StudyInstanceUID), []).append((f, ds))
    return out


def test_qido_levels(web_node, interop_files):
    studies = _by_study(interop_files)
    found = {str(ds.StudyInstanceUID): ds for ds in qido(web_node, "STUDY", {"PatientID": "LBX-T*"})}
    assert set(found) == set(studies)
    assert {str(ds.PatientName) for ds in found.values()} == {"Test^Alpha", "Test^Beta"}
    assert {str(ds.PatientID) for ds in qido(web_node, "PATIENT", {})} >= {"LBX-T1", "LBX-T2"}
    dated = list(qido(web_node, "STUDY", {"StudyDate": "20240201-20240229"}))
    assert [str(ds.PatientID) for ds in dated] == ["LBX-T2"]
    for study, items in studies.items():
        series = {str(ds.SeriesInstanceUID) for ds in qido(web_node, "SERIES", {"StudyInstanceUID": study})}
        assert series == {str(ds.SeriesInstanceUID) for _f, ds in items}
        images = {str(ds.SOPInstanceUID) for ds in qido(web_node, "IMAGE", {"StudyInstanceUID": study})}
        assert images == {str(ds.SOPInstanceUID) for _f, ds in items}


def test_wado_retrieve_only_missing(web_node, interop_files, home, settings, cache):
    studies = _by_study(interop_files)
    study = max(studies, key=lambda s: len(studies[s]))
    items = studies[study]
    assert import_paths(cache, [items[0][0]]).imported == 1
    report = retrieve(web_node, settings, home, cache, study)
    assert report.ok, report.summary()
    assert (report.method, report.expected, report.already_cached, report.retrieved) == ("dicomweb", len(items), 1,
                                                                                         len(items) - 1)
    for f, ds in items[1:]:
        row = cache.instance(str(ds.SOPInstanceUID))
        assert row is not None
        assert dcmread(cache.path_of(row)).PixelData == dcmread(f).PixelData
    again = retrieve(web_node, settings, home, cache, study)
    assert again.ok and again.retrieved == 0 and again.already_cached == len(items)


def test_stow_send(web_node, loaded_orthanc, tmp_path, home, settings, cache):
    paths = []
    study, series = generate_uid(), generate_uid()
    for i in range(1, 4):
        ds = make_ct(("Web^Stow", "LBX-W1"), study, series, i)
        paths.append(tmp_path / f"{i}.dcm")
        ds.save_as(paths[-1], enforce_file_format=True)
    before = orthanc_instance_count(loaded_orthanc)
    report = deliver(paths, web_node, home=home, settings=settings, cache=cache)
    assert report.ok and report.count("stored") == 3, report.summary()
    assert orthanc_instance_count(loaded_orthanc) == before + 3


def test_unreachable_dicomweb_is_one_clear_line(web_node):
    web_node.url = "http://127.0.0.1:9/dicom-web"
    with pytest.raises(NetworkError, match="no DICOMweb service at"):
        list(qido(web_node, "STUDY", {}))
