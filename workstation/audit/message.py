"""An audit event and its DICOM Audit Message XML (PS3.15 A.5.1).

The event is plain data (so the store can keep it and ``lightbox audit`` can list it); ``to_xml``
writes the message in the element order the schema's groups require.
"""

from __future__ import annotations

import base64
import datetime as dt
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any

from workstation.audit.codes import Code

# EventOutcomeIndicator values
SUCCESS, MINOR_FAILURE, SERIOUS_FAILURE, MAJOR_FAILURE = "0", "4", "8", "12"


def _coded(parent: ET.Element, tag: str, code: Code) -> ET.Element:
    return ET.SubElement(parent, tag, {
        "csd-code": code.code, "codeSystemName": code.scheme, "displayName": code.meaning, "originalText": code.meaning,
    })


@dataclass
class ActiveParticipant:
    """A user, process or node taking part (``UserID`` is its identity: login, AE title, host)."""

    user_id: str
    requestor: bool = False
    user_name: str = ""
    alternative_user_id: str = ""
    network_access_point: str = ""
    network_access_point_type: str = "1"  # 1 machine name, 2 IP address
    roles: tuple[Code, ...] = ()
    media_type: Code | None = None


@dataclass
class ParticipantObject:
    """A patient, study, query or node the event was about."""

    object_id: str
    id_type: Code
    type_code: str = ""  # 1 person, 2 system object
    role: str = ""  # 1 patient, 3 report, 24 query ...
    life_cycle: str = ""
    name: str = ""
    query: bytes | None = None
    details: tuple[tuple[str, bytes], ...] = ()
    study_uids: tuple[str, ...] = ()
    sop_classes: tuple[tuple[str, int], ...] = ()  # (SOP Class UID, number of instances)
    accessions: tuple[str, ...] = ()
    anonymized: bool | None = None


@dataclass
class AuditEvent:
    """One audit event: what happened, when, how it went, who took part and what it was about."""

    event_id: Code
    action: str = ""  # C R U D E
    outcome: str = SUCCESS
    outcome_description: str = ""
    event_types: tuple[Code, ...] = ()
    participants: list[ActiveParticipant] = field(default_factory=list)
    objects: list[ParticipantObject] = field(default_factory=list)
    source_id: str = "LIGHTBOX"
    enterprise_site_id: str = ""
    time: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))

    # What ``lightbox audit`` lists and filters on ---------------------------------
    @property
    def patient_ids(self) -> list[str]:
        return [o.object_id for o in self.objects if o.role == "1"]

    @property
    def study_uids(self) -> list[str]:
        return [o.object_id for o in self.objects if o.id_type.code == "110180"]

    @property
    def user(self) -> str:
        for p in self.participants:
            if p.requestor:
                return p.user_id
        return ""

    def summary(self) -> dict[str, Any]:
        """The fields the store indexes beside the XML."""
        return {
            "time": self.time.isoformat(),
            "event": self.event_id.meaning,
            "event_code": self.event_id.code,
            "type": ", ".join(t.meaning for t in self.event_types),
            "action": self.action,
            "outcome": self.outcome,
            "user": self.user,
            "patients": self.patient_ids,
            "studies": self.study_uids,
        }

    def to_element(self) -> ET.Element:
        root = ET.Element("AuditMessage")
        ev_attrs = {"EventDateTime": self.time.isoformat(timespec="milliseconds"),
                    "EventOutcomeIndicator": self.outcome}
        if self.action:
            ev_attrs["EventActionCode"] = self.action
        ev = ET.SubElement(root, "EventIdentification", ev_attrs)
        _coded(ev, "EventID", self.event_id)
        for t in self.event_types:
            _coded(ev, "EventTypeCode", t)
        if self.outcome_description:
            ET.SubElement(ev, "EventOutcomeDescription").text = self.outcome_description
        for p in self.participants:
            attrs = {"UserID": p.user_id, "UserIsRequestor": "true" if p.requestor else "false"}
            if p.alternative_user_id:
                attrs["AlternativeUserID"] = p.alternative_user_id
            if p.user_name:
                attrs["UserName"] = p.user_name
            if p.network_access_point:
                attrs["NetworkAccessPointID"] = p.network_access_point
                attrs["NetworkAccessPointTypeCode"] = p.network_access_point_type
            ap = ET.SubElement(root, "ActiveParticipant", attrs)
            for r in p.roles:
                _coded(ap, "RoleIDCode", r)
            if p.media_type is not None:
                _coded(ET.SubElement(ap, "MediaIdentifier"), "MediaType", p.media_type)
        src_attrs = {"AuditSourceID": self.source_id}
        if self.enterprise_site_id:
            src_attrs["AuditEnterpriseSiteID"] = self.enterprise_site_id
        src = ET.SubElement(root, "AuditSourceIdentification", src_attrs)
        ET.SubElement(src, "AuditSourceTypeCode", {"csd-code": "1"})  # end-user display device
        for o in self.objects:
            attrs = {"ParticipantObjectID": o.object_id}
            if o.type_code:
                attrs["ParticipantObjectTypeCode"] = o.type_code
            if o.role:
                attrs["ParticipantObjectTypeCodeRole"] = o.role
            if o.life_cycle:
                attrs["ParticipantObjectDataLifeCycle"] = o.life_cycle
            po = ET.SubElement(root, "ParticipantObjectIdentification", attrs)
            _coded(po, "ParticipantObjectIDTypeCode", o.id_type)
            if o.query is not None:
                ET.SubElement(po, "ParticipantObjectQuery").text = base64.b64encode(o.query).decode("ascii")
            else:
                # The schema wants a name or a query; a study without a name is named by its UID.
                ET.SubElement(po, "ParticipantObjectName").text = o.name or o.object_id
            for key, value in o.details:
                ET.SubElement(po, "ParticipantObjectDetail",
                              {"type": key, "value": base64.b64encode(value).decode("ascii")})
            if o.study_uids or o.sop_classes or o.accessions or o.anonymized is not None:
                desc = ET.SubElement(po, "ParticipantObjectDescription")
                for acc in o.accessions:
                    ET.SubElement(desc, "Accession", {"Number": acc})
                for uid, n in o.sop_classes:
                    ET.SubElement(desc, "SOPClass", {"UID": uid, "NumberOfInstances": str(int(n))})
                if o.study_uids:
                    contains = ET.SubElement(desc, "ParticipantObjectContainsStudy")
                    for uid in o.study_uids:
                        ET.SubElement(contains, "StudyIDs", {"UID": uid})
                if o.anonymized is not None:
                    ET.SubElement(desc, "Anonymized").text = "true" if o.anonymized else "false"
        return root

    def to_xml(self) -> str:
        """The DICOM Audit Message as UTF-8 text (no XML declaration, as syslog carries it)."""
        return ET.tostring(self.to_element(), encoding="unicode")
