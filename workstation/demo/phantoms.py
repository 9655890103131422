"""Analytic chest phantom for the demo CT (and, projected, the demo radiographs).

Anatomy is described in *body* coordinates (mm, DICOM patient axes: x to the
patient's left, y posterior, z towards the head).  A study places the body in
its own frame of reference with a table ``shift``: patient coordinates are
body coordinates plus the shift.  Every structure is an analytic shape, so the
phantom can be sampled on any grid (512 x 512 CT slices, a coarse volume for
a radiograph) and gives the same anatomy.

The known objects (:data:`CT_SPHERES`, :data:`PRIOR_CT_SPHERES`) are uniform,
noise-free spheres so that measurements on the images can be checked exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from workstation.demo.canvas import SliceCanvas, polyline

# Where the prior CT of the same patient put the body: (x, y, z) in mm.  The
# demo's prior is positioned like the current scan, so the same table
# position shows the same anatomy (a prior comparison compares like with
# like); the mechanism stays for studies placed elsewhere.
PRIOR_CT_TABLE_SHIFT: tuple[float, float, float] = (0.0, 0.0, 0.0)
CURRENT_CT_TABLE_SHIFT: tuple[float, float, float] = (0.0, 0.0, 0.0)

AIR_HU = -1000.0
FAT_HU = -100.0
MUSCLE_HU = 45.0
LUNG_HU = -860.0
BLOOD_HU = 170.0  # contrast-enhanced, portal venous phase
AORTA_HU = 210.0
MYOCARDIUM_HU = 95.0
CORTICAL_BONE_HU = 750.0
CANCELLOUS_BONE_HU = 230.0
LIVER_HU = 105.0
SPLEEN_HU = 115.0


@dataclass(frozen=True)
class Sphere:
    """A uniform sphere of known size and value in patient coordinates.

    Attributes
    ----------
    centre_mm : tuple of float
        (x, y, z) centre in the patient coordinates of the series' frame of reference.
    diameter_mm : float
        Diameter in mm.
    hu : int
        Value in Hounsfield units (after Rescale Slope/Intercept).
    label : str
        What the sphere stands for.
    """

    centre_mm: tuple[float, float, float]
    diameter_mm: float
    hu: int
    label: str = ""

    @property
    def radius_mm(self) -> float:
        return self.diameter_mm / 2.0

    def shifted(self, shift: tuple[float, float, float], diameter_mm: float | None = None) -> Sphere:
        """The same sphere seen in a frame of reference moved by ``shift``."""
        x, y, z = (float(a + b) for a, b in zip(self.centre_mm, shift, strict=True))
        return Sphere((x, y, z), self.diameter_mm if diameter_mm is None else diameter_mm, self.hu, self.label)


# Centres lie on the pixel and slice grid of both demo sizes (multiples of
# 6.25 mm in x and y, of 10 mm from the first slice in z) so the centre voxel
# is exactly the sphere's centre.
CT_SPHERES: list[Sphere] = [
    Sphere((-75.0, 25.0, -200.0), 12.0, 30, "solid nodule, right lower lobe"),
    Sphere((81.25, -12.5, -110.0), 10.0, -10, "solid nodule, left upper lobe"),
    Sphere((-62.5, -25.0, -240.0), 20.0, 5, "cyst, liver segment 8"),
    Sphere((-12.5, 50.0, -150.0), 8.0, 400, "calcified lymph node, subcarinal"),
]
"""Known spheres of the current demo CT chest (patient coordinates of its frame of reference)."""

# A year earlier the right lower lobe nodule was 2 mm smaller; nothing else changed.
_PRIOR_DIAMETERS = {0: 10.0, 1: 10.0, 2: 20.0, 3: 8.0}
#: The one change between the prior and the current CT: (index in CT_SPHERES, growth in mm).
CT_NODULE_GROWTH: tuple[int, float] = (0, 2.0)
PRIOR_CT_SPHERES: list[Sphere] = [
    s.shifted(PRIOR_CT_TABLE_SHIFT, _PRIOR_DIAMETERS[i]) for i, s in enumerate(CT_SPHERES)
]
"""Known spheres of the prior demo CT chest (patient coordinates of the prior's frame of reference)."""


# ---------------------------------------------------------------------------
# Shape of the body along z
# ---------------------------------------------------------------------------

LUNG_APEX_Z = -25.0
LUNG_CX, LUNG_AX, LUNG_BY = 80.0, 60.0, 92.0
CARINA_Z = -100.0


def _body_axes(z: float) -> tuple[float, float, float]:
    """Semi-axes (lateral, anterior, posterior) of the body outline at ``z``."""
    # From a neck (z > 20) widening into the chest over the shoulders.
    t = float(np.clip((20.0 - z) / 60.0, 0.0, 1.0))
    t = t * t * (3 - 2 * t)
    ax = 65.0 + t * (168.0 - 65.0) - 6.0 * np.clip((-200.0 - z) / 100.0, 0, 1)
    ant = 60.0 + t * (108.0 - 60.0) + 6.0 * np.clip((-150.0 - z) / 100.0, 0, 1)
    post = 60.0 + t * (112.0 - 60.0)
    return float(ax), float(ant), float(post)


def _lung_scale(z: float) -> float:
    """Relative size of the lungs' cross-section at ``z`` (0 above the apex)."""
    if z >= LUNG_APEX_Z:
        return 0.0
    return float(np.clip(np.sqrt((LUNG_APEX_Z - z) / 75.0), 0.0, 1.0))


_DOME_TOP_Z = -208.0


def _diaphragm(X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """Height of the diaphragm under each pixel: two domes, the right one higher."""
    right = _DOME_TOP_Z - 0.0095 * ((X + 65.0) ** 2 + 0.7 * (Y + 5.0) ** 2)
    left = -222.0 - 0.0095 * ((X - 70.0) ** 2 + 0.7 * (Y + 5.0) ** 2)
    return np.maximum(right, left)


# ---------------------------------------------------------------------------
# Tubular structures: great vessels, airways, pulmonary vessel trees
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Tubes:
    starts: np.ndarray
    ends: np.ndarray
    radii: np.ndarray
    values: np.ndarray


def _tubes(parts: list[tuple[list[tuple[float, float, float]], float, float]]) -> _Tubes:
    starts, ends, radii, values = [], [], [], []
    for points, radius, value in parts:
        s, e = polyline(points)
        starts.append(s)
        ends.append(e)
        radii.append(np.full(len(s), radius))
        values.append(np.full(len(s), value))
    return _Tubes(np.concatenate(starts), np.concatenate(ends), np.concatenate(radii), np.concatenate(values))


def _arch_points() -> list[tuple[float, float, float]]:
    t = np.linspace(0.0, np.pi, 12)
    return [(14.0 + 12.0 * a / np.pi, -25.0 * np.cos(a), -88.0 + 14.0 * np.sin(a)) for a in t]


@lru_cache(maxsize=1)
def _great_vessels() -> _Tubes:
    aorta = [(12.0, -30.0, -150.0), (14.0, -25.0, -88.0)] + _arch_points()[1:]
    aorta += [(24.0, 28.0, -100.0), (20.0, 28.0, -200.0), (12.0, 30.0, -320.0)]
    return _tubes(
        [
            (aorta, 13.0, AORTA_HU),
            # Supra-aortic branches.
            ([(2.0, -18.0, -76.0), (-18.0, -20.0, -20.0), (-30.0, -25.0, 60.0)], 6.0, AORTA_HU),
            ([(16.0, 0.0, -75.0), (28.0, -8.0, -20.0), (30.0, -15.0, 60.0)], 5.0, AORTA_HU),
            ([(22.0, 15.0, -78.0), (50.0, 15.0, -35.0), (120.0, 10.0, -30.0)], 5.0, AORTA_HU),
            # Superior vena cava and brachiocephalic veins.
            ([(-18.0, -22.0, -150.0), (-20.0, -24.0, -60.0)], 10.0, BLOOD_HU),
            ([(-20.0, -24.0, -60.0), (-40.0, -35.0, -30.0), (-120.0, -25.0, -25.0)], 7.0, BLOOD_HU),
            ([(-20.0, -24.0, -60.0), (20.0, -40.0, -45.0), (120.0, -25.0, -25.0)], 7.0, BLOOD_HU),
            # Pulmonary trunk and arteries.
            ([(38.0, -45.0, -150.0), (40.0, -35.0, -112.0)], 14.0, BLOOD_HU),
            ([(40.0, -35.0, -112.0), (55.0, -5.0, -108.0)], 11.0, BLOOD_HU),
            ([(40.0, -35.0, -112.0), (5.0, -6.0, -118.0), (-50.0, -4.0, -118.0)], 10.0, BLOOD_HU),
            # Inferior vena cava.
            ([(-20.0, 5.0, -200.0), (-22.0, 20.0, -330.0)], 12.0, BLOOD_HU),
        ]
    )


def _airways_trunk() -> list[tuple[list[tuple[float, float, float]], float]]:
    trachea = [(0.0, 8.0, 90.0), (0.0, 8.0, -20.0), (2.0, 12.0, CARINA_Z)]
    right = [(2.0, 12.0, CARINA_Z), (-40.0, 10.0, -118.0)]
    left = [(2.0, 12.0, CARINA_Z), (20.0, 14.0, -112.0), (45.0, 12.0, -124.0)]
    return [(trachea, 9.0), (right, 7.0), (left, 6.5)]


def _branching_tree(
    rng: np.random.Generator,
    roots: list[tuple[tuple[float, float, float], tuple[float, float, float]]],
    length: float,
    radius: float,
    depth: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A binary tree of segments grown from ``roots`` (point, direction) pairs."""
    starts, ends, radii = [], [], []
    stack = [(np.array(p, float), np.array(d, float) / np.linalg.norm(d), length, radius, depth) for p, d in roots]
    while stack:
        p, d, ln, r, level = stack.pop()
        q = p + d * ln
        if not _inside_lung_envelope(q):
            q = p + d * ln * 0.5
            if not _inside_lung_envelope(q):
                continue
            level = 0
        starts.append(p)
        ends.append(q)
        radii.append(r)
        if level == 0:
            continue
        for sign in (-1.0, 1.0):
            # Rotate the direction about a random axis perpendicular to it.
            axis = np.cross(d, rng.standard_normal(3))
            axis /= np.linalg.norm(axis) or 1.0
            angle = sign * rng.uniform(0.35, 0.6)
            nd = d * np.cos(angle) + np.cross(axis, d) * np.sin(angle)
            stack.append((q, nd / np.linalg.norm(nd), ln * rng.uniform(0.7, 0.85), r * 0.72, level - 1))
    return np.array(starts), np.array(ends), np.array(radii)


def _inside_lung_envelope(p: np.ndarray) -> np.ndarray:
    """Whether points (..., 3) lie inside the lungs' outer envelope."""
    p = np.asarray(p, dtype=np.float64)
    x, y, z = p[..., 0], p[..., 1], p[..., 2]
    s = np.sqrt(np.clip((LUNG_APEX_Z - z) / 75.0, 0.0, 1.0))
    cx = np.where(x > 0, LUNG_CX, -LUNG_CX)
    with np.errstate(divide="ignore", invalid="ignore"):
        inside = ((x - cx) / (LUNG_AX * s)) ** 2 + ((y - 8.0) / (LUNG_BY * s)) ** 2 <= 1.0
    return inside & (s > 0) & (z >= _diaphragm(x, y))


@lru_cache(maxsize=1)
def _lung_vessels() -> _Tubes:
    rng = np.random.default_rng(20240312)
    roots = []
    for side in (-1.0, 1.0):
        hilum = (side * 50.0, 0.0, -112.0)
        for d in [
            (0.2, -0.1, 1.0),
            (0.3, 0.5, 0.9),
            (0.5, -0.6, 0.3),
            (0.6, 0.5, 0.2),
            (0.4, -0.4, -0.8),
            (0.3, 0.6, -0.7),
            (0.8, 0.0, -0.5),
        ]:
            roots.append((hilum, (side * d[0], d[1], d[2])))
    s, e, r = _branching_tree(rng, roots, 30.0, 5.0, 5)
    ps, pe, pr = _peripheral_vessels(rng, 2600)
    s, e, r = np.concatenate([s, ps]), np.concatenate([e, pe]), np.concatenate([r, pr])
    # Small vessels are thinner than a voxel and show partial-volume values.
    values = LUNG_HU + (80.0 - LUNG_HU) * np.clip(r / 1.6, 0.25, 1.0)
    return _Tubes(s, e, r, values)


def _peripheral_vessels(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Short vessel segments filling the lungs, pointing away from the hila."""
    pts = np.column_stack(
        [rng.uniform(-145, 145, 4 * n), rng.uniform(-90, 105, 4 * n), rng.uniform(-265, -30, 4 * n)]
    )
    keep = _inside_lung_envelope(pts)
    pts = pts[keep][:n]
    hila = np.where(pts[:, :1] > 0, [[50.0, 0.0, -112.0]], [[-50.0, 0.0, -112.0]])
    away = pts - hila
    dist = np.linalg.norm(away, axis=1, keepdims=True)
    direction = away / np.maximum(dist, 1e-6) + rng.normal(0, 0.25, pts.shape)
    direction /= np.linalg.norm(direction, axis=1, keepdims=True)
    # Thinner further from the hilum.
    radius = np.clip(2.6 - dist[:, 0] / 70.0, 0.6, 2.2) * rng.uniform(0.7, 1.1, len(pts))
    length = rng.uniform(10.0, 22.0, len(pts))
    return pts, pts + direction * length[:, None], radius


@lru_cache(maxsize=1)
def _bronchi() -> tuple[_Tubes, _Tubes]:
    """(walls, lumens) of the central airways and the lobar/segmental bronchi."""
    rng = np.random.default_rng(19580314)
    roots = []
    for side in (-1.0, 1.0):
        hilum = (side * 45.0, 10.0, -122.0)
        for d in [(0.2, -0.2, 1.0), (0.6, -0.4, 0.2), (0.5, 0.4, -0.8)]:
            roots.append((hilum, (side * d[0], d[1], d[2])))
    s, e, r = _branching_tree(rng, roots, 28.0, 4.5, 2)
    trunk = _tubes([(pts, rad, 0.0) for pts, rad in _airways_trunk()])
    starts = np.concatenate([trunk.starts, s])
    ends = np.concatenate([trunk.ends, e])
    radii = np.concatenate([trunk.radii, r])
    walls = _Tubes(starts, ends, radii + 1.5, np.full(len(radii), 60.0))
    lumens = _Tubes(starts, ends, radii, np.full(len(radii), AIR_HU))
    return walls, lumens


# ---------------------------------------------------------------------------
# The slice
# ---------------------------------------------------------------------------


def chest_slice(
    xs: np.ndarray,
    ys: np.ndarray,
    z: float,
    *,
    shift: tuple[float, float, float] = CURRENT_CT_TABLE_SHIFT,
    spheres: list[Sphere] | None = None,
    table: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Noise-free Hounsfield units of the chest phantom on one axial plane.

    Parameters
    ----------
    xs, ys : numpy.ndarray
        Patient x of each column and patient y of each row, in mm (evenly spaced).
    z : float
        Patient z of the plane, in mm.
    shift : tuple of float
        Table shift of the series' frame of reference (patient = body + shift).
    spheres : list of Sphere, optional
        Known spheres in the same patient coordinates; default none.
    table : bool
        Draw the CT table under the patient.

    Returns
    -------
    hu : numpy.ndarray
        float32 (len(ys), len(xs)) values in HU.
    exact : numpy.ndarray
        Boolean mask of the pixels that belong to a known sphere and must not
        be altered by noise or reconstruction filters.
    """
    bx = np.asarray(xs, np.float32) - shift[0]
    by = np.asarray(ys, np.float32) - shift[1]
    bz = float(z) - shift[2]
    canvas = SliceCanvas(bx, by, bz, AIR_HU)
    X, Y = bx[None, :], by[:, None]

    ax, ant, post = _body_axes(bz)
    body_r = (X / ax) ** 2 + np.where(Y < 0, Y / ant, Y / post) ** 2
    body = body_r <= 1.0
    canvas.values[body] = FAT_HU
    wall = 16.0  # subcutaneous fat + skin
    muscle_r = (X / (ax - wall)) ** 2 + np.where(Y < 0, Y / (ant - wall), Y / (post - wall)) ** 2
    canvas.values[muscle_r <= 1.0] = MUSCLE_HU
    cav = 18.0 if bz < LUNG_APEX_Z + 30 else 12.0
    cavity = (X / (ax - wall - cav)) ** 2 + np.where(Y < 0, Y / (ant - wall - cav), Y / (post - wall - cav)) ** 2 <= 1.0
    canvas.values[cavity] = -80.0  # mediastinal / visceral fat

    # Above the top of the right dome nothing lies below the diaphragm.
    diaphragm = _diaphragm(X, Y) if bz < _DOME_TOP_Z else None
    if diaphragm is not None:
        _paint_abdomen(canvas, cavity & (bz < diaphragm), X, Y)

    lungs = _paint_lungs(canvas, X, Y, bz, diaphragm, cavity)
    _paint_heart(canvas, bz)
    gv = _great_vessels()
    canvas.tubes(gv.starts, gv.ends, gv.radii, gv.values)
    canvas.ellipse(2.0, 32.0, 7.0, 6.0, 35.0)  # oesophagus
    walls, lumens = _bronchi()
    canvas.tubes(walls.starts, walls.ends, walls.radii, walls.values, inside=lungs | cavity)
    canvas.tubes(lumens.starts, lumens.ends, lumens.radii, lumens.values, inside=lungs | cavity)
    _paint_spine(canvas, bz, post)
    _paint_ribs(canvas, X, Y, bz, ax, ant, post, wall)
    _paint_shoulder_girdle(canvas, bz)
    _paint_sternum(canvas, bz, ant)
    if table:
        _paint_table(canvas, post)

    exact = np.zeros(canvas.values.shape, dtype=bool)
    for s in spheres or []:
        c = np.asarray(s.centre_mm) - np.asarray(shift)
        dz = bz - c[2]
        r2 = s.radius_mm**2 - dz * dz
        if r2 < 0:
            continue
        inside = (X - c[0]) ** 2 + (Y - c[1]) ** 2 <= r2
        canvas.values[inside] = s.hu
        exact |= inside
    return canvas.values, exact


def _paint_lungs(canvas: SliceCanvas, X: np.ndarray, Y: np.ndarray, z: float, diaphragm: np.ndarray | None,
                 cavity: np.ndarray) -> np.ndarray:
    s = _lung_scale(z)
    lungs = np.zeros(canvas.values.shape, dtype=bool)
    if s == 0.0:
        return lungs
    for side in (-1.0, 1.0):
        cx = side * LUNG_CX
        hit = canvas.box(cx - LUNG_AX * s, cx + LUNG_AX * s, 8 - LUNG_BY * s, 8 + LUNG_BY * s)
        if hit is None:
            continue
        rows, cols, Xs, Ys = hit
        # Medial border flattened by the mediastinum: a superellipse.
        u = np.abs((Xs - cx) / (LUNG_AX * s))
        v = np.abs((Ys - 8.0) / (LUNG_BY * s))
        medial = (Xs - cx) * side < 0
        shape = np.where(medial, u**2.6, u**2) + v**2.2 <= 1.0
        if diaphragm is not None:
            shape &= z > diaphragm[rows, cols]
        shape &= cavity[rows, cols]
        lungs[rows, cols] |= shape
    # Dependent (posterior) lung is slightly denser.
    canvas.values[lungs] = np.broadcast_to(LUNG_HU + 0.3 * (Y + 90.0), lungs.shape)[lungs]
    vessels = _lung_vessels()
    canvas.tubes(vessels.starts, vessels.ends, vessels.radii, vessels.values, inside=lungs)
    return lungs


def _paint_heart(canvas: SliceCanvas, z: float) -> None:
    cz, hz = -180.0, 48.0
    if abs(z - cz) >= hz:
        return
    f = np.sqrt(1.0 - ((z - cz) / hz) ** 2)
    cx, cy, ax, by, tilt = 22.0, -32.0, 68.0 * f, 50.0 * f, 0.55
    c, sn = np.cos(tilt), np.sin(tilt)

    def at(u: float, v: float) -> tuple[float, float]:
        # (u, v) along the heart's own long and short axes.
        return cx + c * u - sn * v, cy + sn * u + c * v

    canvas.ellipse(cx, cy, ax + 5, by + 5, -70.0, angle=tilt)  # epicardial fat
    canvas.ellipse(cx, cy, ax, by, MYOCARDIUM_HU, angle=tilt)
    lv = at(0.22 * ax, 0.18 * by)
    rv = at(-0.1 * ax, -0.45 * by)
    canvas.ellipse(*rv, 0.62 * ax, 0.34 * by, BLOOD_HU, angle=tilt)
    canvas.ellipse(*lv, 0.42 * ax, 0.42 * by, BLOOD_HU + 30.0, angle=tilt)


def _paint_abdomen(canvas: SliceCanvas, below: np.ndarray, X: np.ndarray, Y: np.ndarray) -> None:
    """Liver, stomach and spleen under the diaphragm, bowel fat between them."""
    if not below.any():
        return
    liver = below & (X < 28.0 - 0.004 * (Y + 20.0) ** 2)
    stomach = below & ~liver & (((X - 55.0) / 48.0) ** 2 + ((Y + 25.0) / 42.0) ** 2 <= 1.0)
    u, v = X - 92.0, Y - 42.0
    spleen = below & ~liver & (((0.8 * u + 0.6 * v) / 22.0) ** 2 + ((-0.6 * u + 0.8 * v) / 48.0) ** 2 <= 1.0)
    canvas.values[liver] = LIVER_HU
    canvas.values[stomach] = 15.0
    canvas.values[stomach & (Y < -45.0)] = AIR_HU  # gas bubble under the left dome
    canvas.values[spleen] = SPLEEN_HU


def _paint_spine(canvas: SliceCanvas, z: float, post: float) -> None:
    # The spine keeps its distance to the back: the neck is shallower than the chest.
    depth = post - 112.0
    y0 = 58.0 + depth * 0.55
    small = 0.75 if z > 0.0 else 1.0  # cervical vertebrae are smaller
    # Vertebrae 24 mm high with 5 mm discs, levels aligned with the ribs.
    disc = ((z + 10.0) % 29.0) < 5.0
    body_value = 90.0 if disc else CANCELLOUS_BONE_HU
    if not disc:
        canvas.ellipse(0.0, y0, 21.0 * small, 18.0 * small, CORTICAL_BONE_HU)
    canvas.ellipse(0.0, y0, 18.5 * small, 15.5 * small, body_value)
    # Neural arch: pedicles, laminae, transverse and spinous processes.
    canal = y0 + 28.0 * small
    if ((z + 10.0) % 29.0) > 6.0:
        canvas.ellipse(0.0, canal + 2.0, 15.0 * small, 14.0 * small, CORTICAL_BONE_HU)
        canvas.ellipse(0.0, canal + 20.0 * small, 4.0, 14.0 * small, CORTICAL_BONE_HU)
        for side in (-1.0, 1.0):
            canvas.ellipse(side * 26.0 * small, canal + 2.0, 14.0 * small, 5.5, CORTICAL_BONE_HU, angle=side * 0.35)
    canvas.ellipse(0.0, canal, 9.0 * small, 8.0 * small, 15.0)  # spinal canal, CSF and cord
    canvas.ellipse(0.0, canal, 5.0 * small, 4.5 * small, 35.0)


def _paint_ribs(canvas: SliceCanvas, X: np.ndarray, Y: np.ndarray, z: float, ax: float, ant: float, post: float,
                wall: float) -> None:
    """Twelve pairs of ribs sloping down from the spine to the costal cartilages."""
    ra, rant, rpost = ax - wall - 6.0, ant - wall - 6.0, post - wall - 6.0
    band_hit = canvas.box(-ra - 8, ra + 8, -rant - 8, rpost + 8)
    if band_hit is None:
        return
    rows, cols, Xs, Ys = band_hit
    rb = np.where(Ys < 0, Ys / rant, Ys / rpost)
    rho = np.sqrt((Xs / ra) ** 2 + rb**2)
    tr = 4.5 / (0.5 * (ra + rpost))
    # Work on the pixels of the rib band only.
    band = np.nonzero(np.abs(rho - 1.0) < tr)
    if not len(band[0]):
        return
    radial = np.abs(rho[band] - 1.0) / tr
    theta = np.arctan2(np.abs(Xs[0, band[1]]) / ra, rb[band[0], 0])  # 0 at the spine, pi at the sternum
    region = canvas.values[rows, cols]
    values = region[band]
    for k in range(12):
        zk = -10.0 - 29.0 * k
        drop = zk - z
        if drop < -6.0:
            continue
        end = 2.55 if k < 7 else 2.55 - 0.28 * (k - 6)
        # z(theta) = zk - 85 * (theta/pi)**1.6; slope gives the in-plane extent.
        u = np.clip(max(drop, 0.0) / 85.0, 0.0, 1.5)
        th = np.pi * u ** (1 / 1.6)
        if th > np.pi - 0.12:
            continue
        slope = 85.0 * 1.6 / np.pi * max(u, 0.05) ** (0.6 / 1.6)
        half = min(4.5 / slope, 0.2) if drop >= 0 else 0.15
        th = max(th, 0.35)
        along = np.abs(theta - th) / half
        near = along < 1.0
        if not near.any():
            continue
        if th > end:
            values[near] = 120.0  # costal cartilage
            continue
        edge = np.maximum(radial[near], along[near])
        values[near] = np.where(edge > 0.55, CORTICAL_BONE_HU, CANCELLOUS_BONE_HU + 80.0)
    region[band] = values


def _paint_shoulder_girdle(canvas: SliceCanvas, z: float) -> None:
    for side in (-1.0, 1.0):
        if -150.0 < z < -15.0:
            # Scapula: a thin plate behind the ribs, narrowing to its inferior angle.
            f = np.clip((z + 150.0) / 60.0, 0.15, 1.0)
            cx = side * (100.0 - 12.0 * (1.0 - f))
            canvas.ellipse(cx, 80.0, 34.0 * f, 3.0, CORTICAL_BONE_HU, angle=side * -0.49)
    clav_s, clav_e = polyline([(-20.0, -92.0, -52.0), (-80.0, -85.0, -38.0), (-125.0, -45.0, -25.0)])
    both_s = np.concatenate([clav_s, clav_s * np.array([-1.0, 1.0, 1.0])])
    both_e = np.concatenate([clav_e, clav_e * np.array([-1.0, 1.0, 1.0])])
    canvas.tubes(both_s, both_e, np.full(len(both_s), 8.0), CORTICAL_BONE_HU - 150.0)


def _paint_sternum(canvas: SliceCanvas, z: float, ant: float) -> None:
    if -215.0 < z < -55.0:
        width = 24.0 if z > -95.0 else 14.0
        canvas.ellipse(0.0, -ant + 22.0, width, 7.0, CORTICAL_BONE_HU)
        canvas.ellipse(0.0, -ant + 22.0, width - 2.5, 4.5, CANCELLOUS_BONE_HU)


def _paint_table(canvas: SliceCanvas, post: float) -> None:
    hit = canvas.box(-190.0, 190.0, post + 2.0, post + 30.0)
    if hit is None:
        return
    rows, cols, Xs, Ys = hit
    curve = post + 4.0 - 0.0004 * Xs**2
    region = canvas.values[rows, cols]
    shell = (np.abs(Ys - curve) < 1.5) | (np.abs(Ys - curve - 14.0) < 1.5)
    core = (Ys > curve) & (Ys < curve + 14.0)
    region[core & (np.abs(Xs) < 185)] = -900.0
    region[shell & (np.abs(Xs) < 185)] = 250.0
