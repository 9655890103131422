"""Per-user homes on a shared reading station: each site-login reader has their own settings, report drafts,
measurements and unsaved work; the study cache, its index and the audit trail stay the station's."""

from __future__ import annotations

import pytest

from tests.viewer_phantom import phantom_study
from workstation import audit, config
from workstation.audit.identity import clear_session_user
from workstation.home import Home, user_folder_name
from workstation.reporting.editor import ReportEditor
from workstation.session.reading import ReadingSession
from workstation.session.study_work import DIRECTORY_NAME
from workstation.session.unsaved import DRAFT, check_closing
from workstation.store.cache import StudyCache


@pytest.fixture(autouse=True)
def no_session_user():
    yield
    clear_session_user()


@pytest.fixture
def station(lightbox_home, tmp_path):
    home = Home.single(lightbox_home).ensure()
    settings = config.Settings(ae_title="READROOM1")
    settings.extra["site_login"] = {"uri": "ldap://127.0.0.1:1", "bind_dn_template": "uid={login},dc=x"}
    config.save(settings, home.config_file)
    cache = StudyCache.open(home)
    study = phantom_study(cache, tmp_path / "ph", 2, patient_id="HOME-1", patient_name="Дмитриев^Олег")
    cache.close()
    return home, study


def test_each_reader_has_a_home_of_their_own_over_the_shared_cache(station):
    home, study = station
    ana, li = home.for_user("ana"), home.for_user("李伟")
    assert ana.config_dir == home.data_dir / "users" / "ana" and li.config_dir.name == "李伟"
    assert ana.data_dir == li.data_dir == home.data_dir  # one cache, one index, one audit trail
    assert ana.cache_dir == home.cache_dir and ana.index_file == home.index_file
    assert ana.user_data_dir / DIRECTORY_NAME != li.user_data_dir / DIRECTORY_NAME
    # A reader's first settings are the station's; what they change stays theirs.
    assert config.load(ana.config_file).ae_title == "READROOM1"
    s = config.load(ana.config_file)
    s.extra["name_display"] = "alphabetic"
    config.save(s, ana.config_file)
    assert "name_display" not in config.load(li.config_file).extra
    assert "name_display" not in config.load(home.config_file).extra
    assert ana.station() == home and ana.station_config_file == home.config_file
    with StudyCache.open(li) as cache:
        assert cache.study(study) is not None  # the shared cache
    # Logins differing only in case are one reader; a path in a login stays inside users/.
    assert home.for_user("ANA").config_dir == ana.config_dir
    evil = home.for_user("../../etc")
    assert evil.config_dir.parent == home.data_dir / "users" and ".." not in user_folder_name("../../etc")


def _draft_as(home: Home, login: str, display: str, study: str, text: str | None) -> ReportEditor:
    audit.session_started(login, display)
    cache = StudyCache.open(home)
    editor = ReportEditor(cache, config.Settings())
    editor.open_study(study)
    if text is not None:
        editor.set_value("findings", text)
    return editor


def test_reader_b_does_not_see_reader_a_s_drafts_and_a_gets_them_back(station):
    home, study = station
    a = _draft_as(home.for_user("ana"), "ana", "Ana Ñúñez", study, "Ana's unsigned findings")
    assert a.draft_id.startswith("ana/") and a.value("findings") == "Ana's unsigned findings"
    a.cache.close()
    audit.session_ended()

    b = _draft_as(home.for_user("li.wei"), "li.wei", "李 伟", study, None)
    try:
        assert b.status.startswith("New report") and b.value("findings") == ""  # A's draft is not offered
        session = ReadingSession(b.cache)
        try:
            session.open_study(study)
            pending = check_closing(session)
            assert DRAFT not in {p.kind for p in pending.items}  # nor listed as B's unsaved work
        finally:
            session.close()
    finally:
        b.cache.close()
        audit.session_ended()

    a2 = _draft_as(home.for_user("ana"), "ana", "Ana Ñúñez", study, None)
    try:
        assert a2.status.startswith("Draft restored") and a2.value("findings") == "Ana's unsigned findings"
        session = ReadingSession(a2.cache)
        try:
            session.open_study(study)
            assert DRAFT in {p.kind for p in check_closing(session).items}
        finally:
            session.close()
    finally:
        a2.cache.close()
        audit.session_ended()


def test_without_a_site_login_every_draft_is_shown_as_before(station):
    home, study = station
    a = _draft_as(home, "ana", "Ana", study, "findings of ana")
    a.cache.close()
    audit.session_ended()
    cache = StudyCache.open(home)
    try:
        editor = ReportEditor(cache, config.Settings())
        editor.open_study(study)
        assert editor.value("findings") == "findings of ana"
    finally:
        cache.close()


def test_a_report_written_under_a_site_login_names_the_reader(station):
    import pydicom

    home, study = station
    ed = _draft_as(home.for_user("ana"), "ana", "Ana Ñúñez", study, None)
    try:
        result = ed.issue(final=False)
        ds = pydicom.dcmread(ed.cache.cache_dir / result.relpath)
    finally:
        ed.cache.close()
        audit.session_ended()
    observers = [str(item.PersonName) for item in ds.ContentSequence if "PersonName" in item]
    assert "Ana Ñúñez^" in observers  # one name component, as the directory gives it
    (rec,) = [r for r in audit.current().store.records() if r["event_code"] == "110103" and r["action"] == "C"]
    assert rec["user"] == "ana" and 'UserName="Ana Ñúñez"' in rec["xml"]


def test_a_qc_record_made_under_a_site_login_names_the_reader(station):
    from workstation.qc import checklist as qc_checklist

    home, study = station
    audit.session_started("li.wei", "李 伟")
    try:
        with StudyCache.open(home.for_user("li.wei")) as cache:
            mark = qc_checklist.mark_done(cache, qc_checklist.build_checklist(cache, study))
            assert mark.operator == "李 伟"
            assert qc_checklist.build_checklist(cache, study).mark.operator == "李 伟"  # as stored in the index
    finally:
        audit.session_ended()
