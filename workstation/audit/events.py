"""Builders for the events Lightbox records, one per kind, each with the participants PS3.15 A.5.3 asks for.

Every builder takes the :class:`Identity` of who is working; patients are ``(patient_id, name)``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import Any

from workstation.audit import codes
from workstation.audit.codes import Code
from workstation.audit.identity import Identity
from workstation.audit.message import (ActiveParticipant, AuditEvent, ParticipantObject, MINOR_FAILURE,
                                       SERIOUS_FAILURE, SUCCESS)

Patient = tuple[str, str]  # (Patient ID, Patient's Name)


def _user(who: Identity, roles: tuple[Code, ...] = ()) -> ActiveParticipant:
    return ActiveParticipant(user_id=who.user_id, user_name=who.user_name, requestor=True,
                             network_access_point=who.host, roles=roles)


def _application(who: Identity, roles: tuple[Code, ...] = (codes.ROLE_APPLICATION,)) -> ActiveParticipant:
    return ActiveParticipant(user_id=who.ae_title, alternative_user_id=str(os.getpid()), requestor=False,
                             network_access_point=who.host, roles=roles)


def _peer(ae_title: str, host: str, role: Code) -> ActiveParticipant:
    return ActiveParticipant(user_id=ae_title or host or "unknown", requestor=False,
                             network_access_point=host, roles=(role,))


def _patients(patients: Iterable[Patient], life_cycle: str = "") -> list[ParticipantObject]:
    seen: set[str] = set()
    out = []
    for pid, name in patients:
        pid = str(pid or "")
        if not pid or pid in seen:
            continue
        seen.add(pid)
        out.append(ParticipantObject(pid, codes.PATIENT_NUMBER, type_code="1", role="1", life_cycle=life_cycle,
                                     name=str(name or "")))
    return out


def _studies(study_uids: Iterable[str], life_cycle: str = "", anonymized: bool | None = None,
             accessions: Sequence[str] = ()) -> list[ParticipantObject]:
    return [ParticipantObject(uid, codes.STUDY_INSTANCE_UID, type_code="2", role="3", life_cycle=life_cycle,
                              study_uids=(uid,), accessions=tuple(a for a in accessions if a), anonymized=anonymized)
            for uid in dict.fromkeys(u for u in study_uids if u)]


def _outcome(ok: bool) -> str:
    return SUCCESS if ok else MINOR_FAILURE


def _event(who: Identity, event_id: Code, **kw: Any) -> AuditEvent:
    return AuditEvent(event_id=event_id, source_id=who.ae_title, **kw)


def application_activity(who: Identity, started: bool) -> AuditEvent:
    """Application start or stop (the launching user and the application)."""
    return _event(who, codes.APPLICATION_ACTIVITY, action="E",
                  event_types=(codes.APPLICATION_START if started else codes.APPLICATION_STOP,),
                  participants=[_application(who), _user(who, (codes.ROLE_APPLICATION_LAUNCHER,))])


def user_authentication(who: Identity, login: bool, ok: bool = True, description: str = "") -> AuditEvent:
    """Login or logout (the screen lock is a logout, unlocking a login; a wrong password a failed login)."""
    return _event(who, codes.USER_AUTHENTICATION, action="E", outcome=_outcome(ok), outcome_description=description,
                  event_types=(codes.LOGIN if login else codes.LOGOUT,),
                  participants=[_user(who), _application(who)])


def query(who: Identity, peer_ae: str, peer_host: str, query_bytes: bytes, sop_class_uid: str,
          ok: bool = True) -> AuditEvent:
    """A C-FIND (or QIDO) sent to a peer; the query dataset goes base64 in ParticipantObjectQuery."""
    obj = ParticipantObject(sop_class_uid, codes.SOP_CLASS_UID, type_code="2", role="24", query=query_bytes,
                            details=(("TransferSyntax", b"1.2.840.10008.1.2.1"),))
    return _event(who, codes.QUERY, action="E", outcome=_outcome(ok),
                  participants=[_user(who, (codes.ROLE_SOURCE,)), _application(who, (codes.ROLE_SOURCE,)),
                                _peer(peer_ae, peer_host, codes.ROLE_DESTINATION)],
                  objects=[obj])


def _transfer(event_id: Code, who: Identity, source: tuple[str, str], destination: tuple[str, str],
              study_uids: Sequence[str], patients: Sequence[Patient], ok: bool, action: str,
              we_send: bool) -> AuditEvent:
    me = _application(who, (codes.ROLE_SOURCE if we_send else codes.ROLE_DESTINATION,))
    peer = _peer(*(destination if we_send else source), codes.ROLE_DESTINATION if we_send else codes.ROLE_SOURCE)
    return _event(who, event_id, action=action, outcome=_outcome(ok),
                  participants=[_user(who), me, peer],
                  objects=_studies(study_uids) + _patients(patients))


def begin_transferring(who: Identity, peer_ae: str, peer_host: str, study_uids: Sequence[str],
                       patients: Sequence[Patient], we_send: bool) -> AuditEvent:
    """A retrieve (``we_send`` False) or send (True) starting."""
    return _transfer(codes.BEGIN_TRANSFERRING, who, (peer_ae, peer_host), (peer_ae, peer_host), study_uids,
                     patients, True, "E", we_send)


def instances_transferred(who: Identity, peer_ae: str, peer_host: str, study_uids: Sequence[str],
                          patients: Sequence[Patient], we_send: bool, ok: bool = True) -> AuditEvent:
    """A retrieve (created here: action C) or send (read here: action R) finished."""
    return _transfer(codes.INSTANCES_TRANSFERRED, who, (peer_ae, peer_host), (peer_ae, peer_host), study_uids,
                     patients, ok, "R" if we_send else "C", we_send)


def instances_accessed(who: Identity, study_uids: Sequence[str], patients: Sequence[Patient],
                       action: str = "R", ok: bool = True, description: str = "") -> AuditEvent:
    """Studies opened, rendered or changed here (R read, U update, C create such as a signed report)."""
    return _event(who, codes.INSTANCES_ACCESSED, action=action, outcome=_outcome(ok), outcome_description=description,
                  participants=[_user(who), _application(who)],
                  objects=_studies(study_uids, "6" if action == "R" else "3") + _patients(patients))


def study_deleted(who: Identity, study_uids: Sequence[str], patients: Sequence[Patient],
                  description: str = "") -> AuditEvent:
    """Studies removed from this workstation's cache (prune, purge, discard)."""
    return _event(who, codes.STUDY_DELETED, action="D", outcome_description=description,
                  participants=[_user(who), _application(who)],
                  objects=_studies(study_uids, "14") + _patients(patients, "14"))


