"""Coded values of the DICOM Audit Message (PS3.15 A.5 and PS3.16 CID 400-405).

Each code is ``(code, codeSystemName, meaning)``; the meaning goes in ``originalText`` (the
schema's "Code Meaning") and ``displayName``.
"""

from __future__ import annotations

from typing import NamedTuple


class Code(NamedTuple):
    """One coded value: code, coding scheme (``DCM``, ``RFC-3881``) and meaning."""

    code: str
    scheme: str
    meaning: str


# Event IDs (CID 400 Audit Event ID)
APPLICATION_ACTIVITY = Code("110100", "DCM", "Application Activity")
AUDIT_LOG_USED = Code("110101", "DCM", "Audit Log Used")
BEGIN_TRANSFERRING = Code("110102", "DCM", "Begin Transferring DICOM Instances")
INSTANCES_ACCESSED = Code("110103", "DCM", "DICOM Instances Accessed")
INSTANCES_TRANSFERRED = Code("110104", "DCM", "DICOM Instances Transferred")
STUDY_DELETED = Code("110105", "DCM", "DICOM Study Deleted")
EXPORT = Code("110106", "DCM", "Export")
IMPORT = Code("110107", "DCM", "Import")
ORDER_RECORD = Code("110109", "DCM", "Order Record")
PATIENT_RECORD = Code("110110", "DCM", "Patient Record")
QUERY = Code("110112", "DCM", "Query")
SECURITY_ALERT = Code("110113", "DCM", "Security Alert")
USER_AUTHENTICATION = Code("110114", "DCM", "User Authentication")

# Event type codes (CID 401 Audit Event Type Code)
APPLICATION_START = Code("110120", "DCM", "Application Start")
APPLICATION_STOP = Code("110121", "DCM", "Application Stop")
LOGIN = Code("110122", "DCM", "Login")
LOGOUT = Code("110123", "DCM", "Logout")
NODE_AUTHENTICATION = Code("110126", "DCM", "Node Authentication")
USE_OF_RESTRICTED_FUNCTION = Code("110132", "DCM", "Use of Restricted Function")

# Active participant roles (CID 402 Audit Active Participant Role ID Code)
ROLE_APPLICATION = Code("110150", "DCM", "Application")
ROLE_APPLICATION_LAUNCHER = Code("110151", "DCM", "Application Launcher")
ROLE_DESTINATION = Code("110152", "DCM", "Destination Role ID")
ROLE_SOURCE = Code("110153", "DCM", "Source Role ID")
ROLE_DESTINATION_MEDIA = Code("110154", "DCM", "Destination Media")
ROLE_SOURCE_MEDIA = Code("110155", "DCM", "Source Media")

# Participant object ID types (RFC 3881 and CID 404 Audit Participant Object ID Type Code)
PATIENT_NUMBER = Code("2", "RFC-3881", "Patient Number")
STUDY_INSTANCE_UID = Code("110180", "DCM", "Study Instance UID")
SOP_CLASS_UID = Code("110181", "DCM", "SOP Class UID")
NODE_ID = Code("110182", "DCM", "Node ID")
URI = Code("12", "RFC-3881", "URI")

EVENTS_BY_CODE = {c.code: c for c in (
    APPLICATION_ACTIVITY, AUDIT_LOG_USED, BEGIN_TRANSFERRING, INSTANCES_ACCESSED, INSTANCES_TRANSFERRED,
    STUDY_DELETED, EXPORT, IMPORT, ORDER_RECORD, PATIENT_RECORD, QUERY, SECURITY_ALERT, USER_AUTHENTICATION,
)}
