"""A registered prior follows the current study by anatomy: linked scrolling and the 3D cursor map through it."""

from __future__ import annotations

import numpy as np
import pytest

from workstation.demo.plan import demo_uid
from workstation.imaging.registrations import FrameRegistrations
from workstation.session.reading import ReadingSession

SHIFT_Z = 20.0  # the prior's anatomy lies 20 mm higher in its own coordinates


@pytest.fixture
def session(demo_cache):
    s = ReadingSession(demo_cache)
    current = s.open_study(demo_uid("small", "ct-chest-2024"))
    prior = s.add_study(demo_uid("small", "ct-chest-2023"))
    s.set_grid(1, 2)
    soft = next(d for d in current if d.series_uid == demo_uid("small", "ct-chest-2024", "soft"))
    s.show(soft, 0)
    s.show(prior[0], 1)
    yield s
    s.close()


def _z(vp) -> float:
    return float(vp.frame.position[2])


def test_linked_scrolling_maps_through_the_registration(session):
    a, b = session.viewports[0], session.viewports[1]
    assert a.stack.frame_of_reference_uid != b.stack.frame_of_reference_uid
    m = np.eye(4)
    m[2, 3] = SHIFT_Z  # current -> prior
    session.links.registrations.set(a.stack.frame_of_reference_uid, b.stack.frame_of_reference_uid, m)
    session.links.set_scroll(True, a)
    a.set_index(10)
    assert _z(b) == pytest.approx(_z(a) + SHIFT_Z)
    a.set_index(5)
    assert _z(b) == pytest.approx(_z(a) + SHIFT_Z)
    # The 3D cursor lands on the same anatomy in the prior.
    point = np.array([0.0, 0.0, _z(a)])
    session.place_cursor(a, point)
    np.testing.assert_allclose(b.cursor_point, point + [0, 0, SHIFT_Z])
    # Switched off by the reader: the prior follows by position again (same placement in the demo).
    session.links.registrations.enabled = False
    session.links.set_scroll(False)
    b.set_index(a.index)  # the reader lines them up by hand, then links again (the offset is what they show)
    session.links.set_scroll(True, a)
    a.set_index(8)
    assert _z(b) == pytest.approx(_z(a))
    session.place_cursor(a, point)
    assert b.cursor_point is None


def test_registry_keeps_both_directions():
    r = FrameRegistrations()
    m = np.eye(4)
    m[:3, 3] = (1.0, 2.0, 3.0)
    r.set("1.2", "1.3", m)
    np.testing.assert_allclose(r.map_point((0, 0, 0), "1.2", "1.3"), (1, 2, 3))
    np.testing.assert_allclose(r.map_point((1, 2, 3), "1.3", "1.2"), (0, 0, 0))
    assert r.matrix("1.2", "1.2") is None and len(r) == 1
    with pytest.raises(ValueError):
        r.set("a", "b", np.eye(3))


def test_register_cached_series_and_store_the_object(demo_cache):
    from workstation.clinical.prior_link import register_series, save_registration

    current = demo_uid("small", "ct-chest-2024", "soft")
    prior = demo_uid("small", "ct-chest-2023", "soft")
    t = register_series(demo_cache, current, prior)
    # The demo prior was placed like the current scan: the registration is (near) the identity.
    assert np.linalg.norm(t.current_to_prior((0.0, 0.0, -120.0)) - (0.0, 0.0, -120.0)) < 1.0
    assert t.rotation_degrees < 1.0
    uid = save_registration(demo_cache, current, prior, t)
    reg = [s for s in demo_cache.series(demo_uid("small", "ct-chest-2024")) if s.modality == "REG"]
    assert len(reg) == 1 and demo_cache.instances(reg[0].series_uid)[0].sop_instance_uid == uid


def test_reference_lines_of_a_registered_prior(demo_cache):
    s = ReadingSession(demo_cache)
    try:
        current = s.open_study(demo_uid("small", "mr-brain-2024"))
        prior = s.add_study(demo_uid("small", "mr-brain-2023"))
        s.set_grid(1, 2)
        sagittal = next(d for d in current if d.series_uid == demo_uid("small", "mr-brain-2024", "t1-sag"))
        axial_prior = next(d for d in prior if d.series_uid == demo_uid("small", "mr-brain-2023", "t2-ax"))
        s.show(sagittal, 0)
        s.show(axial_prior, 1)
        a, b = s.viewports[0], s.viewports[1]
        b.set_index(5)
        assert a.stack.frame_of_reference_uid != b.stack.frame_of_reference_uid
        assert s.reference_lines(0) == []  # other frames of reference: no line without a registration
        m = np.eye(4)
        m[2, 3] = 10.0  # current -> prior: the prior's anatomy 10 mm higher
        s.links.registrations.set(a.stack.frame_of_reference_uid, b.stack.frame_of_reference_uid, m)
        ((start, end, _),) = s.reference_lines(0)
        # The prior's axial plane at z, carried into the current frame, is at z - 10: a horizontal line there.
        z_prior = float(b.frame.position[2])
        f = a.frame
        rs = f.pixel_spacing[0]
        row_z = lambda row: float(f.position[2] + f.orientation[5] * rs * row)  # noqa: E731
        assert row_z(start[1] - 0.5) == pytest.approx(z_prior - 10.0, abs=0.01)
        assert start[1] == pytest.approx(end[1])
        s.links.registrations.enabled = False
        assert s.reference_lines(0) == []
    finally:
        s.close()
