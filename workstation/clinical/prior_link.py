"""Register a cached prior series to a cached current series, and keep the result as a DICOM object.

The work the viewer runs in the background when the reader asks to register
the prior: read both volumes, register rigidly
(:func:`~workstation.clinical.registration.register_rigid`), and store the
transform as a Spatial Registration instance in the current study (imported
into the cache like any received object).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pydicom

from workstation.clinical.registration import RigidTransform, register_rigid
from workstation.clinical.spatial_registration import spatial_registration_dataset
from workstation.imaging.patient_module import apply_shown_patient
from workstation.jobs import CancelToken
from workstation.store.merges import shown_patient

if TYPE_CHECKING:
    from workstation.store.cache import StudyCache


def register_series(cache: StudyCache, current_series_uid: str, prior_series_uid: str, *,
                    progress: Callable[[int, int], None] | None = None,
                    cancel: CancelToken | None = None) -> RigidTransform:  # fmt: skip
    """Rigid registration of a cached prior series to a cached current one (current -> prior points)."""
    from workstation.model.series_volume import load_series_volume

    cancelled = (lambda: cancel.cancelled) if cancel is not None else None
    current = load_series_volume(cache, current_series_uid, cancelled=cancelled)
    prior = load_series_volume(cache, prior_series_uid, cancelled=cancelled)
    if not current.frame_of_reference_uid or not prior.frame_of_reference_uid:
        raise ValueError("both series need a Frame of Reference UID to be registered")
    return register_rigid(current, prior, progress=progress, cancel=cancel)


def save_registration(cache: StudyCache, current_series_uid: str, prior_series_uid: str,
                      transform: RigidTransform) -> str:
    """Store ``transform`` as a Spatial Registration object of the current study; returns its SOP Instance UID."""
    from workstation.store.importer import import_paths

    def header(series_uid: str) -> pydicom.Dataset:
        rows = cache.instances(series_uid)
        if not rows:
            raise ValueError(f"series {series_uid} is not in the cache")
        return pydicom.dcmread(cache.path_of(rows[0]), stop_before_pixels=True)

    current, prior = header(current_series_uid), header(prior_series_uid)
    ds = spatial_registration_dataset(current, prior, transform, current_images=[current], prior_images=[prior])
    shown = shown_patient(cache, str(current.StudyInstanceUID))
    if shown is not None:  # a study the RIS merged: the object names the surviving patient, as the index does
        apply_shown_patient(ds, shown)
    with tempfile.TemporaryDirectory(prefix="lightbox-reg-") as folder:
        path = Path(folder) / "registration.dcm"
        ds.save_as(path, enforce_file_format=True)
        import_paths(cache, [path], workers=1)
    return str(ds.SOPInstanceUID)
