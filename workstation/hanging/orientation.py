"""Rotation and flip that bring a projection image to the orientation a protocol asks for.

Patient Orientation (0020,0020) names the patient direction of the image's
rows (towards increasing column, i.e. to the right) and of its columns
(downwards), e.g. ``P\\L`` for a right cranio-caudal mammogram whose chest
wall is on the right.  A viewport can ask for a display orientation (the
Hanging Protocol IOD's Display Set Patient Orientation): the right CC
mammogram with ``["P", "L"]`` and the left one with ``["A", "R"]`` meet back
to back, chest wall to chest wall, whatever way the modality stored them.

The viewer applies a clockwise rotation by quarter turns and then a
left-right mirror (:class:`workstation.imaging.viewstate.ViewState`); this
module finds the pair that shows the asked-for directions.
"""

from __future__ import annotations

from collections.abc import Sequence

_OPPOSITE = str.maketrans("APLRHF", "PARLFH")


def opposite(direction: str) -> str:
    """The opposite patient direction (``"PL"`` -> ``"AR"``)."""
    return direction.upper().translate(_OPPOSITE)


def transformed(row: str, column: str, rotation: int, flip_horizontal: bool) -> tuple[str, str]:
    """The directions shown to the right and downwards after rotating clockwise, then mirroring."""
    right, down = row, column
    for _ in range((rotation // 90) % 4):
        # A clockwise quarter turn brings what was up to the right, and what was right downwards.
        right, down = opposite(down), right
    if flip_horizontal:
        right = opposite(right)
    return right, down


def _agreement(shown: str, wanted: str) -> int:
    """How well a shown direction satisfies a wanted one: 2 main letter agrees, 1 some letter, -2 opposed."""
    if not wanted:
        return 0
    if not shown:
        return -1
    if shown[0] == wanted[0]:
        return 2 + sum(c in shown for c in wanted[1:])
    if opposite(wanted[0]) in shown[:1]:
        return -2
    return 1 if any(c in shown for c in wanted) else -1


def display_transform(patient_orientation: Sequence[str] | None,
                      wanted: Sequence[str]) -> tuple[int, bool] | None:
    """The clockwise rotation (degrees) and left-right flip that show ``wanted``.

    Parameters
    ----------
    patient_orientation : pair of str or None
        The image's Patient Orientation (row direction, column direction).
    wanted : pair of str
        The directions wanted to the right and downwards; "" for either
        means "any".

    Returns
    -------
    (int, bool) or None
        None when the image has no usable Patient Orientation, or no
        transform shows the wanted directions.
    """
    if not patient_orientation or len(patient_orientation) != 2:
        return None
    row, column = (str(v).upper().strip() for v in patient_orientation)
    if not row or not column:
        return None
    wanted_right, wanted_down = (str(v).upper().strip() for v in wanted)
    best: tuple[int, int, bool] | None = None
    for flip in (False, True):
        for rotation in (0, 90, 180, 270):
            right, down = transformed(row, column, rotation, flip)
            a, b = _agreement(right, wanted_right), _agreement(down, wanted_down)
            if a < 0 or b < 0 or (wanted_right and a < 2) or (wanted_down and b < 2):
                continue
            if best is None or a + b > best[0]:
                best = (a + b, rotation, flip)
    return None if best is None else (best[1], best[2])
