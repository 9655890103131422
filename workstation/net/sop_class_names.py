"""The pynetdicom SOP classes Lightbox names in its own code, typed.

pynetdicom creates its SOP class objects when :mod:`pynetdicom.sop_class` is
imported (``globals()[name] = SOPClass(uid)``), which a type checker cannot
see.  :func:`~pynetdicom.sop_class.uid_to_sop_class` hands out the very same
objects with their type, so the services below keep pynetdicom's own objects
(service class included) and every name is checked.
"""

from __future__ import annotations

from pynetdicom.sop_class import SOPClass, uid_to_sop_class

__all__ = [
    "ModalityWorklistInformationFind",
    "PatientRootQueryRetrieveInformationModelFind",
    "PatientRootQueryRetrieveInformationModelGet",
    "PatientRootQueryRetrieveInformationModelMove",
    "StorageCommitmentPushModel",
    "StudyRootQueryRetrieveInformationModelFind",
    "StudyRootQueryRetrieveInformationModelGet",
    "StudyRootQueryRetrieveInformationModelMove",
    "Verification",
]

Verification: SOPClass = uid_to_sop_class("1.2.840.10008.1.1")
StorageCommitmentPushModel: SOPClass = uid_to_sop_class("1.2.840.10008.1.20.1")
ModalityWorklistInformationFind: SOPClass = uid_to_sop_class("1.2.840.10008.5.1.4.31")
PatientRootQueryRetrieveInformationModelFind: SOPClass = uid_to_sop_class("1.2.840.10008.5.1.4.1.2.1.1")
PatientRootQueryRetrieveInformationModelMove: SOPClass = uid_to_sop_class("1.2.840.10008.5.1.4.1.2.1.2")
PatientRootQueryRetrieveInformationModelGet: SOPClass = uid_to_sop_class("1.2.840.10008.5.1.4.1.2.1.3")
StudyRootQueryRetrieveInformationModelFind: SOPClass = uid_to_sop_class("1.2.840.10008.5.1.4.1.2.2.1")
StudyRootQueryRetrieveInformationModelMove: SOPClass = uid_to_sop_class("1.2.840.10008.5.1.4.1.2.2.2")
StudyRootQueryRetrieveInformationModelGet: SOPClass = uid_to_sop_class("1.2.840.10008.5.1.4.1.2.2.3")
