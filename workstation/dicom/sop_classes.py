"""Storage SOP classes Lightbox accepts: pynetdicom's list plus the retired ones still produced.

pynetdicom's ``AllStoragePresentationContexts`` leaves out the storage SOP
classes PS3.4 has retired, yet old ultrasound and nuclear medicine systems
still send Ultrasound Image Storage (Retired) and friends, and archives full
of old data hold them: a C-MOVE of such a study failed because our storage
SCP refused the class.  The retired classes below are those pydicom's UID
dictionary lists as retired storage SOP classes (Storage Commitment Pull
Model, not a storage class, left out).
"""

from __future__ import annotations

__all__ = ["RETIRED_STORAGE_SOP_CLASSES", "register_retired_storage", "storage_sop_classes"]

#: Retired storage SOP Class UID -> name (PS3.6 Table A-1, "Retired").
RETIRED_STORAGE_SOP_CLASSES: dict[str, str] = {
    "1.2.840.10008.5.1.4.1.1.6": "Ultrasound Image Storage (Retired)",
    "1.2.840.10008.5.1.4.1.1.3": "Ultrasound Multi-frame Image Storage (Retired)",
    "1.2.840.10008.5.1.4.1.1.5": "Nuclear Medicine Image Storage (Retired)",
    "1.2.840.10008.5.1.4.1.1.12.3": "X-Ray Angiographic Bi-Plane Image Storage (Retired)",
    "1.2.840.10008.5.1.4.1.1.77.1": "VL Image Storage - Trial (Retired)",
    "1.2.840.10008.5.1.4.1.1.77.2": "VL Multi-frame Image Storage - Trial (Retired)",
    "1.2.840.10008.5.1.4.1.1.8": "Standalone Overlay Storage (Retired)",
    "1.2.840.10008.5.1.4.1.1.9": "Standalone Curve Storage (Retired)",
    "1.2.840.10008.5.1.4.1.1.9.1": "Waveform Storage - Trial (Retired)",
    "1.2.840.10008.5.1.4.1.1.10": "Standalone Modality LUT Storage (Retired)",
    "1.2.840.10008.5.1.4.1.1.11": "Standalone VOI LUT Storage (Retired)",
    "1.2.840.10008.5.1.4.1.1.129": "Standalone PET Curve Storage (Retired)",
    "1.2.840.10008.5.1.4.1.1.88.1": "Text SR Storage - Trial (Retired)",
    "1.2.840.10008.5.1.4.1.1.88.2": "Audio SR Storage - Trial (Retired)",
    "1.2.840.10008.5.1.4.1.1.88.3": "Detail SR Storage - Trial (Retired)",
    "1.2.840.10008.5.1.4.1.1.88.4": "Comprehensive SR Storage - Trial (Retired)",
    "1.2.840.10008.5.1.4.34.1": "RT Beams Delivery Instruction Storage - Trial (Retired)",
    "1.2.840.10008.5.1.1.27": "Stored Print Storage (Retired)",
    "1.2.840.10008.5.1.1.29": "Hardcopy Grayscale Image Storage (Retired)",
    "1.2.840.10008.5.1.1.30": "Hardcopy Color Image Storage (Retired)",
}


def storage_sop_classes() -> list[str]:
    """Every storage SOP Class UID our storage SCP accepts: pynetdicom's current ones, then the retired ones.

    The retired ones are registered with pynetdicom's Storage Service Class
    first (once): without that it answers their C-STORE requests with
    "no supported service class" even when the context was accepted.
    """
    from pynetdicom.presentation import AllStoragePresentationContexts

    register_retired_storage()
    # Every one of pynetdicom's storage contexts names its abstract syntax.
    current: list[str] = [cx.abstract_syntax for cx in AllStoragePresentationContexts if cx.abstract_syntax]
    return current + [uid for uid in RETIRED_STORAGE_SOP_CLASSES if uid not in current]


def register_retired_storage() -> None:
    """Register the retired storage SOP classes with pynetdicom (idempotent)."""
    from pynetdicom import sop_class
    from pynetdicom.service_class import StorageServiceClass

    known = set(sop_class._STORAGE_CLASSES.values())
    for uid, name in RETIRED_STORAGE_SOP_CLASSES.items():
        if uid in known:
            continue
        keyword = "".join(ch for ch in name.title() if ch.isalnum()) + "Lightbox"
        sop_class.register_uid(uid, keyword, StorageServiceClass)
