"""The viewer's toolbar: layout chooser, tools, view actions, presets, cine, linking, key images."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QFrame,
    QGridLayout,
    QMenu,
    QSizePolicy,
    QToolButton,
    QWidget,
    QWidgetAction,
)

from workstation.clinical.filters import LABELS as FILTER_LABELS
from workstation.imaging.interaction import Tool
from workstation.session.reading import MAX_GRID
from workstation.ui.flow_layout import FlowLayout

# Keys the viewer takes from a viewport (the viewport's own are in imaging.interaction.VIEWPORT_KEYS).
VIEWER_KEYS = {"K": "mark or unmark the image as a key image", "Space": "play or pause the cine loop"}
TOOL_SHORTCUTS = {Tool.SCROLL: "S", Tool.WINDOW: "W", Tool.ZOOM: "Z", Tool.PAN: "P", Tool.LENGTH: "L",
                  Tool.ANGLE: "A", Tool.ELLIPSE: "E", Tool.MAGNIFY: "M"}


class GridChooser(QWidget):
    """A 4 x 4 grid of buttons: the button at row r, column c chooses an r x c layout."""

    chosen = Signal(int, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QGridLayout(self)
        layout.setSpacing(2)
        layout.setContentsMargins(4, 4, 4, 4)
        self.buttons: dict[tuple[int, int], QToolButton] = {}
        for r in range(1, MAX_GRID + 1):
            for c in range(1, MAX_GRID + 1):
                b = QToolButton()
                b.setText(f"{r}×{c}")
                b.setToolTip(f"{r} rows × {c} columns")
                b.setFixedSize(40, 28)
                b.clicked.connect(lambda _=False, r=r, c=c: self.chosen.emit(r, c))
                layout.addWidget(b, r - 1, c - 1)
                self.buttons[(r, c)] = b


class WrappingToolBar(QFrame):
    """A toolbar whose buttons wrap onto more rows when the window is narrow (nothing hides behind "»").

    ``addAction``, ``addWidget`` and ``addSeparator`` work as on a QToolBar.  Its
    buttons and boxes never take the keyboard focus from a click: the viewport
    keeps it, so the arrow keys go on scrolling after a button is pressed.
    """

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setObjectName("viewerToolBar")
        self.flow = FlowLayout(self, spacing=2)
        self.flow.setContentsMargins(4, 2, 4, 2)
        # Minimum, not Fixed: a fixed height would cap the bar at one row.
        policy = QSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)
        self.buttons: dict[QAction, QToolButton] = {}

    # QWidget.addAction's other forms (text, icon, slot) are not offered: this bar makes a button per action.
    def addAction(self, action: QAction) -> QToolButton:  # type: ignore[override]  # noqa: N802 - QToolBar's name
        """A text button for ``action`` (its shortcut, if any, works while the window is active)."""
        super().addAction(action)
        button = QToolButton(self)
        button.setDefaultAction(action)
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        button.setAutoRaise(True)
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.flow.addWidget(button)
        self.buttons[action] = button
        return button

    def addWidget(self, widget: QWidget) -> QWidget:  # noqa: N802 - QToolBar's name
        if isinstance(widget, QToolButton):
            widget.setAutoRaise(True)
            widget.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        elif widget.focusPolicy() != Qt.FocusPolicy.NoFocus:
            widget.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.flow.addWidget(widget)
        return widget

    def addSeparator(self) -> QFrame:  # noqa: N802 - QToolBar's name
        line = QFrame(self)
        line.setFrameShape(QFrame.Shape.VLine)
        line.setFrameShadow(QFrame.Shadow.Sunken)
        line.setFixedSize(8, 22)
        self.flow.addWidget(line)
        return line

    def button_for(self, action: QAction) -> QToolButton | None:
        """The button showing ``action`` on the bar (None for actions of its menus)."""
        return self.buttons.get(action)


class ViewerToolBar(WrappingToolBar):
    """Actions of the viewer; the viewer connects them (this class only builds them)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Viewer", parent)

        self.layout_button = QToolButton()
        self.layout_button.setText("Layout 1×1")
        self.layout_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.layout_button)
        self.grid_chooser = GridChooser()
        wa = QWidgetAction(menu)
        wa.setDefaultWidget(self.grid_chooser)
        menu.addAction(wa)
        self.grid_chooser.chosen.connect(lambda *_: menu.close())
        self.layout_button.setMenu(menu)
        self.addWidget(self.layout_button)
        self.addSeparator()

        self.tool_group = QActionGroup(self)
        self.tool_group.setExclusive(True)
        self.tool_actions: dict[Tool, QAction] = {}
        for tool in Tool:
            a = QAction(tool.value, self)
            a.setCheckable(True)
            a.setData(tool)
            key = TOOL_SHORTCUTS.get(tool)
            a.setToolTip(f"{tool.value} (left button)" + (f" — {key}" if key else ""))
            self.tool_group.addAction(a)
            self.tool_actions[tool] = a
        self.tool_actions[Tool.SCROLL].setChecked(True)
        basic = (Tool.SCROLL, Tool.WINDOW, Tool.ZOOM, Tool.PAN, Tool.PROBE, Tool.MAGNIFY, Tool.SELECT)
        for tool in basic:
            self.addAction(self.tool_actions[tool])
        self.measure_button = QToolButton()
        self.measure_button.setText("Measure ▾")
        self.measure_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        measure_menu = QMenu(self.measure_button)
        for tool in Tool:
            if tool not in basic:
                measure_menu.addAction(self.tool_actions[tool])
        self.measure_button.setMenu(measure_menu)
        self.addWidget(self.measure_button)
        self.addSeparator()

        def action(text: str, tip: str, checkable: bool = False, menu: QMenu | None = None) -> QAction:
            a = QAction(text, self)
            a.setToolTip(tip)
            a.setCheckable(checkable)
            if menu is None:
                self.addAction(a)
            else:
                menu.addAction(a)
            return a

        def menu_button(text: str, tip: str) -> QMenu:
            button = QToolButton()
            button.setText(text)
            button.setToolTip(tip)
            button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
            menu = QMenu(button)
            button.setMenu(menu)
            self.addWidget(button)
            return menu

        self.fit_action = action("Fit", "Fit the image to the viewport (F)")
        self.one_to_one_action = action("1:1", "One image pixel per screen pixel (N)")
        # Less frequent view changes have keys; the menu keeps the bar short enough for one line.
        view_menu = menu_button("View ▾", "Rotate, flip, invert, reset")
        self.rotate_action = action("Rotate 90° (R)", "Rotate 90° clockwise (R; Shift+R counter-clockwise)",
                                    menu=view_menu)
        self.flip_h_action = action("Flip left-right (H)", "Mirror left-right (H)", menu=view_menu)
        self.flip_v_action = action("Flip top-bottom (V)", "Mirror top-bottom (V)", menu=view_menu)
        self.invert_action = action("Invert (I)", "Invert the grey scale (I)", menu=view_menu)
        view_menu.addSeparator()
        # Filters of the displayed image, per viewport; the stored pixels never change.
        self.filter_group = QActionGroup(self)
        self.filter_actions: dict[str, QAction] = {}
        for kind, label in FILTER_LABELS.items():
            a = action(label, f"{label} of the active viewport's image (the stored image is not changed)",
                       checkable=True, menu=view_menu)
            self.filter_group.addAction(a)
            self.filter_actions[kind] = a
        self.filter_actions["none"].setChecked(True)
        view_menu.addSeparator()
        self.reset_action = action("Reset view", "Back to the initial view", menu=view_menu)
        self.presets_button = QToolButton()
        self.presets_button.setText("W/L ▾")
        self.presets_button.setToolTip("Window presets (number keys; 0: the image's own)")
        self.presets_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.presets_menu = QMenu(self.presets_button)
        self.presets_button.setMenu(self.presets_menu)
        self.addWidget(self.presets_button)
        self.addSeparator()

        self.cine_action = action("Cine ▶", "Play or pause the stack (Space)", checkable=True)
        self.fps_box = QDoubleSpinBox()
        self.fps_box.setRange(0.5, 120.0)
        self.fps_box.setDecimals(1)
        self.fps_box.setSuffix(" fps")
        self.fps_box.setValue(10.0)
        self.fps_box.setToolTip("Cine frame rate")
        self.addWidget(self.fps_box)
        self.addSeparator()

        self.link_scroll_action = action("Link scroll", "Scroll the viewports together by patient position",
                                         checkable=True)
        links = menu_button("Links ▾", "Linked zoom and window, reference lines")
        self.link_zoom_action = action("Link zoom and pan", "Zoom and pan the viewports together",
                                       checkable=True, menu=links)
        self.link_window_action = action("Link window", "Window the viewports of one modality together",
                                         checkable=True, menu=links)
        self.reference_lines_action = action("Reference lines", "Show reference lines of the other viewports",
                                             checkable=True, menu=links)
        self.reference_lines_action.setChecked(True)
        self.register_prior_action = action("Register prior to current",
                                            "Register the prior beside the active viewport to its series (rigid, "
                                            "in the background) so scrolling and the 3D cursor follow the anatomy",
                                            menu=links)
        self.use_registration_action = action("Use prior registration",
                                              "Link a registered prior by anatomy (off: by position and offset)",
                                              checkable=True, menu=links)
        self.use_registration_action.setChecked(True)
        self.show_rejected_action = action("Show rejected images",
                                           "Also show images that rejection notes withdrew (hidden by default)",
                                           checkable=True, menu=links)
        self.addSeparator()
        self.key_image_action = action("Key image", "Mark or unmark the image as a key image (K)",
                                       checkable=True)
        self.volume_action = action("MPR/3D", "MPR and 3D of the active viewport's series (Ctrl+M)")
        save = menu_button("Save ▾", "Save key images or the view as DICOM objects")
        self.save_key_images_action = action("Key images (Key Object Selection)…",
                                             "Save the key images as a Key Object Selection document", menu=save)
        self.save_state_action = action("View as presentation state…",
                                        "Save the view of the active viewport as a presentation state", menu=save)

    def show_cine(self, cine) -> None:
        """Show the active viewport's cine: playing or paused, and the rate it plays at."""
        self.cine_action.setChecked(cine.playing)
        self.cine_action.setText("Cine ❚❚" if cine.playing else "Cine ▶")
        self.fps_box.blockSignals(True)
        self.fps_box.setValue(cine.frames_per_second)
        self.fps_box.blockSignals(False)

    def set_grid_label(self, rows: int, cols: int) -> None:
        self.layout_button.setText(f"Layout {rows}×{cols}")


def shortcut_text(sequence: str) -> str:
    return QKeySequence(sequence).toString()
