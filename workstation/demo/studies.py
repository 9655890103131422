"""Generate the synthetic demo studies as DICOM Part 10 files.

Nothing binary is committed: every image is drawn from analytic phantoms with
fixed seeds, so the output (pixels and UIDs) is the same on every run.  Two
demo patients:

* ``LBX-0001`` Demo^Robert^J: CT chest with contrast (soft-tissue and lung
  reconstructions) and its prior a year earlier; chest radiographs PA and
  lateral and a prior PA.
* ``LBX-0002`` Müller^Anna (ISO_IR 192): MR brain (T1 sagittal, T2, FLAIR and
  T1 axial), screening mammography (RCC, LCC, RMLO, LMLO) and its prior, and a
  carotid ultrasound cine (RGB multi-frame).

Objects of known size and value (:data:`CT_SPHERES`, :data:`MR_LESIONS`,
:data:`MG_MASSES`, :data:`US_CAROTID`) let measurement code be checked
against the images.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from workstation.demo.breast_phantom import MG_MASSES, MammoMass, mammogram
from workstation.demo.canvas import box_blur3
from workstation.demo.pet_phantom import PET_ACQUISITION, PET_LESIONS, PET_RESCALE_SLOPE, pet_slice, petct_ct_spheres
from workstation.demo.head_phantom import MR_LESIONS, MRLesion, head_labels, mr_signal
from workstation.demo.headers import series_dataset, set_instance
from workstation.demo.phantoms import (
    CT_SPHERES,
    PRIOR_CT_SPHERES,
    PRIOR_CT_TABLE_SHIFT,
    Sphere,
    chest_slice,
)
from workstation.demo.plan import (
    DEMO_VERSION,
    DX_CENTRE_Z,
    SIZES,
    DemoPatient,
    SeriesPlan,
    StudyPlan,
    demo_patients,
    demo_uid,
    planned_series,
    planned_studies,
)
from workstation.demo.radiograph_phantom import chest_radiograph
from workstation.demo.ultrasound_phantom import US_CAROTID, CarotidPhantom, carotid_cine
from workstation.demo.writer import SeriesFileWriter

__all__ = [
    "CT_SPHERES",
    "DEMO_VERSION",
    "MG_MASSES",
    "MR_LESIONS",
    "PET_ACQUISITION",
    "PET_LESIONS",
    "PRIOR_CT_SPHERES",
    "SIZES",
    "US_CAROTID",
    "CarotidPhantom",
    "DemoPatient",
    "MRLesion",
    "MammoMass",
    "SeriesPlan",
    "Sphere",
    "StudyPlan",
    "demo_patients",
    "demo_uid",
    "generate_demo_studies",
    "planned_series",
    "planned_studies",
]

# The prior radiograph: the patient stood where they stand now (the same anatomy at the same place).
PRIOR_DX_SHIFT = (0.0, 0.0, 0.0)

_PROGRESS_INTERVAL_S = 0.1

Rendered = Iterator[tuple[SeriesPlan, int, np.ndarray]]


def _rng(series: SeriesPlan, *extra: object) -> np.random.Generator:
    key = "/".join([series.study.key, series.key, series.params["size"], *map(str, extra)])
    return np.random.default_rng(zlib.crc32(key.encode()))


class _NoiseBank:
    """CT noise for one series: windows at random offsets into one larger field.

    Drawing a fresh 512 x 512 field per slice costs more than drawing the rest
    of the slice; windows of a field four times larger look as independent.
    """

    def __init__(self, rng: np.random.Generator, shape: tuple[int, int], kernel: str) -> None:
        self._rng = rng
        self._shape = shape
        white = rng.standard_normal((2 * shape[0], 2 * shape[1]), dtype=np.float32)
        if kernel == "LUNG":
            self._field = white * 28.0
        else:
            # A smooth kernel correlates the noise between neighbouring pixels.
            self._field = box_blur3(white) * (3.0 * 9.0)

    def next(self) -> np.ndarray:
        h, w = self._shape
        r, c = self._rng.integers(0, h + 1), self._rng.integers(0, w + 1)
        return self._field[r : r + h, c : c + w]


def _render_ct(group: list[SeriesPlan]) -> Rendered:
    """Slices of one CT acquisition, each reconstruction of it in turn."""
    first = group[0]
    shift = tuple(first.params["shift"])
    spheres = PRIOR_CT_SPHERES if first.params.get("prior") else CT_SPHERES
    if first.params.get("petct"):
        spheres = petct_ct_spheres()
    n = first.columns
    x0, y0, _ = first.image_plane()[1]
    xs = x0 + np.arange(n, dtype=np.float32) * first.pixel_spacing[1]
    ys = y0 + np.arange(first.rows, dtype=np.float32) * first.pixel_spacing[0]
    noise = {s.key: _NoiseBank(_rng(s), (first.rows, first.columns), s.params["kernel"]) for s in group}
    for index in range(first.instances):
        z = first.position(index)[2]
        hu, exact = chest_slice(xs, ys, z, shift=shift, spheres=spheres)
        for series in group:
            kernel = series.params["kernel"]
            image = hu
            if kernel == "LUNG":
                # Edge-enhancing reconstruction kernel: sharper and noisier.
                image = hu + 0.9 * (hu - box_blur3(hu))
            image = image + noise[series.key].next()
            image[exact] = hu[exact]
            yield series, index, np.clip(np.rint(image) + 1024.0, 0, 4095).astype(np.uint16)


def _pixel_grid(series: SeriesPlan, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Patient coordinates (X, Y, Z) of every pixel of an instance, broadcastable."""
    o = np.asarray(series.image_plane()[0], dtype=np.float32)
    origin = np.asarray(series.position(index), dtype=np.float32)
    cols = np.arange(series.columns, dtype=np.float32)[None, :] * series.pixel_spacing[1]
    rows = np.arange(series.rows, dtype=np.float32)[:, None] * series.pixel_spacing[0]
    x, y, z = (origin[k] + o[k] * cols + o[3 + k] * rows for k in range(3))
    return x, y, z


