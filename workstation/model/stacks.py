"""Splitting a series' planes into stacks and laying each stack on a regular grid.

A series may hold more than one volume: localizers, stacks in other
orientations or matrix sizes, several temporal positions of the same stack
(4D), or one stack cut by a large gap.  :func:`split_stacks` groups the planes,
sorts each stack by position along the slice normal (never by Instance
Number), finds duplicate positions, missing slices and gantry tilt or shear,
and says so in words a reader understands.  No pixel is read here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from workstation.model.slices import SliceRef

#: Cosines closer than this belong to the same orientation.
ORIENTATION_TOLERANCE = 1e-3
#: Planes closer than this along the normal share a position (mm).
POSITION_TOLERANCE = 0.01
#: A step this many times the usual spacing means slices are missing.
GAP_FACTOR = 1.5
#: Gaps are filled with empty planes while they add at most this share of planes; larger ones split the stack.
MAX_FILL_SHARE = 0.5
#: In-plane drift across the stack above this many pixels means gantry tilt or shear: resample.
SHEAR_PIXELS = 0.5


@dataclass(frozen=True)
class Gap:
    """Slices missing between two positions along the normal (mm)."""

    after: float
    before: float
    missing: int

    def message(self) -> str:
        s = "slice" if self.missing == 1 else "slices"
        return f"{self.missing} {s} missing between z = {self.after:.2f} and z = {self.before:.2f} mm"


@dataclass(frozen=True)
class Duplicate:
    """Several planes at one position; ``kept`` is the one the volume shows."""

    position: float
    kept: str
    dropped: tuple[str, ...]

    def message(self) -> str:
        return f"{len(self.dropped) + 1} images at z = {self.position:.2f} mm: kept {self.kept}"


@dataclass
class Stack:
    """Planes that make one volume (or one volume per temporal position).

    Attributes
    ----------
    planes : list of list of (SliceRef or None)
        ``planes[phase][k]``: the plane at grid position ``k`` of temporal
        position ``phase``; None where a slice is missing (filled when read).
    origin : numpy.ndarray
        Patient position of voxel (0, 0, 0), mm.
    spacing : numpy.ndarray
        (column spacing, row spacing, slice spacing), mm: voxel steps along x, y, z.
    direction : numpy.ndarray
        3x3; columns are the row direction, the column direction and the slice normal.
    shear : numpy.ndarray
        In-plane offset of each plane relative to the one before (mm, patient
        coordinates); zero unless the stack was acquired with gantry tilt or sheared.
    """

    planes: list[list[SliceRef | None]]
    origin: np.ndarray
    spacing: np.ndarray
    direction: np.ndarray
    shear: np.ndarray = field(default_factory=lambda: np.zeros(3))
    gaps: list[Gap] = field(default_factory=list)
    duplicates: list[Duplicate] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    localizer: bool = False

    @property
    def phases(self) -> int:
        """Number of temporal positions (1 for a plain 3D stack)."""
        return len(self.planes)

    @property
    def shape(self) -> tuple[int, int, int]:
        """(planes, rows, columns) of one temporal position."""
        first = self.first
        return (len(self.planes[0]), first.rows, first.columns)

    @property
    def first(self) -> SliceRef:
        return next(p for p in self.planes[0] if p is not None)

    @property
    def sheared(self) -> bool:
        return bool(np.linalg.norm(self.shear) > 0)

    @property
    def tilt_degrees(self) -> float:
        """Angle between the slice normal and the line through the slice positions."""
        return float(np.degrees(np.arctan2(np.linalg.norm(self.shear), self.spacing[2])))

    @property
    def orientation_name(self) -> str:
        return plane_name(self.direction[:, 2])

    def messages(self) -> list[str]:
        """Everything the reader should know about this stack, one sentence each."""
        out = [g.message() for g in self.gaps] + [d.message() for d in self.duplicates] + list(self.notes)
        return out


def plane_name(normal: np.ndarray) -> str:
    """axial, coronal, sagittal or oblique, from a slice normal (LPS)."""
    n = np.abs(np.asarray(normal, float))
    axis = int(np.argmax(n))
    if n[axis] < 0.9:
        return "oblique"
    return ("sagittal", "coronal", "axial")[axis]


@dataclass
class StackSplit:
    """The stacks of a series (largest first) and the planes no stack could use."""

    stacks: list[Stack]
    skipped: list[str] = field(default_factory=list)

    @property
    def primary(self) -> Stack | None:
        """The stack a reader most likely wants: the largest that is not a localizer."""
        volumes = ([s for s in self.stacks if not s.localizer and s.shape[0] > 1]
                   or [s for s in self.stacks if s.shape[0] > 1])
        return volumes[0] if volumes else None


def _same_orientation(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return bool(np.max(np.abs(np.subtract(a, b))) <= ORIENTATION_TOLERANCE)


# Planes of one stack share these: stack ID, rows, columns, rounded pixel spacing, signedness, bits, localizer.
_GroupKey = tuple[str, int, int, tuple[float, ...] | None, bool, int, bool]


def _group_key(s: SliceRef) -> _GroupKey:
    spacing = tuple(round(v, 4) for v in s.pixel_spacing) if s.pixel_spacing else None
    return (s.stack_id, s.rows, s.columns, spacing, s.signed, s.bits_allocated, s.localizer)


def split_stacks(slices: list[SliceRef]) -> StackSplit:
    """Group planes into stacks and lay each on a regular grid (see the module notes)."""
    skipped: list[str] = []
    groups: list[tuple[_GroupKey, tuple[float, ...], list[SliceRef]]] = []
    for s in slices:
        if s.position is None or s.orientation is None:
            skipped.append(f"{s.label}: no Image Position/Orientation (Patient)")
            continue
        key = _group_key(s)
        for gkey, gori, members in groups:
            if gkey == key and _same_orientation(gori, s.orientation):
                members.append(s)
                break
        else:
            groups.append((key, s.orientation, [s]))
    stacks: list[Stack] = []
    for _, _, members in groups:
        stacks.extend(_layout(members))
    stacks.sort(key=lambda st: (st.localizer, -st.shape[0] * st.phases))
    return StackSplit(stacks, skipped)


def _direction(orientation: tuple[float, ...]) -> np.ndarray:
    row = np.array(orientation[:3], float)
    col = np.array(orientation[3:], float)
    row /= np.linalg.norm(row) or 1.0
    col /= np.linalg.norm(col) or 1.0
    normal = np.cross(row, col)
    normal /= np.linalg.norm(normal) or 1.0
    return np.column_stack([row, col, normal])


def _temporal_sort_key(s: SliceRef) -> tuple[tuple[int | str, ...], str, int, str, int]:
    return (s.temporal_key, s.acquisition_time, s.instance_number or 0, s.sop_instance_uid, s.frame)


def _placed(s: SliceRef) -> tuple[tuple[float, float, float], tuple[float, ...]]:
    """The plane's position and orientation (split_stacks lays out only planes that have both)."""
    if s.position is None or s.orientation is None:
        raise ValueError(f"{s.label}: no Image Position/Orientation (Patient)")
    return s.position, s.orientation


