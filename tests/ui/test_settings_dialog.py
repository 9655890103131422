"""Tools › Settings: values checked before saving, identities imported or made, changes used at once."""

from __future__ import annotations


import pytest
from PySide6.QtCore import Qt

from workstation.config import SettingsSource
from workstation.reporting.certificates import create_test_certificate
from workstation.reporting.editor import ReportEditor
from workstation.reporting.settings import ReportingSettings
from workstation.ui.settings_dialog import SettingsDialog

pytestmark = pytest.mark.gui


@pytest.fixture
def dialog(qtbot, home):
    source = SettingsSource(home.config_file)
    d = SettingsDialog(home, source)
    qtbot.addWidget(d)
    d.show()
    return d


def test_bad_values_are_refused_and_nothing_is_written(qtbot, dialog, home):
    dialog.ae_edit.setText("ÄRZTE\\1")
    qtbot.mouseClick(dialog.apply_button, Qt.MouseButton.LeftButton)
    assert "Not saved" in dialog.message.text() and "AE title" in dialog.message.text()
    assert not home.config_file.exists()
    dialog.ae_edit.setText("READER1")
    dialog.name_edit.setText("Doe^Jane\\Smith")
    qtbot.mouseClick(dialog.apply_button, Qt.MouseButton.LeftButton)
    assert "backslash" in dialog.message.text() and not home.config_file.exists()


def test_changes_apply_to_the_running_editor_at_once(qtbot, dialog, home, cache):
    editor = ReportEditor(cache, dialog.source)
    assert ReportingSettings.of(editor.settings).radiologist_name == ""
    qtbot.keyClicks(dialog.name_edit, "Jane van der Berg")
    assert "Berg^Jane van der" in dialog.name_preview.text()
    dialog.institution_edit.setText("St. Elsewhere")
    qtbot.mouseClick(dialog.apply_button, Qt.MouseButton.LeftButton)
    rs = ReportingSettings.of(editor.settings)
    assert (rs.radiologist_name, rs.organisation) == ("Berg^Jane van der", "St. Elsewhere")
    assert dialog.name_edit.text() == "Berg^Jane van der"


def test_test_identity_is_labelled_not_for_clinical_use(qtbot, dialog, home):
    dialog.ask_text = lambda _title, _label, default: default
    qtbot.mouseClick(dialog.create_test_button, Qt.MouseButton.LeftButton)
    assert "NOT FOR CLINICAL USE" in dialog.identity_label.text()
    assert "NOT for clinical use" in dialog.message.text()
    rs = ReportingSettings.of(dialog.source.current())
    assert rs.key_path.startswith(str(home.config_dir)) and rs.cert_path in rs.trust_store


def test_pem_identity_close_to_expiry_warns(qtbot, dialog, tmp_path):
    made = create_test_certificate(tmp_path / "c", "Jane Doe", "St. Elsewhere", passphrase="pw", days=10)
    files = iter([str(made.key_pem), str(made.cert_pem)])
    dialog.ask_open_file = lambda _title, _filters: next(files)
    answers = iter(["wrong", "pw"])
    dialog.ask_passphrase = lambda _prompt: next(answers)
    qtbot.mouseClick(dialog.import_pem_button, Qt.MouseButton.LeftButton)
    text = dialog.identity_label.text()
    assert "CN=Jane Doe" in text and "Issuer:" in text and "Warning: the signing certificate expires in" in text
    assert "expires in" in dialog.message.text()
    assert dialog.identity.days_left <= 10


def test_an_unreadable_file_is_not_imported(qtbot, dialog, tmp_path):
    junk = tmp_path / "junk.p12"
    junk.write_bytes(b"not a key")
    dialog.ask_open_file = lambda _title, _filters: str(junk)
    dialog.ask_passphrase = lambda _prompt: None  # the reader cancels the passphrase prompt
    qtbot.mouseClick(dialog.import_p12_button, Qt.MouseButton.LeftButton)
    assert "cancelled" in dialog.message.text() or "Not imported" in dialog.message.text()
    assert ReportingSettings.of(dialog.source.current()).key_path == ""
    assert "No signing identity" in dialog.identity_label.text()


@pytest.mark.parametrize("charset_file", ["chrH31.dcm", "chrI2.dcm", "chrHbrw.dcm", "chrGerm.dcm", "chrRuss.dcm"])
def test_readers_named_in_any_script_sign_with_their_name(qtbot, dialog, study_cache_uid, charset_file, tmp_path):
    from pydicom import dcmread
    from pydicom.data import get_charset_files

    from workstation.reporting import lifecycle
    from workstation.reporting.certificates import load_identity
    from workstation.reporting.inputs import ReportContent

    cache, study_uid = study_cache_uid
    typed = str(dcmread(get_charset_files(charset_file)[0]).PatientName)
    dialog.name_edit.setText(typed)
    name = typed if "^" in typed else typed + "^"  # one word: a family name
    qtbot.mouseClick(dialog.apply_button, Qt.MouseButton.LeftButton)
    assert ReportingSettings.of(dialog.source.current()).radiologist_name == name
    made = create_test_certificate(tmp_path / "c", "Reader")
    result = lifecycle.issue_report(cache, dialog.source.current(), study_uid,
                                    ReportContent("general", {"findings": "ok", "impression": "ok"}), final=True,
                                    identity=load_identity(made.key_pem, made.cert_pem))
    sr = dcmread(cache.path_of(cache.instance(result.sop_instance_uid)))
    assert str(sr.VerifyingObserverSequence[0].VerifyingObserverName) == name


@pytest.fixture
def study_cache_uid(cache, tmp_path):
    from pydicom import dcmread

    from tests.factories import write_series
    from workstation.store.importer import import_paths

    paths = write_series(tmp_path / "ct", 1)
    import_paths(cache, [str(p) for p in paths])
    return cache, str(dcmread(paths[0]).StudyInstanceUID)
