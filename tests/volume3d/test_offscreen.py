"""Headless rendering with VTK's OSMesa window: MPR views with overlays, 3D presets, surfaces, clipping;
the MPR controller."""

from __future__ import annotations

import numpy as np
import pytest

from tests.volume3d.conftest import SPHERE_CENTER, phantom
from workstation.volume3d.mpr_controller import MprController
from workstation.volume3d.offscreen import render_3d, render_mpr
from workstation.volume3d.presets import PresetError, VrPreset, load_preset, preset_names
from workstation.volume3d.rendering import capture, offscreen_window, renderer_string

pytestmark = pytest.mark.slow


def _png(path):
    from PIL import Image

    return np.asarray(Image.open(path).convert("RGB"))


def test_mpr_png_has_the_image_letters_and_scale_bar(sphere_volume, tmp_path):
    r = render_mpr(sphere_volume, tmp_path / "a.png", plane="coronal", size=(128, 96), window=(0, 1000))
    img = _png(r.path)
    assert img.shape == (96, 128, 3)
    assert img[40:56, 56:72].mean() > 150  # the sphere, bright in the middle
    yellow = (img[..., 0] > 150) & (img[..., 1] > 150) & (img[..., 2] < 120)
    assert yellow[:, :12].any() and yellow[:12, :].any()  # orientation letters on the left and top edges
    assert r.mm_per_pixel > 0 and r.normal == pytest.approx([0, -1, 0])


def test_mpr_oblique_slab(sphere_volume, tmp_path):
    from workstation.volume3d.planes import parse_axis

    r = render_mpr(sphere_volume, tmp_path / "b.png", rotations=[(parse_axis("z"), 30)], slab_mm=10, slab_mode="avg",
                   position=SPHERE_CENTER, size=(64, 64))
    assert r.path.is_file() and abs(r.right[1]) == pytest.approx(0.5)


def test_every_preset_loads_and_renders_something_different(sphere_volume, tmp_path):
    names = preset_names()
    assert {"ct-bone", "ct-soft-tissue", "ct-angio", "ct-lung", "mip", "mr-default", "mr-angio"} <= set(names)
    images = {}
    for name in ("ct-bone", "mip", "mr-default"):
        r = render_3d(sphere_volume, tmp_path / f"{name}.png", preset=name, size=(96, 96), azimuth=30, elevation=10)
        assert r.mapper == "cpu" and "llvmpipe" in r.renderer.lower()
        images[name] = _png(r.path)
        assert images[name][30:66, 30:66].max() > 60, name  # the sphere is drawn
    assert not np.array_equal(images["ct-bone"], images["mip"])
    for name in names:
        assert load_preset(name).opacity


def test_gpu_mapper_can_be_forced(sphere_volume, tmp_path):
    r = render_3d(sphere_volume, tmp_path / "g.png", preset="mip", size=(64, 64),
                  settings_extra={"volume3d": {"mapper": "gpu"}})
    assert r.mapper == "gpu" and _png(r.path).max() > 60


def test_isosurface_and_clip_box(sphere_volume, tmp_path):
    whole = render_3d(sphere_volume, tmp_path / "s.png", preset="ct-bone", size=(96, 96), isosurface=0.0, smoothing=10)
    assert whole.triangles > 500
    clipped = render_3d(sphere_volume, tmp_path / "c.png", preset="ct-bone", size=(96, 96), isosurface=0.0,
                        clip_box=(0.5, 1, 0, 1, 0, 1))
    a, b = _png(whole.path), _png(clipped.path)

    def lit(img):
        return img.sum(axis=2) > 60

    assert lit(b).sum() < 0.8 * lit(a).sum()  # half of the sphere is cut away
    with pytest.raises(ValueError, match="a clip box has 6 fractions"):
        render_3d(sphere_volume, tmp_path / "x.png", size=(32, 32), clip_box=(0.5, 1, 0, 1, 0))


def test_bad_presets_are_refused_with_a_reason():
    with pytest.raises(PresetError, match="no volume rendering preset 'x'"):
        load_preset("x")
    with pytest.raises(PresetError, match="blend must be one of"):
        VrPreset.from_dict({"name": "p", "opacity": [[0, 1]], "colour": [[0, 1, 1, 1]], "blend": "sum"})
    relative = load_preset("mr-default").scaled(np.arange(1000, dtype=np.int16))
    assert relative.opacity[-1][0] == pytest.approx(994.5, abs=1)


