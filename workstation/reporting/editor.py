"""The report editor's logic, without widgets: what the GUI's report panel shows and does.

One :class:`ReportEditor` follows the study being read.  Every change is
autosaved as a draft (one committed transaction), so the panel can be closed,
the program killed or the machine restarted without losing a word.
"""

from __future__ import annotations

import datetime as dt
import logging

from pathlib import Path

from pydicom import dcmread
from pydicom.dataset import Dataset

from workstation import audit
from workstation.dicom.patient_identity import compare_identities
from workstation.config import Settings, SettingsSource, as_settings
from workstation.imaging.patient_module import apply_shown_patient
from workstation.reporting import lifecycle
from workstation.reporting.certificates import CertificateError, SigningIdentity, TrustStore
from workstation.reporting.documents import ExistingReport, OtherDocument, study_documents
from workstation.reporting.inputs import KeyImage, Measurement, ReportContent
from workstation.reporting.settings import ReportingSettings
from workstation.reporting.sr_build import BuildRequest, ContentError, Observer, ReportState, build_sr, missing_required
from workstation.reporting.sr_text import render
from workstation.reporting.templates import ReportTemplate, TemplateError, builtin_templates, template_for_modalities
from workstation.store import outbox
from workstation.store.cache import StudyCache
from workstation.store.merges import shown_patient
from workstation.store.queries import StudyRow

log = logging.getLogger(__name__)

SR_CLASS_PREFIX = "1.2.840.10008.5.1.4.1.1.88."
#: The TID 2000 heading of comparison fields: Prior Procedure Descriptions (121066, DCM).
COMPARISON_SECTION = "121066"


