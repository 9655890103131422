"""A series as the viewer scrolls it: its image frames in spatial order, with their geometry.

An :class:`ImageStack` is built from the cache index alone (no file is opened
for single-frame images), so opening a study costs one query per series.  The
frames of every image instance of the series are listed; a multi-frame
instance contributes one frame per frame (its per-frame positions are filled
in from its header once that is read).  Presentation states, key object
selections, structured reports and other objects without pixels are left out.

Order: when every frame has an Image Position (Patient) and all share one
Image Orientation (Patient), frames are sorted by their position along the
slice normal; the direction is chosen so Instance Number still increases
(a scan acquired head to feet keeps its first image first).  Otherwise the
order is Instance Number, then frame number.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

import numpy as np
from pydicom.dataset import Dataset

from workstation.store.queries import InstanceRow, SeriesRow

if TYPE_CHECKING:
    from workstation.store.cache import StudyCache

# Objects listed in a series that carry no image to scroll (their SOP Class UIDs start so).
_NON_IMAGE_PREFIXES = (
    "1.2.840.10008.5.1.4.1.1.11.",  # softcopy presentation states
    "1.2.840.10008.5.1.4.1.1.88.",  # structured reports, key object selection
    "1.2.840.10008.5.1.4.1.1.104.",  # encapsulated documents
    "1.2.840.10008.5.1.4.1.1.481.",  # RT plans, structures, records (RT Image has pixels, listed below)
    "1.2.840.10008.5.1.4.1.1.66",  # raw data, registrations, segmentations-as-surface, fiducials
    "1.2.840.10008.5.1.4.1.1.9.",  # waveforms
)
_IMAGE_EXCEPTIONS = ("1.2.840.10008.5.1.4.1.1.481.1",)  # RT Image Storage

# Native little endian transfer syntaxes: the index records where their Pixel Data starts.
_NATIVE_LE = ("1.2.840.10008.1.2", "1.2.840.10008.1.2.1")


def parse_floats(text: str, n: int) -> np.ndarray | None:
    """Parse a backslash-separated decimal string of exactly ``n`` values (None otherwise)."""
    try:
        values = [float(v) for v in text.split("\\")] if text else []
    except ValueError:
        return None
    # math.isfinite per value: np.isfinite on a list builds an array each call (a study open parses thousands).
    if len(values) != n or not all(map(math.isfinite, values)):
        return None
    return np.array(values, dtype=float)


class _SharedValues:
    """Decimal strings a series repeats (orientation, pixel spacing) parsed once, as read-only arrays.

    The frames sharing an orientation array share its normal too (computed once, not per frame).
    """

    def __init__(self) -> None:
        self._parsed: dict[tuple[str, int], np.ndarray | None] = {}
        self._normals: dict[int, tuple[np.ndarray, np.ndarray | None]] = {}

    def share_normal(self, frame: FrameRef) -> None:
        """Give ``frame`` the normal of its orientation when that orientation is one of the shared arrays."""
        o = frame.orientation
        if o is None or o.flags.writeable:  # not one of ours (a multi-frame header's own array)
            return
        kept = self._normals.get(id(o))
        if kept is None or kept[0] is not o:
            kept = self._normals[id(o)] = (o, unit_normal(o))
        frame._normal_memo = kept

    def parse(self, text: str, n: int) -> np.ndarray | None:
        key = (text, n)
        if key not in self._parsed:
            value = parse_floats(text, n)
            if value is not None:
                value.setflags(write=False)  # shared by the frames: never changed in place
            self._parsed[key] = value
        return self._parsed[key]


def unit_normal(orientation: Iterable[float]) -> np.ndarray | None:
    """Unit normal (row direction x column direction) of six direction cosines; None when degenerate.

    The returned array is read-only: it is shared by every caller of :attr:`FrameRef.normal`.
    """
    rx, ry, rz, cx, cy, cz = (float(v) for v in orientation)
    n = np.array([ry * cz - rz * cy, rz * cx - rx * cz, rx * cy - ry * cx])
    norm = float(np.sqrt(n @ n))
    if not norm > 1e-6:
        return None
    n /= norm
    n.setflags(write=False)
    return n


def is_image_instance(row: InstanceRow) -> bool:
    """True when the instance holds pixels the viewer can show as frames."""
    sop = row.sop_class_uid or ""
    if sop in _IMAGE_EXCEPTIONS:
        return True
    if any(sop.startswith(p) for p in _NON_IMAGE_PREFIXES):
        return False
    return bool(row.rows) and bool(row.columns)


@dataclass
class FrameRef:
    """One frame of the stack: where its pixels are and where it lies in the patient.

    Attributes
    ----------
    position : numpy.ndarray or None
        Image Position (Patient) of the frame's top left pixel centre, mm (LPS).
    orientation : numpy.ndarray or None
        Image Orientation (Patient): row direction cosines then column direction cosines.
    pixel_spacing : tuple of float or None
        Pixel Spacing (row spacing, column spacing) in mm, as the index recorded it.
    direct_offset : int or None
        Byte offset of this frame's stored values in the file when they can be
        read raw (native little endian, 16 bits, one sample); None: decode.
    """

    sop_instance_uid: str
    sop_class_uid: str
    frame: int
    number_of_frames: int
    instance_number: int | None
    path: Path
    rows: int
    columns: int
    bits_allocated: int
    samples_per_pixel: int
    pixel_representation: int
    photometric_interpretation: str
    position: np.ndarray | None = None
    orientation: np.ndarray | None = None
    pixel_spacing: tuple[float, float] | None = None
    slice_thickness: float | None = None
    direct_offset: int | None = None
    # (orientation array it was computed from, normal): linked scrolling asks for normals thousands
    # of times a second, and np.cross costs microseconds each.
    _normal_memo: tuple[np.ndarray | None, np.ndarray | None] | None = field(
        default=None, init=False, repr=False, compare=False
    )
    # Derived geometry other layers keep with the frame (e.g. its image plane for reference lines),
    # keyed by what it was derived from; see imaging.cross_reference.image_plane.
    derived: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def key(self) -> tuple[str, int]:
        """(SOP Instance UID, frame): names this frame across the viewer."""
        return self.sop_instance_uid, self.frame

    @property
    def normal(self) -> np.ndarray | None:
        """Unit normal of the frame's plane (row direction x column direction), read-only.

        Computed once per orientation (a new orientation array computes it anew).
        """
        o = self.orientation
        memo = self._normal_memo
        if memo is not None and memo[0] is o:
            return memo[1]
        n = None if o is None else unit_normal(o)
        self._normal_memo = (o, n)
        return n

    def patient_point(self, x: float, y: float) -> np.ndarray | None:
        """Patient coordinates (mm) of image point ``(x, y)`` in pixel units.

        ``(0, 0)`` is the top left corner of the top left pixel (the convention
        of Graphic Annotation PIXEL units), so pixel centres are at ``+0.5``.
        """
        if self.position is None or self.orientation is None or self.pixel_spacing is None:
            return None
        row_spacing, col_spacing = self.pixel_spacing
        return (
            self.position
            + self.orientation[:3] * (x - 0.5) * col_spacing
            + self.orientation[3:] * (y - 0.5) * row_spacing
        )


@dataclass
class ImageStack:
    """The frames of one series in display order.

    Attributes
    ----------
    series : SeriesRow
        The series as indexed.
    frames : list of FrameRef
        In display order (see the module notes).
    spatially_sorted : bool
        True when the order comes from positions along one normal.
    """

    series: SeriesRow
    frames: list[FrameRef] = field(default_factory=list)
    spatially_sorted: bool = False
    _geometry_memo: StackGeometry | None = field(default=None, init=False, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.frames)

    @property
    def frame_of_reference_uid(self) -> str:
        return self.series.frame_of_reference_uid or ""

    @property
    def geometry(self) -> StackGeometry:
        """Positions and normals of the frames as arrays, computed once per list of frames."""
        memo = self._geometry_memo
        if memo is None or memo.frames is not self.frames or memo.count != len(self.frames):
            memo = self._geometry_memo = StackGeometry.of(self.frames, self.spatially_sorted)
        return memo

    @property
    def normal(self) -> np.ndarray | None:
        """The normal of a spatially sorted stack (its first frame's), None otherwise."""
        return self.geometry.normal

    def index_of(self, sop_instance_uid: str, frame: int = 0) -> int | None:
        """Index of a frame by its SOP Instance UID and frame number, or None."""
        return self.geometry.index_of_key.get((sop_instance_uid, frame))

    def nearest_index(self, point: np.ndarray, *, max_distance: float | None = None) -> int | None:
        """The frame whose plane is closest to a patient point (mm), or None without geometry.

        Parameters
        ----------
        point : numpy.ndarray
            Patient coordinates (LPS, mm).
        max_distance : float, optional
            Return None when the closest plane is farther than this (mm).
        """
        g = self.geometry
        if not g.has_plane.any():
            return None
        # Distance of the point to each frame's own plane; the first of equal distances wins.
        d = np.abs(np.asarray(point, dtype=float) @ g.normals.T - g.offsets)
        d[~g.has_plane] = np.inf
        best = int(np.argmin(d))
        if max_distance is not None and d[best] > max_distance:
            return None
        return best

    def index_at(self, along_mm: float) -> int | None:
        """The frame of a spatially sorted stack nearest to ``along_mm`` along its normal, or None.

        A binary search over the sorted positions (see :class:`StackGeometry`).
        """
        g = self.geometry
        if g.along is None:
            return None
        a = g.along if g.ascending else -g.along
        s = along_mm if g.ascending else -along_mm
        k = int(np.searchsorted(a, s, side="left"))
        if k <= 0:
            return 0
        if k >= len(a):
            return int(np.searchsorted(a, a[-1], side="left"))
        if (s - a[k - 1]) <= (a[k] - s):  # a tie goes to the lower index, as in nearest_index
            return int(np.searchsorted(a, a[k - 1], side="left"))  # the first of equal positions
        return k


@dataclass
class StackGeometry:
    """A stack's frame geometry as arrays, for look-ups while scrolling.

    Attributes
    ----------
    normals : numpy.ndarray
        (n, 3) unit normal of each frame (zeros where it has none).
    offsets : numpy.ndarray
        (n,) each frame's position along its own normal (its plane is ``normal . x = offset``).
    has_plane : numpy.ndarray
        (n,) bool: the frame has a position and a normal.
    normal : numpy.ndarray or None
        The stack normal (first frame's) when the stack is spatially sorted.
    along : numpy.ndarray or None
        (n,) positions (mm) along :attr:`normal`, monotonic, when spatially sorted.
    ascending : bool
        True when :attr:`along` increases with the index.
    index_of_key : dict
        (SOP Instance UID, frame) -> index.
    """

    frames: list[FrameRef]
    count: int
    normals: np.ndarray
    offsets: np.ndarray
    has_plane: np.ndarray
    normal: np.ndarray | None
    along: np.ndarray | None
    ascending: bool
    index_of_key: dict[tuple[str, int], int]

    @classmethod
    def of(cls, frames: list[FrameRef], spatially_sorted: bool) -> StackGeometry:
        n = len(frames)
        normals = np.zeros((n, 3))
        positions = np.zeros((n, 3))
        has_plane = np.zeros(n, dtype=bool)
        for i, f in enumerate(frames):
            nf = f.normal
            if nf is not None and f.position is not None:
                normals[i], positions[i], has_plane[i] = nf, f.position, True
        offsets = np.einsum("ij,ij->i", normals, positions)
        normal = frames[0].normal if spatially_sorted and n else None
        along, ascending = None, True
        if normal is not None and has_plane.all():
            along = positions @ normal
            steps = np.diff(along)
            if (steps >= 0).all():
                ascending = True
            elif (steps <= 0).all():
                ascending = False
            else:
                along = None  # not monotonic: no binary search
        index_of_key: dict[tuple[str, int], int] = {}
        for i, f in enumerate(frames):
            index_of_key.setdefault(f.key, i)
        return cls(frames, n, normals, offsets, has_plane, normal, along, ascending, index_of_key)


def frame_refs(row: InstanceRow, path: Path, shared: _SharedValues | None = None) -> list[FrameRef]:
    """The frames of one instance (geometry of multi-frame instances is added from their header).

    ``shared`` parses the values a series repeats once for all its instances (see :func:`load_stack`).
    """
    n_frames = max(1, int(row.number_of_frames or 1))
    bits = int(row.bits_allocated or 16)
    samples = int(row.samples_per_pixel or 1)
    rows, cols = int(row.rows or 0), int(row.columns or 0)
    # Where the stored values start when they can be read raw, else None.
    direct = row.pixel_data_offset if bits == 16 and samples == 1 and row.transfer_syntax_uid in _NATIVE_LE else None
    repeated = shared.parse if shared is not None else parse_floats
    spacing = repeated(row.pixel_spacing, 2)
    orientation = repeated(row.image_orientation, 6)
    refs: list[FrameRef] = []
    for k in range(n_frames):
        refs.append(
            FrameRef(
                sop_instance_uid=row.sop_instance_uid,
                sop_class_uid=row.sop_class_uid,
                frame=k,
                number_of_frames=n_frames,
                instance_number=row.instance_number,
                path=path,
                rows=rows,
                columns=cols,
                bits_allocated=bits,
                samples_per_pixel=samples,
                pixel_representation=int(row.pixel_representation or 0),
                photometric_interpretation=row.photometric_interpretation or "",
                # Per-frame geometry of multi-frame objects comes from their header later.
                position=parse_floats(row.image_position, 3) if n_frames == 1 else None,
                orientation=orientation,
                pixel_spacing=(float(spacing[0]), float(spacing[1])) if spacing is not None else None,
                slice_thickness=row.slice_thickness,
                direct_offset=(direct + k * rows * cols * 2) if direct is not None else None,
            )
        )
    return refs


def sort_frames(frames: list[FrameRef]) -> tuple[list[FrameRef], bool]:
    """Display order of frames (see the module notes); returns (frames, spatially sorted)."""
    def by_number(f: FrameRef) -> tuple[int, int, str]:
        return (f.instance_number if f.instance_number is not None else 1 << 30, f.frame, f.sop_instance_uid)

    ordered = sorted(frames, key=by_number)
    if len(ordered) < 2 or any(f.position is None or f.orientation is None for f in ordered):
        return ordered, False
    orientations = np.array([f.orientation for f in ordered])
    if np.abs(orientations - orientations[0]).max() > 1e-4:
        return ordered, False
    normal = ordered[0].normal
    if normal is None:
        return ordered, False
    along = np.array([float(f.position @ normal) for f in ordered])
    # Stable sort keeps Instance Number order among frames at the same position.
    order = np.argsort(along, kind="stable")
    numbers = np.array([by_number(f)[0] for f in ordered], dtype=float)
    if len(set(numbers)) > 1 and np.corrcoef(along, numbers)[0, 1] < 0:
        order = np.argsort(-along, kind="stable")
    return [ordered[i] for i in order], True


def stack_from_rows(series: SeriesRow, rows: list[InstanceRow], paths: list[Path]) -> ImageStack:
    """Build the stack of ``series`` from its index rows and their file paths."""
    frames: list[FrameRef] = []
    shared = _SharedValues()
    for row, path in zip(rows, paths, strict=True):
        if is_image_instance(row):
            frames.extend(frame_refs(row, Path(path), shared))
    for f in frames:
        shared.share_normal(f)
    ordered, spatial = sort_frames(frames)
    return ImageStack(series=series, frames=ordered, spatially_sorted=spatial)


class FrameGeometry(TypedDict, total=False):
    """What :func:`frame_geometry` found of a frame's geometry: the names of :class:`FrameRef`'s fields."""

    position: np.ndarray
    orientation: np.ndarray
    pixel_spacing: tuple[float, float]
    slice_thickness: float


def frame_geometry(ds: Dataset, frame: int) -> FrameGeometry:
    """Geometry of one frame of a multi-frame header (per-frame, then shared functional groups).

    Returns
    -------
    FrameGeometry
        Any of ``position``, ``orientation``, ``pixel_spacing``, ``slice_thickness`` found.
    """
    out: FrameGeometry = {}
    groups: list[Dataset] = []
    per_frame = ds.get("PerFrameFunctionalGroupsSequence")
    if per_frame is not None and frame < len(per_frame):
        groups.append(per_frame[frame])
    shared = ds.get("SharedFunctionalGroupsSequence")
    if shared:
        groups.append(shared[0])
    groups.append(ds)  # classic multi-frame objects keep the attributes at the top level
    for g in groups:
        if "position" not in out:
            pos = _first_item(g, "PlanePositionSequence")
            value = (pos or g).get("ImagePositionPatient")
            if value is not None and len(value) == 3:
                out["position"] = np.array([float(v) for v in value])
        if "orientation" not in out:
            ori = _first_item(g, "PlaneOrientationSequence")
            value = (ori or g).get("ImageOrientationPatient")
            if value is not None and len(value) == 6:
                out["orientation"] = np.array([float(v) for v in value])
        measures = _first_item(g, "PixelMeasuresSequence") or g
        if "pixel_spacing" not in out and measures.get("PixelSpacing") is not None and len(measures.PixelSpacing) == 2:
            out["pixel_spacing"] = (float(measures.PixelSpacing[0]), float(measures.PixelSpacing[1]))
        if "slice_thickness" not in out and measures.get("SliceThickness") not in (None, ""):
            out["slice_thickness"] = float(measures.SliceThickness)
    return out


def _first_item(ds: Dataset, keyword: str) -> Dataset | None:
    seq = ds.get(keyword)
    return seq[0] if seq else None


def add_frame_geometry(frames: list[FrameRef], ds: Dataset) -> None:
    """Fill the geometry of a multi-frame instance's frames from its header ``ds``."""
    for f in frames:
        try:
            geometry = frame_geometry(ds, f.frame)
        except (AttributeError, TypeError, ValueError, KeyError):
            continue  # a malformed functional group leaves the frame without geometry
        for name, value in geometry.items():
            setattr(f, name, value)


def _paths(cache: StudyCache, rows: list[InstanceRow]) -> list[Path]:
    """The files of ``rows``, resolving (and checking) each folder once rather than each file.

    A series' files share one folder; a file name with no separator in it cannot
    leave the folder the cache already checked, so one ``realpath`` per folder suffices.
    """
    folders: dict[str, Path] = {}
    out: list[Path] = []
    for row in rows:
        folder, _, name = row.file_path.replace("\\", "/").rpartition("/")
        if not name or name in (".", "..") or folder not in folders:
            path = cache.path_of(row)
            if name and name not in (".", "..") and path.name == name:
                folders[folder] = path.parent
            out.append(path)
        else:
            out.append(folders[folder] / name)
    return out


def load_stack(cache: StudyCache, series: SeriesRow, hidden: frozenset[str] | set[str] = frozenset()) -> ImageStack:
    """The stack of a cached series (reads the headers of multi-frame instances only).

    Parameters
    ----------
    cache : workstation.store.cache.StudyCache
        Where the series is indexed.
    series : SeriesRow
        The series to stack.
    hidden : set of str, optional
        SOP Instance UIDs left out (instances rejected by IOCM rejection notes).
    """
    from pydicom import dcmread

    rows = [
        r for r in cache.instances(series.series_uid)
        if is_image_instance(r) and r.sop_instance_uid not in hidden
    ]
    frames: list[FrameRef] = []
    shared = _SharedValues()
    for row, path in zip(rows, _paths(cache, rows), strict=True):
        refs = frame_refs(row, path, shared)
        if len(refs) > 1:
            try:
                ds = dcmread(path, stop_before_pixels=True)
            except Exception:  # an unreadable header: the frames stay in stored order
                ds = None
            if ds is not None:
                add_frame_geometry(refs, ds)
        frames.extend(refs)
    for f in frames:
        shared.share_normal(f)
    ordered, spatial = sort_frames(frames)
    return ImageStack(series=series, frames=ordered, spatially_sorted=spatial)
