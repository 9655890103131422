"""Links ▾ › Register prior to current, then Use prior registration on and off, with the real menu actions."""

from __future__ import annotations

from tests.clinical.conftest import small_demo_dir  # noqa: F401 - the session's small demo
from tests.ui.clinical.test_filters_viewer import _menu_action
from tests.ui.viewer_helpers import open_viewer
from workstation.demo.plan import demo_uid
from workstation.store.importer import import_paths


def test_register_prior_from_the_links_menu(qtbot, cache, small_demo_dir):  # noqa: F811
    import_paths(cache, [small_demo_dir / "LBX-0001" / f for f in ("20240312_CT_CHEST", "20230307_CT_CHEST")],
                 workers=1)
    viewer = open_viewer(qtbot, cache, demo_uid("small", "ct-chest-2024"))
    try:
        messages = []
        viewer.message.connect(messages.append)
        _menu_action(viewer, "Register prior to current").trigger()  # no prior shown yet
        assert "Show a prior" in messages[-1]
        assert viewer.add_comparison(demo_uid("small", "ct-chest-2023"))
        viewer.show_series(demo_uid("small", "ct-chest-2024", "soft"), 0)
        viewer.session.set_active(0)
        _menu_action(viewer, "Register prior to current").trigger()
        qtbot.waitUntil(lambda: len(viewer.session.links.registrations) == 1, timeout=60_000)
        assert messages[-1].startswith("Prior registered: turned")
        regs = viewer.session.links.registrations
        a, b = viewer.viewports[0].model, viewer.viewports[1].model
        assert regs.matrix(a.stack.frame_of_reference_uid, b.stack.frame_of_reference_uid) is not None
        use = _menu_action(viewer, "Use prior registration")
        use.trigger()  # off
        assert not regs.enabled and regs.matrix(a.stack.frame_of_reference_uid, b.stack.frame_of_reference_uid) is None
        use.trigger()  # on again
        assert regs.enabled
        # The registration was kept as a DICOM object of the current study.
        assert any(s.modality == "REG" for s in cache.series(demo_uid("small", "ct-chest-2024")))
    finally:
        viewer.shutdown()