class ReportEditor:
    """Report being written for one study.

    Parameters
    ----------
    cache : StudyCache
    settings : Settings or SettingsSource
        The radiologist, trust store and destination (``Settings.extra["reporting"]``);
        a :class:`~workstation.config.SettingsSource` is read at each use, so a
        change made in the settings dialog applies to the next action.
    """

    def __init__(self, cache: StudyCache, settings: Settings | SettingsSource) -> None:
        self.cache = cache
        self._settings = settings
        self.templates: dict[str, ReportTemplate] = builtin_templates()
        self.study_uid = ""
        self.draft_id = ""
        self.content = ReportContent("general")
        self.predecessor_uid = ""
        self.status = "No study open"
        self.refusal = ""  # why the last insertion was refused (another patient's image)

    # Study and draft ----------------------------------------------------------------------
    def open_study(self, study_uid: str) -> None:
        """Follow ``study_uid``: resume its latest draft, or start an empty one (saved at the first change)."""
        study = self.cache.study(study_uid)
        if study is None:
            raise ContentError(f"no study {study_uid} in the cache")
        self.study_uid = study_uid
        drafts = lifecycle.own_drafts(outbox.list_drafts(self.cache, study_uid))  # a colleague's are theirs
        if drafts:
            d = drafts[0]
            content = ReportContent.from_dict(d.content)
            self.draft_id, self.content, self.predecessor_uid = d.draft_id, content, d.predecessor_uid
            self.status = f"Draft restored (last saved {_local(d.updated)})"
        else:
            self.draft_id = lifecycle.new_draft_id()
            self.content = ReportContent(template_for_modalities(study.modalities).id)
            self.predecessor_uid = ""
            self.status = "New report"
            clinical = _order_clinical_information(self.cache, study_uid, study.accession)
            if clinical:
                # The order's reason and history start the report's clinical information (the reader edits it).
                self.content.values["history"] = clinical
                self.status = "New report (clinical information from the order)"

    @property
    def settings(self) -> Settings:
        """The settings now (read through the source when there is one)."""
        return as_settings(self._settings)

    @settings.setter
    def settings(self, value: Settings | SettingsSource) -> None:
        self._settings = value

    @property
    def template(self) -> ReportTemplate:
        return self.templates[self.content.template_id]

    def _changed(self) -> None:
        if not self.study_uid:
            return
        lifecycle.save_draft(self.cache, self.draft_id, self.study_uid, self.content, self.predecessor_uid)
        self.status = f"Draft saved {dt.datetime.now():%H:%M:%S}"

    def set_template(self, template_id: str) -> None:
        if template_id not in self.templates:
            raise TemplateError(f"no report template {template_id!r}")
        if template_id != self.content.template_id:
            # Values of fields the new template also has are kept; the others stay in the draft too.
            self.content.template_id = template_id
            self._changed()

    def set_value(self, field_id: str, text: str) -> None:
        if self.content.values.get(field_id, "") == text:
            return
        if text:
            self.content.values[field_id] = text
        else:
            self.content.values.pop(field_id, None)
        self._changed()

    def value(self, field_id: str) -> str:
        return self.content.values.get(field_id, "")

    def add_measurements(self, measurements: list[Measurement]) -> int:
        """Add new measurements; those made on another patient's image are refused (:attr:`refusal` says whose)."""
        self.refusal = ""
        measurements = [m for m in measurements if not self._other_patient(m.image.sop_instance_uid)]
        new = [m for m in measurements if m not in self.content.measurements]
        self.content.measurements.extend(new)
        if new:
            self._changed()
        return len(new)

    def add_key_image(self, key: KeyImage) -> bool:
        """Add a key image; one of another patient is refused (:attr:`refusal` says whose)."""
        self.refusal = ""
        if self._other_patient(key.image.sop_instance_uid):
            return False
        if any(k.image == key.image for k in self.content.key_images):
            return False
        self.content.key_images.append(key)
        self._changed()
        return True

    def _other_patient(self, sop_instance_uid: str) -> bool:
        """True (and :attr:`refusal` set, naming both patients) when the image is not of the report's patient."""
        row = self.cache.instance(sop_instance_uid)
        study = self.cache.study(self.study_uid) if self.study_uid else None
        if row is None or study is None:
            return False
        image: Dataset | StudyRow | None
        try:
            image = dcmread(self.cache.path_of(row), stop_before_pixels=True)
        except Exception:  # noqa: BLE001 - an unreadable image is compared by its study's index entry
            image = self.cache.study(row.study_uid)
        shown = shown_patient(self.cache, row.study_uid)
        if isinstance(image, Dataset) and shown is not None:  # an image of a study the RIS merged: the survivor's
            apply_shown_patient(image, shown)
        check = compare_identities(image, study)
        if check.same:
            return False
        self.refusal = "Not inserted: " + check.message("the image", "the report's patient")
        return True

    def remove_item(self, index: int) -> None:
        """Remove measurement ``index``, or key image ``index - len(measurements)``."""
        n = len(self.content.measurements)
        if 0 <= index < n:
            del self.content.measurements[index]
        elif 0 <= index - n < len(self.content.key_images):
            del self.content.key_images[index - n]
        else:
            return
        self._changed()

    def item_lines(self) -> list[str]:
        return [m.describe() for m in self.content.measurements] + [
            "Key image" + (f": {k.note}" if k.note else "") + (f" (frame {k.image.frame})" if k.image.frame else "")
            for k in self.content.key_images]

    def start_amendment(self, sop_instance_uid: str) -> None:
        self.predecessor_uid = sop_instance_uid
        self._changed()
        self.status = "Amending: the new report will replace the selected one"

    def discard_draft(self) -> None:
        outbox.delete_draft(self.cache, self.draft_id)
        study = self.study_uid
        self.study_uid = ""
        self.open_study(study)

    # The prior -------------------------------------------------------------------------------
    def prefill_comparison(self, prior: StudyRow | None) -> list[str]:
        """Fill the template's comparison fields that are still empty from ``prior`` (a study row).

        The date field takes the prior's study date; a text field takes its
        modality, description and date ("CT Thorax of 2023-03-01").  The caller
        tells the reader (the editor's status is left as it is).  What the
        reader typed is never replaced, and nothing is saved until the reader
        changes something (a hung prior alone makes no draft).

        Returns
        -------
        list of str
            The ids of the fields filled.
        """
        if not self.study_uid or prior is None or getattr(prior, "study_uid", "") == self.study_uid:
            return []
        filled = []
        date = str(getattr(prior, "study_date", "") or "")
        shown_date = f"{date[:4]}-{date[4:6]}-{date[6:8]}" if len(date) == 8 else date
        mods = str(getattr(prior, "modalities", "") or "").replace("\\", "/").split("/")
        modality = "/".join(m for m in mods if m and m not in ("SR", "PR", "KO", "DOC"))  # images, not documents
        description = str(getattr(prior, "description", "") or "").strip()
        if modality and description.upper().split(" ")[0] == modality.upper():
            modality = ""  # "CT CHEST …" already names it
        words = " ".join(x for x in (modality, description) if x)
        text = f"{words} of {shown_date}".strip() if shown_date else words
        for section in self.template.sections:
            if section.concept.value != COMPARISON_SECTION:
                continue
            for f in section.fields:
                if self.content.values.get(f.id, "").strip():
                    continue
                if f.type == "date" and len(date) == 8:
                    self.content.values[f.id] = shown_date
                elif f.type == "text" and text:
                    self.content.values[f.id] = text
                else:
                    continue
                filled.append(f.id)
        return filled

    # What the report will be ----------------------------------------------------------------
    def missing_required(self) -> list[str]:
        return [f.label for f in missing_required(self.template, self.content)]

    def preview(self) -> str:
        """The SR as it would be stored now (a preliminary rendering), or why it cannot be built."""
        if not self.study_uid:
            return ""
        rs = ReportingSettings.of(self.settings)
        try:
            evidence = lifecycle.study_evidence(self.cache, self.study_uid, {
                m.image.sop_instance_uid for m in self.content.measurements} | {
                k.image.sop_instance_uid for k in self.content.key_images})
            ds = build_sr(BuildRequest(self.template, self.content, evidence,
                                       Observer(rs.radiologist_name or "Radiologist not set^", rs.organisation),
                                       state=ReportState.PRELIMINARY, shown=shown_patient(self.cache, self.study_uid)))
            return render(ds)
        except (ContentError, TemplateError, ValueError) as exc:
            return f"The report cannot be built yet: {exc}"

    def destination(self) -> str | None:
        """Where a report of the open study goes now (see :func:`lifecycle.resolve_destination`)."""
        if not self.study_uid:
            return None
        return lifecycle.resolve_destination(self.cache, self.settings, self.study_uid, None)

    # Issuing ----------------------------------------------------------------------------------
    def issue(self, *, final: bool, identity: SigningIdentity | None = None, reason: str = "",
              send: bool = True) -> lifecycle.ReportResult:
        """Store the report (final: signed), queue it when a destination is known, start a new draft."""
        destination = lifecycle.resolve_destination(self.cache, self.settings, self.study_uid, None) if send else None
        result = lifecycle.issue_report(
            self.cache, self.settings, self.study_uid, self.content, final=final, identity=identity,
            predecessor_uid=self.predecessor_uid, amendment_reason=reason, destination=destination,
            draft_id=self.draft_id,
        )
        audit.report_signed(self.cache, self.study_uid,
                            "final report signed" if result.signed else "preliminary report")
        study = self.study_uid
        self.study_uid = ""
        self.open_study(study)
        where = f"; queued for {destination}" if destination else "; kept locally (no destination set)"
        self.status = f"{result.state.capitalize()} report stored{where}"
        for w in result.warnings:
            self.status += f" — {w}"
        return result

    # The study's reports ----------------------------------------------------------------------
    def _trust(self) -> TrustStore:
        rs = ReportingSettings.of(self.settings)
        try:
            return TrustStore.from_paths(rs.trust_store)
        except (OSError, CertificateError) as exc:
            log.warning("trust store unreadable: %s", exc)
            return TrustStore([])

    def documents(self) -> tuple[list[ExistingReport], list[OtherDocument]]:
        """The study's reports, and its other reader-made objects (key images, presentation states …)."""
        if not self.study_uid:
            return [], []
        return study_documents(self.cache, self.study_uid, self._trust())

    def existing_reports(self) -> list[ExistingReport]:
        """The study's reports only (not key images, presentation states or rejection notes)."""
        return self.documents()[0]

    def export_pdf(self, sop_instance_uid: str, path: str, *, store: bool = True) -> str:
        """Write the report as PDF to ``path`` and (``store``) keep it in the study as Encapsulated PDF.

        The Encapsulated PDF is queued like reports (the reporting destination or
        the study's archive).  Returns the status line.
        """
        from workstation.reporting.pdf import encapsulated_pdf, report_pdf, store_pdf

        ds = dcmread(self._report_path(sop_instance_uid))
        status = next((r.signature for r in self.existing_reports() if r.sop_instance_uid == sop_instance_uid), "")
        pdf = report_pdf(ds, status)
        Path(path).write_bytes(pdf)
        self.status = f"PDF written to {path}"
        if store:
            destination = lifecycle.resolve_destination(self.cache, self.settings, self.study_uid, None)
            store_pdf(self.cache, encapsulated_pdf(pdf, ds), destination)
            self.status += " and stored in the study" + (f", queued for {destination}" if destination else "")
        return self.status

    def report_text(self, sop_instance_uid: str) -> str:
        return render(dcmread(self._report_path(sop_instance_uid)))

    def _report_path(self, sop_instance_uid: str) -> Path:
        row = self.cache.instance(sop_instance_uid)
        if row is None:
            raise ContentError(f"report {sop_instance_uid} is no longer in the cache")
        return self.cache.path_of(row)


def _local(iso: str) -> str:
    try:
        return dt.datetime.fromisoformat(iso).astimezone().strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return iso


def _order_clinical_information(cache: StudyCache, study_uid: str, accession: str) -> str:
    """The clinical information the study's order gives (reason, history), or ""."""
    from workstation.worklist.context import clinical_information
    from workstation.worklist.orders import order_for_study

    try:
        return clinical_information(order_for_study(cache, study_uid, accession))
    except Exception:  # noqa: BLE001 - an unreadable order never stops a report from starting
        log.exception("order of the study unreadable")
        return ""
