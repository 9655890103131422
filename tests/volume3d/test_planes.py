"""MPR plane geometry: conventions, linked rotation, crosshair, labels, reference lines, scale bar; mapper choice."""

from __future__ import annotations

import numpy as np
import pytest

from workstation.volume3d.planes import (
    PLANE_NAMES,
    MprGeometry,
    edge_labels,
    image_plane_segment,
    nice_length,
    orientation_label,
    parse_axis,
    rotate_frame,
)
from workstation.volume3d.rendering import choose_mapper, is_software_renderer, mapper_setting


def test_standard_planes_follow_radiological_conventions():
    g = MprGeometry([0, 0, 0])
    assert edge_labels(g.plane("axial")) == {"left": "R", "right": "L", "top": "A", "bottom": "P"}
    assert edge_labels(g.plane("coronal")) == {"left": "R", "right": "L", "top": "S", "bottom": "I"}
    assert edge_labels(g.plane("sagittal")) == {"left": "A", "right": "P", "top": "S", "bottom": "I"}
    # The normals point towards the viewer: feet, front, patient's left.
    assert [g.plane(n).normal.tolist() for n in PLANE_NAMES] == [[0, 0, -1], [0, -1, 0], [1, 0, 0]]


def test_rotating_in_one_view_turns_the_other_planes_and_keeps_them_perpendicular():
    g = MprGeometry([5, 5, 5])
    axial_before = g.plane("axial")
    g.rotate("axial", 30)
    g.rotate("coronal", 20)  # double oblique
    normals = np.array([g.plane(n).normal for n in PLANE_NAMES])
    np.testing.assert_allclose(normals @ normals.T, np.eye(3), atol=1e-12)
    assert not np.allclose(g.plane("axial").normal, axial_before.normal)  # turned by the coronal rotation
    assert orientation_label(g.plane("sagittal").right).startswith("P")
    assert len(orientation_label(g.plane("sagittal").right)) >= 2  # oblique: two or three letters
    g.reset()
    assert edge_labels(g.plane("axial"))["right"] == "L"


def test_crosshair_lines_and_centre_drag():
    g = MprGeometry([0, 0, 0], reference=[0, 0, 0])
    lines = g.crosshair("axial")
    assert set(lines) == {"coronal", "sagittal"}
    assert g.line_angle("axial", "coronal") % 180 == pytest.approx(0)  # coronal plane: a horizontal line
    assert g.line_angle("axial", "sagittal") % 180 == pytest.approx(90)
    g.rotate("axial", 30)
    assert g.line_angle("axial", "coronal") % 180 == pytest.approx(30)
    g.move_center_in_view("axial", (12.0, -7.0))
    assert g.center.tolist() == pytest.approx([12.0, 7.0, 0.0])  # up is anterior (-y)
    g.scroll("axial", 3.0)
    assert g.center[2] == pytest.approx(-3.0)  # the axial normal points to the feet


def test_rotate_frame_and_axis_names():
    g = MprGeometry([0, 0, 0])
    rotate_frame(g, parse_axis("z"), 90)
    np.testing.assert_allclose(g.plane("coronal").normal, [1, 0, 0], atol=1e-12)
    np.testing.assert_allclose(parse_axis("axial"), [0, 0, -1])
    with pytest.raises(ValueError, match="unknown axis"):
        parse_axis("w")


def test_reference_line_of_a_coronal_plane_on_an_axial_image():
    g = MprGeometry([0, 10.0, 0])
    seg = image_plane_segment([-50, -50, 0], [1, 0, 0, 0, 1, 0], [0.5, 0.5], 200, 200, g.plane("coronal"))
    (c0, r0), (c1, r1) = seg
    assert r0 == pytest.approx(120) and r1 == pytest.approx(120)  # y = 10 mm is row (10 + 50) / 0.5
    assert sorted([c0, c1]) == pytest.approx([0, 199])
    assert image_plane_segment([-50, -50, 0], [1, 0, 0, 0, 1, 0], [0.5, 0.5], 200, 200, g.plane("axial")) is None


def test_scale_bar_lengths():
    assert nice_length(0.78, 100) == 50
    assert nice_length(0.1, 100) == 10
    assert nice_length(2.0, 300) == 500


def test_mapper_choice_by_renderer_and_setting():
    assert is_software_renderer("llvmpipe (LLVM 15.0.6, 256 bits)")
    assert choose_mapper("llvmpipe (LLVM 15.0.6, 256 bits)") == "cpu"
    assert choose_mapper("NVIDIA GeForce RTX 3060/PCIe/SSE2") == "gpu"
    assert choose_mapper("llvmpipe", "gpu") == "gpu" and choose_mapper("AMD Radeon", "cpu") == "cpu"
    assert mapper_setting({"volume3d": {"mapper": "GPU"}}) == "gpu"
    assert mapper_setting({"volume3d": {"mapper": "quantum"}}) == "auto" and mapper_setting({}) == "auto"


def test_hanging_protocol_viewport_specs():
    from workstation.volume3d.viewports import VolumeViewportSpec

    spec = VolumeViewportSpec.from_dict({"type": "MPR", "plane": "Coronal", "slab_mm": 10, "slab_mode": "minip"})
    assert (spec.type, spec.plane, spec.slab_mm, spec.slab_mode) == ("mpr", "coronal", 10.0, "minip")
    assert VolumeViewportSpec.from_dict({"type": "3d", "preset": "ct-bone", "azimuth": 30}).azimuth == 30
    for bad, message in (({"type": "mip"}, "viewport type"), ({"type": "mpr", "plane": "oblique"}, "MPR plane"),
                         ({"type": "mpr", "slab": 3}, "unknown viewport keys: slab"), ({}, "needs a type"),
                         ({"type": "mpr", "slab_mm": "thick"}, "invalid volume viewport")):
        with pytest.raises(ValueError, match=message):
            VolumeViewportSpec.from_dict(bad)
