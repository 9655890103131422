"""A report's life: draft → preliminary → final (signed) → amendment.

- Draft: saved in the index on every change (:func:`save_draft`), so a crash
  or a restart loses nothing; the study is held against eviction meanwhile.
- Preliminary: an SR with Completion Flag PARTIAL and Verification Flag UNVERIFIED.
- Final: COMPLETE and VERIFIED, with the Verifying Observer Sequence, signed
  with the radiologist's certificate (purpose: Verification Signature).
- Amendment: a new SR (new SOP Instance UID, same study) whose Predecessor
  Documents Sequence names the replaced one; the reason is recorded in the
  SR and the index.  Nothing is ever overwritten.

Issuing stores the SR in the cache and, when a destination is known, puts
it in the outbox in the same transaction (:func:`workstation.store.outbox.store_and_enqueue`).
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import uuid
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Any

from pydicom import dcmread
from pydicom.dataset import Dataset

from workstation.config import ConfigError, Settings
from workstation.dicom.header import parse_header
from workstation.store import outbox
from workstation.store.cache import StudyCache
from workstation.store.layout import stage_bytes
from workstation.store.merges import shown_patient
from workstation.reporting.certificates import SigningIdentity
from workstation.reporting.inputs import ReportContent
from workstation.reporting.settings import ReportingSettings
from workstation.reporting.signature import PURPOSE_VERIFICATION, encode, sign
from workstation.reporting.sr_build import BuildRequest, ContentError, Observer, ReportState, build_sr
from workstation.reporting.templates import get_template

log = logging.getLogger(__name__)

SR_CLASS_PREFIX = "1.2.840.10008.5.1.4.1.1.88."


@dataclass
class ReportResult:
    """What issuing a report did."""

    sop_instance_uid: str
    study_uid: str
    state: str
    signed: bool
    relpath: str
    destination: str | None
    outbox_pk: int | None
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


# Drafts -------------------------------------------------------------------------------------

def new_draft_id() -> str:
    """A new draft's ID; under a site login it starts with the reader's login and a slash, so that each
    reader on a shared station resumes only their own drafts (:func:`own_drafts`)."""
    return draft_prefix() + uuid.uuid4().hex


def draft_prefix() -> str:
    """``"<login>/"`` of the site-login user, or "" when nobody is logged in by the site login."""
    from workstation.audit.identity import session_user

    user = session_user()
    return f"{user.login}/" if user is not None else ""


def own_drafts(drafts: list[outbox.DraftRow]) -> list[outbox.DraftRow]:
    """The drafts of the site-login user (all of them when nobody is logged in by the site login)."""
    prefix = draft_prefix()
    return [d for d in drafts if d.draft_id.startswith(prefix)] if prefix else drafts


def save_draft(cache: StudyCache, draft_id: str, study_uid: str, content: ReportContent,
               predecessor_uid: str = "") -> None:
    """Autosave: one committed transaction per change."""
    outbox.save_draft(cache, draft_id, study_uid, content.template_id, content.as_dict(), predecessor_uid)


def load_draft(cache: StudyCache, draft_id: str) -> tuple[str, ReportContent, str] | None:
    """(study UID, content, predecessor UID) of a draft, or None."""
    row = outbox.get_draft(cache, draft_id)
    if row is None:
        return None
    return row.study_uid, ReportContent.from_dict(row.content), row.predecessor_uid


# What a report needs from the cache -----------------------------------------------------------------

def study_evidence(cache: StudyCache, study_uid: str, referenced: AbstractSet[str] = frozenset()) -> list[Dataset]:
    """Headers of the referenced images, plus one image of the study for patient and study attributes."""
    out: list[Dataset] = []
    seen: set[str] = set()
    for uid in sorted(referenced):
        row = cache.instance(uid)
        if row is not None and row.study_uid == study_uid:
            out.append(dcmread(cache.path_of(row), stop_before_pixels=True))
            seen.add(uid)
    if not out:
        for series in cache.series(study_uid):
            rows = [r for r in cache.instances(series.series_uid) if not r.sop_class_uid.startswith(SR_CLASS_PREFIX)]
            if rows:
                out.append(dcmread(cache.path_of(rows[0]), stop_before_pixels=True))
                break
    return out


def load_sr(cache: StudyCache, sop_instance_uid: str) -> Dataset:
    row = cache.instance(sop_instance_uid)
    if row is None:
        raise ContentError(f"no object {sop_instance_uid} in the cache")
    return dcmread(cache.path_of(row))


def resolve_destination(cache: StudyCache, settings: Settings, study_uid: str, explicit: str | None) -> str | None:
    """The node a report goes to.

    In order: ``explicit``; the reporting destination chosen in the settings;
    the study's archive (the configured node whose AE title sent the study's
    images); the site's default (``site_destination``); the only configured node when there is exactly
    one (studies loaded from disk, such as the demo's, came from no node, but a site with one
    archive sends its reports there).  Returns None when none is known (the report is then
    kept locally and the reader is told where to choose one).
    """
    if explicit:
        try:
            return settings.node(explicit).name
        except ConfigError as exc:
            raise ContentError(str(exc)) from None
    names = {n.name.lower(): n.name for n in settings.nodes}
    configured = ReportingSettings.of(settings).destination
    if configured:
        # Kept even when no such node is configured (yet): the outbox then says so, and the reader can change it.
        return names.get(configured.lower(), configured)
    origin = study_origin(cache, settings, study_uid)
    if origin:
        return origin
    site = ReportingSettings.of(settings).site_destination
    if site:
        return names.get(site.lower(), site)
    if len(settings.nodes) == 1:
        return settings.nodes[0].name
    return None


def study_origin(cache: StudyCache, settings: Settings, study_uid: str) -> str | None:
    """The configured node whose AE title sent the study's images, or None."""
    aes: set[str] = set()
    for series in cache.series(study_uid):
        aes |= {r.source_ae for r in cache.instances(series.series_uid) if r.source_ae}
    for node in settings.nodes:
        if node.ae_title in aes:
            return node.name
    return None