def _render_mr(group: list[SeriesPlan]) -> Rendered:
    """Series sharing one slice geometry: the tissue map is computed once per slice."""
    first = group[0]
    rngs = {s.key: _rng(s) for s in group}
    for index in range(first.instances):
        X, Y, Z = _pixel_grid(first, index)
        labels = head_labels(X, Y, Z, prior=bool(first.params.get("prior")))
        for series in group:
            yield series, index, mr_signal(labels, series.params["sequence"], X, Y, Z, rngs[series.key])


def _render_pt(group: list[SeriesPlan]) -> Rendered:
    for series in group:
        rng = _rng(series)
        x0, y0, _ = series.image_plane()[1]
        xs = x0 + np.arange(series.columns, dtype=np.float32) * series.pixel_spacing[1]
        ys = y0 + np.arange(series.rows, dtype=np.float32) * series.pixel_spacing[0]
        for index in range(series.instances):
            activity = pet_slice(xs, ys, series.position(index)[2], rng)
            yield series, index, np.clip(np.rint(activity / PET_RESCALE_SLOPE), 0, 65535).astype(np.uint16)


def _body_spheres(prior: bool) -> list[Sphere]:
    if not prior:
        return list(CT_SPHERES)
    dx, dy, dz = PRIOR_CT_TABLE_SHIFT
    back = (-dx, -dy, -dz)
    return [s.shifted(back) for s in PRIOR_CT_SPHERES]


def _render_dx(group: list[SeriesPlan]) -> Rendered:
    for series in group:
        prior = bool(series.params.get("prior"))
        image = chest_radiograph(
            series.params["view"],
            series.rows,
            series.columns,
            series.pixel_spacing[0],
            DX_CENTRE_Z,
            spheres=_body_spheres(prior),
            shift=PRIOR_DX_SHIFT if prior else (0.0, 0.0, 0.0),
            rng=_rng(series),
        )
        yield series, 0, image


def _render_mg(group: list[SeriesPlan]) -> Rendered:
    for series in group:
        p = series.params
        yield series, 0, mammogram(p["side"], p["view"], series.rows, series.columns, series.pixel_spacing[0],
                                   prior=bool(p.get("prior")))  # fmt: skip


def _render_us(group: list[SeriesPlan]) -> Rendered:
    for series in group:
        p = series.params
        frames = carotid_cine(series.rows, series.columns, series.frames, p["region"], p["delta_cm"],
                              p["frame_time_ms"])  # fmt: skip
        yield series, 0, frames


_RENDERERS = {"ct": _render_ct, "mr": _render_mr, "dx": _render_dx, "mg": _render_mg, "us": _render_us,
              "pt": _render_pt}


def _group_key(series: SeriesPlan) -> str:
    """Series drawn together: CT reconstructions of one acquisition, MR series of one geometry."""
    family = series.phantom.split("-")[0]
    if family == "ct":
        return f"ct/{series.study.key}"
    if family == "mr":
        return f"mr/{series.study.key}/{series.orientation}/{series.instances}"
    return f"{family}/{series.study.key}/{series.key}"


def _cost(series: SeriesPlan) -> int:
    """Work units of one instance: about one 512 x 512 slice each."""
    return max(1, round(series.rows * series.columns * series.frames / 262144))


def generate_demo_studies(
    out_dir: Path,
    *,
    size: str = "full",
    progress: Callable[[int, int], None] | None = None,
) -> list[Path]:
    """Write all demo studies under ``out_dir`` and return the file paths written.

    Parameters
    ----------
    out_dir : pathlib.Path
        Destination; files go to ``<PatientID>/<date>_<modality>_<study>/<nnn>_<series>/<nnnn>.dcm``.
    size : {"full", "small"}
        "full" gives realistic matrices (CT 512 x 512 x 200 at 1.25 mm, ...);
        "small" the same studies, series and header semantics with tiny
        matrices, for tests.
    progress : callable, optional
        ``progress(done, total)`` in work units, called at most every ~100 ms
        and once at the end.

    Returns
    -------
    list of pathlib.Path
        Every file written, in generation order.
    """
    plans = planned_series(size)
    out_dir = Path(out_dir)
    total = sum(_cost(s) * s.instances for s in plans)
    done = 0
    last_report = time.monotonic()
    if progress is not None:
        progress(0, total)

    groups: dict[str, list[SeriesPlan]] = {}
    for series in plans:
        groups.setdefault(_group_key(series), []).append(series)
    datasets = {s.uid: series_dataset(s) for s in plans}
    writers = {uid: SeriesFileWriter(ds) for uid, ds in datasets.items()}
    written: list[Path] = []
    for group in groups.values():
        renderer = _RENDERERS[group[0].phantom.split("-")[0]]
        for series, index, pixels in renderer(group):
            folder = out_dir / series.path
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"{index + 1:04d}.dcm"
            ds = datasets[series.uid]
            set_instance(ds, series, index, np.ascontiguousarray(pixels).tobytes())
            writers[series.uid].write(path, ds)
            written.append(path)
            done += _cost(series)
            now = time.monotonic()
            if progress is not None and now - last_report >= _PROGRESS_INTERVAL_S:
                progress(done, total)
                last_report = now
    if progress is not None:
        progress(total, total)
    return written


def demo_study_uids(size: str = "full") -> dict[str, str]:
    """Study Instance UID of each demo study, keyed by the study's key."""
    return {s.key: s.uid for s in planned_studies(size)}