def _layout(members: list[SliceRef]) -> list[Stack]:
    """Sort one group along its normal; split at large gaps; find duplicates, 4D and shear."""
    direction = _direction(_placed(members[0])[1])
    normal = direction[:, 2]
    keyed = sorted(
        ((float(np.dot(_placed(s)[0], normal)), s) for s in members), key=lambda t: (t[0], _temporal_sort_key(t[1]))
    )
    # Planes at one position (within tolerance) form one cluster.
    clusters: list[tuple[float, list[SliceRef]]] = []
    for d, s in keyed:
        if clusters and d - clusters[-1][0] <= POSITION_TOLERANCE:
            clusters[-1][1].append(s)
        else:
            clusters.append((d, [s]))
    counts = {len(c) for _, c in clusters}
    phases = counts.pop() if len(counts) == 1 else 1
    if phases > 1 and len(clusters) == 1:
        phases = 1  # one position many times: duplicates (or a time series of one plane), not a volume
    duplicates: list[Duplicate] = []
    if phases == 1:
        for d, c in clusters:
            if len(c) > 1:
                duplicates.append(Duplicate(d, c[0].label, tuple(x.label for x in c[1:])))
    else:
        for _, c in clusters:
            c.sort(key=_temporal_sort_key)
    runs = _split_at_large_gaps(clusters)
    out = []
    for run in runs:
        stack = _grid(run, direction, phases)
        stack.duplicates = [dup for dup in duplicates
                            if run[0][0] - POSITION_TOLERANCE <= dup.position <= run[-1][0] + POSITION_TOLERANCE]
        if len(runs) > 1:
            stack.notes.append(f"part {runs.index(run) + 1} of {len(runs)} of a stack cut by a large gap")
        if phases > 1:
            stack.notes.append(f"{phases} temporal positions (4D)")
        out.append(stack)
    return out