# Issuing ------------------------------------------------------------------------------------

def issue_report(
    cache: StudyCache,
    settings: Settings,
    study_uid: str,
    content: ReportContent,
    *,
    final: bool,
    identity: SigningIdentity | None = None,
    predecessor_uid: str = "",
    amendment_reason: str = "",
    destination: str | None = None,
    draft_id: str = "",
    now: dt.datetime | None = None,
) -> ReportResult:
    """Build, (sign,) store and queue a report.

    Parameters
    ----------
    final : bool
        A final report is complete, verified and signed (``identity`` required);
        otherwise a preliminary one.
    predecessor_uid : str
        The SOP Instance UID of the report this one amends (must be in the cache).
    destination : str, optional
        A node name; None keeps the report local and unqueued.
    draft_id : str
        The draft this report comes from: deleted in the same transaction.

    Raises
    ------
    ContentError
        Missing required fields, unknown study, no radiologist, no signing identity.
    workstation.store.outbox.OutboxError
        The report could not be stored (nothing was changed).
    """
    if cache.study(study_uid) is None:
        raise ContentError(f"no study {study_uid} in the cache")
    rs = ReportingSettings.of(settings)
    warnings: list[str] = []
    if final and identity is None:
        raise ContentError("a final report is signed: give the signing key and certificate")
    name, org = rs.radiologist_name, rs.organisation
    if identity is not None:
        info = identity.info
        name = name or info.common_name
        org = org or info.organisation
        warning = info.expiry_warning()
        if warning:
            warnings.append(warning)
    predecessor = load_sr(cache, predecessor_uid) if predecessor_uid else None
    if predecessor is not None and str(predecessor.StudyInstanceUID) != study_uid:
        raise ContentError("an amendment stays in the study of the report it replaces")
    if predecessor is not None and not amendment_reason.strip():
        raise ContentError("an amendment needs a reason")
    template = get_template(content.template_id)
    referenced = {m.image.sop_instance_uid for m in content.measurements} | {
        k.image.sop_instance_uid for k in content.key_images}
    evidence = study_evidence(cache, study_uid, referenced)
    req = BuildRequest(
        template=template, content=content, evidence=evidence, observer=Observer(name, org, rs.radiologist_id),
        state=ReportState.FINAL if final else ReportState.PRELIMINARY, predecessor=predecessor,
        amendment_reason=amendment_reason, instance_number=len(outbox.list_reports(cache, study_uid)) + 1, now=now,
        shown=shown_patient(cache, study_uid),
    )
    sr = build_sr(req)
    if final and identity is not None:  # a final report without an identity was refused above
        sr = sign(sr, identity, purpose=PURPOSE_VERIFICATION, now=now)
    data = encode(sr)
    _ds, record = parse_header(data)
    state = "amended" if predecessor is not None else ("final" if final else "preliminary")
    from workstation.reporting.ris import report_message

    # Signed (or preliminary) reports also go to the RIS as ORU^R01 when one is set, queued in the same transaction.
    hl7 = report_message(cache, settings, sr, state, signer_name=name, signer_id=rs.radiologist_id, now=now)
    staged = stage_bytes(cache.cache_dir, data)
    queued = outbox.store_and_enqueue(
        cache, staged, record, state=state, template_id=template.id, title=template.title, observer=name,
        predecessor_uid=predecessor_uid, amendment_reason=amendment_reason.strip(), signed=final,
        destination=destination, draft_id=draft_id, hl7=hl7,
    )
    log.info("report %s stored for study %s (%s%s)", record.sop_instance_uid, study_uid, state,
             f", queued for {destination}" if destination else "")
    return ReportResult(record.sop_instance_uid, study_uid, state, final, queued.commit.relpath, destination,
                        queued.outbox_pk, warnings)


def read_dataset(data: bytes) -> Dataset:
    return dcmread(io.BytesIO(data))
