"""A patient name the RIS corrects (ADT^A08) shows in the image's corner text too, not only in the order header;
the images' own (outdated) name does not raise a PATIENT MISMATCH banner.  Checked on the viewer's overlay model
(what the viewport widget paints), headless."""

from __future__ import annotations

import pytest

from tests.hl7.peer import message
from workstation.hl7.inbound import apply_message
from workstation.hl7.settings import HL7Settings
from workstation.imaging import overlay_model
from workstation.imaging.corner_text import person_name
from workstation.session.reading import ReadingSession
from workstation.store.queries import StudyFilter

pytestmark = pytest.mark.timeout(120)


def _corner_and_banner(cache, study_uid: str) -> tuple[list[str], str, str]:
    """The top-left corner and the banner, and the banner were the correction not known."""
    session = ReadingSession(cache)
    try:
        session.open_study(study_uid)
        vp = session.viewports[0]
        assert vp.header() is not None  # the image's own header is read: its name would win without a correction
        corner, banner = overlay_model.corner_lines(vp)["top_left"], overlay_model.banner_text(vp)
        vp.replaced_names = frozenset()
        return corner, banner, overlay_model.banner_text(vp)
    finally:
        session.close()


def test_corrected_name_reaches_the_corner_text(cache):
    [study] = [s for s in cache.studies(StudyFilter()) if s.patient_id == "HL7-B"]
    corner, banner, _ = _corner_and_banner(cache, study.study_uid)
    assert corner[:2] == [person_name("山田^花子"), "ID HL7-B"] and banner == ""

    a08 = message("ADT_A01", {"EVN": {"evn_1": "A08"}, "PID": {"pid_3": "HL7-B", "pid_5": "山田^春子"}},
                  control_id="A08-OV", event="ADT^A08")
    assert apply_message(cache, a08, HL7Settings()).ack_code == "AA"
    corner, banner, unknown = _corner_and_banner(cache, study.study_uid)
    assert corner[:2] == [person_name("山田^春子"), "ID HL7-B"]
    assert banner == ""  # the images still say 山田^花子: a known correction, not another patient
    # Only the name the RIS replaced is excused: any other name in an image is still flagged.
    assert unknown.startswith("PATIENT MISMATCH") and person_name("山田^花子") in unknown

    # The other patient, not corrected, shows the images' own name.
    [other] = [s for s in cache.studies(StudyFilter()) if s.patient_id == "HL7-A"]
    corner, banner, _ = _corner_and_banner(cache, other.study_uid)
    assert corner[0] == person_name("Müller^Anna") and banner == ""
