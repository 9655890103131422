"""Window placement per monitor and layouts across monitors (no Qt)."""

from workstation.placement import PlacementMemory, Rect, Screen, diagnostic_screens, span_rect, stage_screens

LEFT = Screen("DP-1", Rect(0, 0, 1920, 1080), Rect(0, 0, 1920, 1040), primary=True)
DIAG1 = Screen("DP-2", Rect(1920, 0, 2048, 2560), Rect(1920, 0, 2048, 2560))
DIAG2 = Screen("DP-3", Rect(3968, 0, 2048, 2560), Rect(3968, 0, 2048, 2560))


def test_window_returns_to_its_monitor(tmp_path):
    memory = PlacementMemory(tmp_path / "p.json")
    assert memory.remember(Rect(2000, 100, 1500, 2000), [LEFT, DIAG1, DIAG2], maximized=True) == DIAG1
    memory.save()
    again = PlacementMemory(tmp_path / "p.json")
    screen, rect, placement = again.restore([LEFT, DIAG1, DIAG2], (1400, 900))
    assert screen == DIAG1 and rect == Rect(2000, 100, 1500, 2000) and placement.maximized


def test_positions_are_kept_per_monitor(tmp_path):
    memory = PlacementMemory(tmp_path / "p.json")
    memory.remember(Rect(2000, 100, 1500, 2000), [LEFT, DIAG1])
    memory.remember(Rect(10, 20, 800, 600), [LEFT, DIAG1])
    assert memory.restore([LEFT, DIAG1], (1400, 900))[1] == Rect(10, 20, 800, 600)
    memory.last_screen = DIAG1.key
    assert memory.restore([LEFT, DIAG1], (1400, 900))[1] == Rect(2000, 100, 1500, 2000)


def test_unplugged_monitor_falls_back_to_the_primary_fully_visible(tmp_path):
    memory = PlacementMemory(tmp_path / "p.json")
    memory.remember(Rect(4000, 100, 2000, 2400), [LEFT, DIAG1, DIAG2])
    screen, rect, _ = memory.restore([LEFT], (1400, 900))
    assert screen == LEFT and rect == Rect(260, 70, 1400, 900)  # centred default
    assert LEFT.available.overlap(rect) == rect.width * rect.height


def test_broken_file_means_nothing_remembered(tmp_path):
    (tmp_path / "p.json").write_text("{nope")
    screen, rect, _ = PlacementMemory(tmp_path / "p.json").restore([LEFT], (3000, 3000))
    assert rect == LEFT.available


def test_layout_across_two_diagnostic_monitors_and_stages_per_monitor():
    screens = [DIAG2, LEFT, DIAG1]
    assert diagnostic_screens(screens) == [DIAG1, DIAG2]
    assert span_rect(diagnostic_screens(screens)) == Rect(1920, 0, 4096, 2560)
    assert stage_screens(2, screens) == [(0, DIAG1), (1, DIAG2)]


def test_monitor_layout_is_kept_and_an_unknown_one_read_as_normal(tmp_path):
    memory = PlacementMemory(tmp_path / "p.json")
    assert memory.monitor_layout == "normal"
    memory.monitor_layout = "stages"
    memory.save()
    assert PlacementMemory(tmp_path / "p.json").monitor_layout == "stages"
    (tmp_path / "p.json").write_text('{"last_screen": "", "screens": {}, "monitor_layout": "everywhere"}')
    assert PlacementMemory(tmp_path / "p.json").monitor_layout == "normal"
