"""What retrieve refuses before it contacts anything."""

from __future__ import annotations

import pytest

from workstation.config import Settings
from workstation.net.association import Peer
from workstation.net.retrieve import retrieve


def test_a_dicomweb_retrieve_from_a_bare_peer_says_it_needs_a_node(home, cache):
    # A Peer has an address but no URL: before, this failed with an AttributeError deep in WADO-RS.
    peer = Peer("127.0.0.1", 1, "ARCHIVE")
    with pytest.raises(ValueError, match="DICOMweb retrieve needs a configured node"):
        retrieve(peer, Settings(), home, cache, "1.2.3", method="dicomweb")


def test_an_unknown_method_is_refused(home, cache):
    with pytest.raises(ValueError, match="unknown retrieve method 'ftp'"):
        retrieve(Peer("127.0.0.1", 1, "ARCHIVE"), Settings(), home, cache, "1.2.3", method="ftp")


@pytest.mark.parametrize("cancelled", [False, True])
def test_a_cancel_token_is_honoured_by_a_get(loaded_archive, archive_peer, study_files, home, cache, cancelled):
    from pydicom import dcmread

    from workstation.jobs.core import CancelToken

    token = CancelToken()
    if cancelled:
        token.cancel()
    study_uid = dcmread(study_files[0], stop_before_pixels=True).StudyInstanceUID
    settings = Settings(ae_title="LIGHTBOX")
    report = retrieve(archive_peer, settings, home, cache, study_uid, method="get", cancel=token)
    if cancelled:
        assert report.retrieved == 0
        assert cache.study(study_uid) is None
    else:
        assert report.ok, report.summary()
        assert report.retrieved == report.expected > 0