def _nominal_step(positions: list[float]) -> float:
    steps = np.diff(positions)
    return float(np.median(steps)) if len(steps) else 0.0


def _split_at_large_gaps(clusters: list[tuple[float, list[SliceRef]]]) -> list[list[tuple[float, list[SliceRef]]]]:
    """Cut where filling a gap would add more empty planes than :data:`MAX_FILL_SHARE` allows."""
    positions = [d for d, _ in clusters]
    nominal = _nominal_step(positions)
    if nominal <= 0:
        return [clusters]
    runs = [[clusters[0]]]
    budget = MAX_FILL_SHARE * len(clusters)
    for prev, cur in zip(clusters, clusters[1:], strict=False):
        missing = int(round((cur[0] - prev[0]) / nominal)) - 1
        if missing > 0 and (missing > budget or (cur[0] - prev[0]) > 20 * nominal):
            runs.append([cur])
        else:
            if missing > 0:
                budget -= missing
            runs[-1].append(cur)
    return runs


def _grid(run: list[tuple[float, list[SliceRef]]], direction: np.ndarray, phases: int) -> Stack:
    """Regular grid of one run of positions, with gaps filled by None."""
    first = run[0][1][0]
    positions = [d for d, _ in run]
    nominal = _nominal_step(positions)
    gaps: list[Gap] = []
    slots: list[list[SliceRef] | None] = [run[0][1]]
    for (d0, _), (d1, c1) in zip(run, run[1:], strict=False):
        missing = int(round((d1 - d0) / nominal)) - 1 if nominal > 0 else 0
        if missing > 0 and (d1 - d0) > GAP_FACTOR * nominal:
            gaps.append(Gap(d0, d1, missing))
            slots.extend([None] * missing)
        slots.append(c1)
    n = len(slots)
    p_first = np.array(run[0][1][0].position)
    p_last = np.array(run[-1][1][0].position)
    z_spacing = (positions[-1] - positions[0]) / (n - 1) if n > 1 else 0.0
    if z_spacing <= 0:
        z_spacing = 1.0
    # Drift of the positions within the plane: gantry tilt or a sheared stack.
    along = p_last - p_first
    in_plane = along - np.dot(along, direction[:, 2]) * direction[:, 2]
    col_spacing, row_spacing = _in_plane_spacing(first)
    shear = np.zeros(3)
    if n > 1:
        drift_pixels = max(abs(np.dot(in_plane, direction[:, 0])) / col_spacing,
                           abs(np.dot(in_plane, direction[:, 1])) / row_spacing)
        if drift_pixels > SHEAR_PIXELS:
            shear = in_plane / (n - 1)
    planes = [[(c[t] if c is not None else None) for c in slots] for t in range(phases)]
    notes = []
    if first.pixel_spacing is None:
        notes.append("no Pixel Spacing: 1 mm assumed in the image plane")
    steps = np.diff(positions)
    if len(steps) > 1 and not gaps and (steps.max() - steps.min()) > max(0.01, 0.1 * nominal):
        notes.append(f"slice spacing varies from {steps.min():.3f} to {steps.max():.3f} mm: "
                     f"the volume assumes {z_spacing:.3f} mm")
    stack = Stack(
        planes=planes, origin=p_first, spacing=np.array([col_spacing, row_spacing, z_spacing]),
        direction=direction, shear=shear, gaps=gaps, notes=notes, localizer=first.localizer,
    )
    if stack.sheared:
        stack.notes.append(f"gantry tilt or shear of {stack.tilt_degrees:.1f}°: resampled onto a rectilinear grid")
    return stack


def _in_plane_spacing(s: SliceRef) -> tuple[float, float]:
    """(column spacing, row spacing): Pixel Spacing lists the row spacing first."""
    if s.pixel_spacing is None or min(s.pixel_spacing) <= 0:
        return 1.0, 1.0
    row_spacing, col_spacing = s.pixel_spacing
    return col_spacing, row_spacing