def patient_record(who: Identity, patients: Sequence[Patient], action: str = "U", description: str = "") -> AuditEvent:
    """A patient's demographics corrected, merged or updated (QC, ADT)."""
    return _event(who, codes.PATIENT_RECORD, action=action, outcome_description=description,
                  participants=[_user(who), _application(who)], objects=_patients(patients, "3"))


def order_record(who: Identity, patients: Sequence[Patient], accessions: Sequence[str], study_uids: Sequence[str] = (),
                 action: str = "U", description: str = "") -> AuditEvent:
    """An order (accession) changed or matched to a study."""
    return _event(who, codes.ORDER_RECORD, action=action, outcome_description=description,
                  participants=[_user(who), _application(who)],
                  objects=_patients(patients, "3") + _studies(study_uids, "3", accessions=accessions))


def export(who: Identity, destination: str, study_uids: Sequence[str], patients: Sequence[Patient],
           anonymized: bool = False, ok: bool = True, media: Code | None = None, outcome: str = "",
           description: str = "") -> AuditEvent:
    """Studies written to media or a folder (``destination`` is the path or device).

    ``outcome`` (``"0"``, ``"4"`` cancelled, ``"8"`` failed: EventOutcomeIndicator) overrides ``ok``;
    ``description`` says why an export did not complete.
    """
    dest = ActiveParticipant(user_id=destination, requestor=False, roles=(codes.ROLE_DESTINATION_MEDIA,),
                             media_type=media)
    return _event(who, codes.EXPORT, action="R", outcome=outcome or _outcome(ok), outcome_description=description,
                  participants=[_user(who, (codes.ROLE_SOURCE,)), _application(who, (codes.ROLE_SOURCE,)), dest],
                  objects=_studies(study_uids, "10", anonymized=anonymized) + _patients(patients, "10"))


def audit_log_used(who: Identity, uri: str) -> AuditEvent:
    """The audit trail itself read (listed or verified): PS3.15 A.5.3.2."""
    log_object = ParticipantObject(uri, codes.URI, type_code="2", role="13", name="Security Audit Log")
    return _event(who, codes.AUDIT_LOG_USED, action="R",
                  participants=[_user(who), _application(who)], objects=[log_object])


def security_alert(who: Identity, description: str, peer: str = "", event_type: Code | None = None,
                   patients: Sequence[Patient] = (), study_uids: Sequence[str] = ()) -> AuditEvent:
    """Something a security officer should see: an association refused, a signature that does not verify."""
    objs = _studies(study_uids) + _patients(patients)
    if peer:
        objs.insert(0, ParticipantObject(peer, codes.NODE_ID, type_code="2", role="13", name=peer))
    return _event(who, codes.SECURITY_ALERT, action="E", outcome=SERIOUS_FAILURE, outcome_description=description,
                  event_types=(event_type,) if event_type else (),
                  participants=[_application(who), _user(who)], objects=objs)