def test_controller_drag_rotate_window_scroll_and_measure():
    vol = phantom(shape=(40, 40, 40))
    rendered = []
    c = MprController(vol, (0, 1000), render=rendered.append)
    windows = {}
    for name, scene in c.scenes.items():
        windows[name] = w = offscreen_window(200, 200)
        w.AddRenderer(scene.renderer)
    c.refresh()
    for name, scene in c.scenes.items():
        scene.fit()
        windows[name].Render()
    assert set(rendered) == {"axial", "coronal", "sagittal"}
    ax = c.scenes["axial"]
    centre = ax.view_to_display(c.geometry.crosshair("axial")["coronal"][0])
    # Drag the centre 20 pixels to the right: the centre moves towards the patient's left (+x).
    c.press("axial", *centre)
    assert c.interacting and c.scenes["axial"].reslicer.filter.GetInterpolationMode() == 2  # cubic until it moves
    c.move("axial", centre[0] + 20, centre[1])
    assert c.scenes["coronal"].reslicer.filter.GetInterpolationMode() == 1  # linear while dragging
    c.release("axial")
    assert c.scenes["coronal"].reslicer.filter.GetInterpolationMode() == 2
    moved = c.geometry.center - SPHERE_CENTER
    assert moved[0] == pytest.approx(20 * ax.mm_per_pixel(), rel=0.05) and abs(moved[1]) < 1e-6
    # Grab the coronal line (horizontal in the axial view) 40 px right of the centre and turn it.
    centre = ax.view_to_display(c.geometry.crosshair("axial")["coronal"][0])
    c.press("axial", centre[0] + 40, centre[1])
    c.move("axial", centre[0] + 40, centre[1] + 40)
    c.release("axial")
    assert c.geometry.line_angle("axial", "coronal") % 180 == pytest.approx(45, abs=1)
    # Window elsewhere, wheel, length tool.
    c.press("axial", 5, 5)
    c.move("axial", 35, 5)
    c.release("axial")
    assert c.window[1] > 1000
    before = c.geometry.center.copy()
    c.wheel("axial", 2)
    assert np.linalg.norm(c.geometry.center - before) == pytest.approx(2.0)
    c.set_tool("length")
    p0 = ax.view_to_display((0, 0))
    c.press("axial", *p0)
    c.press("axial", p0[0] + 30, p0[1])
    assert len(c.measurements) == 1
    assert c.measurements[0].values["length_mm"] == pytest.approx(30 * ax.mm_per_pixel(), rel=0.02)
    img = capture(windows["axial"])
    assert img.shape == (200, 200, 3)
    assert renderer_string(windows["axial"])
    for w in windows.values():
        w.Finalize()


def test_large_volumes_are_rendered_from_every_other_row_and_column(sphere_volume):
    from workstation.volume3d.scene3d import VolumeScene, reduced_for_3d

    small = reduced_for_3d(sphere_volume, max_voxels=48 * 24 * 24)
    assert small.shape == (48, 24, 24) and small.spacing.tolist() == [2.0, 2.0, 1.0]
    np.testing.assert_array_equal(small.origin, sphere_volume.origin)
    assert reduced_for_3d(sphere_volume) is sphere_volume
    scene = VolumeScene(sphere_volume, max_voxels=48 * 24 * 24)
    assert scene.source is sphere_volume and scene.volume.shape == (48, 24, 24)


def test_level_of_detail_while_the_mouse_moves(sphere_volume):
    from workstation.volume3d.scene3d import VolumeScene

    scene = VolumeScene(sphere_volume)
    full = (scene.mapper.GetImageSampleDistance(), scene.mapper.GetSampleDistance())
    scene.set_interactive(True)
    coarse = (scene.mapper.GetImageSampleDistance(), scene.mapper.GetSampleDistance())
    assert coarse[0] > full[0] and coarse[1] > full[1]
    scene.set_interactive(False)
    assert (scene.mapper.GetImageSampleDistance(), scene.mapper.GetSampleDistance()) == full


def test_a_pet_volume_starts_with_a_mip_that_shows_a_lesion_inside_the_body(tmp_path):
    """Uniform uptake in a body, one hot sphere (4x the body): the lesion stands out, the body is not saturated."""
    from workstation.model.volume import Volume
    from workstation.volume3d.presets import default_preset

    shape = (48, 48, 48)
    z, y, x = np.indices(shape)
    body = (x - 24) ** 2 + (y - 24) ** 2 <= 18**2
    lesion = (x - 30) ** 2 + (y - 24) ** 2 + (z - 24) ** 2 <= 4**2
    rng = np.random.default_rng(7)
    arr = np.where(body, 5000.0 + rng.normal(0, 250, shape), 0.0)
    arr[lesion] = 20000.0
    volume = Volume(array=arr.astype(np.float32), origin=np.zeros(3), spacing=np.ones(3), direction=np.eye(3),
                    rescaled=True, modality="PT")
    assert default_preset("PT") == "pet-mip"
    r = render_3d(volume, tmp_path / "pet.png", preset=default_preset("PT"), size=(96, 96))
    grey = _png(r.path).mean(axis=2)
    # The volume fills the view's middle; the lesion projects right of centre (x = 30 of 48).
    body_level = np.median(grey[40:56, 24:36])
    lesion_level = grey[44:52, 54:62].max()
    assert 20 < body_level < 200, body_level  # the body is grey, neither black nor a white block
    assert lesion_level > body_level + 40, (lesion_level, body_level)
