"""The DICOM nodes dialog: add, edit and remove archives; Echo and Test them off the GUI thread.

Echo is :func:`workstation.net.echo.echo`; Test is
:func:`workstation.net.diagnostics.test_node`, whose checks (C-ECHO, C-FIND,
C-MOVE or C-GET of one instance) appear one by one as they finish, each with
its plain-words result and the fix when it failed.  Both run on the form's
current values, so a node can be tried before it is saved.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

from PySide6.QtCore import Signal
from PySide6.QtGui import QAction, QBrush, QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from workstation import config
from workstation.config import ConfigError, Node, Settings
from workstation.home import Home
from workstation.store.cache import StudyCache
from workstation.ui import theme
from workstation.ui.background import BackgroundTask
from workstation.ui.qvariant import signal_value
from workstation.ui.study_format import first_line

log = logging.getLogger(__name__)

STATE_MARK = {"ok": "✔", "failed": "✘", "skipped": "–"}
STATE_COLOUR = {"ok": "#8fbf8f", "failed": theme.WARNING_TEXT, "skipped": "#9a9a9a"}


def check_line(name: str, state: str, message: str) -> str:
    """One result line: ``"✔ C-ECHO: PACS@127.0.0.1:104 answered C-ECHO in 3 ms"``."""
    return f"{STATE_MARK.get(state, '?')} {name}: {message}"


class NodeDialog(QDialog):
    """Edit the configured DICOM nodes.

    Parameters
    ----------
    home : Home
        Whose settings file the nodes are saved in.
    open_cache : callable
        Opens a connection for the Test button's worker (an instance moved to ourselves lands there).

    Signals
    -------
    nodes_changed()
        A node was saved or removed.
    """

    nodes_changed = Signal()

    def __init__(self, home: Home, open_cache: Callable[[], StudyCache], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("DICOM nodes")
        self.resize(860, 560)
        self.home = home
        self._open_cache = open_cache
        # Echo and Test run here: a plain thread whose results the GUI thread collects (no Qt off it).
        self.checks = BackgroundTask(self, "node-check")
        self.checks.item.connect(self._on_check_item)
        self.checks.finished.connect(self._on_finished)
        self.checks.failed.connect(self._on_failed)
        self.node_list = QListWidget()
        self.node_list.setMaximumWidth(200)
        self.name_edit = QLineEdit()
        self.ae_edit = QLineEdit()
        self.host_edit = QLineEdit()
        self.port_spin = QSpinBox()
        self.port_spin.setRange(1, 65535)
        self.port_spin.setValue(104)
        self.retrieve_combo = QComboBox()
        self.retrieve_combo.addItems(list(config.VALID_RETRIEVE))
        self.model_combo = QComboBox()
        self.model_combo.addItems(list(config.VALID_QUERY_MODEL))
        self.url_edit = QLineEdit()
        self.url_edit.setPlaceholderText("http://host:8042/dicom-web (DICOMweb only)")
        self.timeout_spin = QDoubleSpinBox()
        self.timeout_spin.setRange(1, 3600)
        self.timeout_spin.setSuffix(" s")
        self.max_assoc_spin = QSpinBox()
        self.max_assoc_spin.setRange(1, 16)
        self.charset_edit = QLineEdit()
        self.fallback_check = QCheckBox("Fall back to C-GET when the archive does not know us as a move destination")
        self.tls_ca_edit = QLineEdit()
        self.tls_cert_edit = QLineEdit()
        self.tls_key_edit = QLineEdit()
        form = QFormLayout()
        for label, field in (("Name", self.name_edit), ("AE title", self.ae_edit), ("Host", self.host_edit),
                             ("Port", self.port_spin), ("Retrieve by", self.retrieve_combo),
                             ("Query model", self.model_combo), ("DICOMweb URL", self.url_edit),
                             ("Timeout", self.timeout_spin), ("Parallel associations", self.max_assoc_spin),
                             ("Character set", self.charset_edit), ("", self.fallback_check),
                             ("TLS CA file", self.tls_ca_edit), ("TLS certificate", self.tls_cert_edit),
                             ("TLS key", self.tls_key_edit)):
            form.addRow(label, field)
        self.new_button = QPushButton("New")
        self.save_button = QPushButton("Save")
        self.remove_button = QPushButton("Remove")
        self.echo_button = QPushButton("Echo")
        self.test_button = QPushButton("Test")
        self.close_button = QPushButton("Close")
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.results = QListWidget()
        self.results.setWordWrap(True)
        buttons = QHBoxLayout()
        for b in (self.new_button, self.save_button, self.remove_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        for b in (self.echo_button, self.test_button):
            buttons.addWidget(b)
        right = QVBoxLayout()
        right.addLayout(form)
        right.addLayout(buttons)
        right.addWidget(self.status)
        right.addWidget(QLabel("Results"))
        right.addWidget(self.results, 1)
        top = QHBoxLayout()
        top.addWidget(self.node_list)
        top.addLayout(right, 1)
        bottom = QHBoxLayout()
        bottom.addStretch(1)
        bottom.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top, 1)
        layout.addLayout(bottom)
        self.node_list.currentTextChanged.connect(self._show_node)
        self.new_button.clicked.connect(self.new_node)
        self.save_button.clicked.connect(self.save_node)
        self.remove_button.clicked.connect(self.remove_node)
        self.echo_button.clicked.connect(self.echo)
        self.test_button.clicked.connect(self.test)
        self.close_button.clicked.connect(self.close)
        self.reload()
        if self.node_list.count():
            self.node_list.setCurrentRow(0)
        else:
            self.new_node()

    # Settings -----------------------------------------------------------------------------
    def settings(self) -> Settings:
        return config.load(self.home.config_file)

    def reload(self) -> None:
        """List the saved nodes."""
        current = self.node_list.currentItem().text() if self.node_list.currentItem() else ""
        self.node_list.blockSignals(True)
        self.node_list.clear()
        try:
            names = [n.name for n in self.settings().nodes]
        except (ConfigError, OSError) as exc:
            self.status.setText(f"Settings cannot be read: {first_line(str(exc))}")
            names = []
        self.node_list.addItems(names)
        self.node_list.blockSignals(False)
        for i, name in enumerate(names):
            if name == current:
                self.node_list.setCurrentRow(i)

    def _show_node(self, name: str) -> None:
        if not name:
            return
        try:
            node = self.settings().node(name)
        except (ConfigError, OSError) as exc:
            self.status.setText(first_line(str(exc)))
            return
        self.set_form(node)

    def set_form(self, node: Node) -> None:
        """Show ``node`` in the form."""
        self.name_edit.setText(node.name)
        self.ae_edit.setText(node.ae_title)
        self.host_edit.setText(node.host)
        self.port_spin.setValue(node.port)
        self.retrieve_combo.setCurrentText(node.retrieve)
        self.model_combo.setCurrentText(node.query_model)
        self.url_edit.setText(node.url)
        self.timeout_spin.setValue(node.timeout)
        self.max_assoc_spin.setValue(node.max_associations)
        self.charset_edit.setText(node.charset)
        self.fallback_check.setChecked(node.get_fallback)
        self.tls_ca_edit.setText(node.tls_ca)
        self.tls_cert_edit.setText(node.tls_cert)
        self.tls_key_edit.setText(node.tls_key)
        self.status.setText("")

    def form_node(self) -> Node:
        """The node the form describes (ConfigError when a value is not valid)."""
        return Node(
            name=self.name_edit.text().strip(), ae_title=self.ae_edit.text(), host=self.host_edit.text().strip(),
            port=self.port_spin.value(), query_model=self.model_combo.currentText(),
            retrieve=self.retrieve_combo.currentText(), url=self.url_edit.text().strip(),
            tls_ca=self.tls_ca_edit.text().strip(), tls_cert=self.tls_cert_edit.text().strip(),
            tls_key=self.tls_key_edit.text().strip(), timeout=self.timeout_spin.value(),
            max_associations=self.max_assoc_spin.value(), charset=self.charset_edit.text().strip() or "ISO_IR 192",
            get_fallback=self.fallback_check.isChecked(),
        )

    def new_node(self) -> None:
        """Clear the form for a new node (defaults as in ``lightbox nodes add``)."""
        self.node_list.clearSelection()
        self.set_form(Node(name="new", ae_title="ARCHIVE", host="127.0.0.1", port=104))
        self.name_edit.setText("")
        self.ae_edit.setText("")
        self.name_edit.setFocus()

    def save_node(self) -> bool:
        """Save the form (a node of the same name is replaced)."""
        try:
            node = self.form_node()
            if not node.host:
                raise ConfigError("the host is missing (a name or an IP address)")
            settings = self.settings()
            settings.upsert_node(node)
            config.save(settings, self.home.config_file)
        except (ConfigError, OSError) as exc:
            self.status.setText(f"Not saved: {first_line(str(exc))}")
            return False
        self.reload()
        items = self.node_list.findItems(node.name, _exact())
        if items:
            self.node_list.setCurrentItem(items[0])
        self.status.setText(f"Saved {node.name}")
        self.nodes_changed.emit()
        return True

    def remove_node(self) -> bool:
        """Remove the node selected in the list."""
        item: QListWidgetItem | None = self.node_list.currentItem()  # None when no row is (the stubs say never)
        if item is None:
            self.status.setText("Select a node to remove")
            return False
        try:
            settings = self.settings()
            settings.remove_node(item.text())
            config.save(settings, self.home.config_file)
        except (ConfigError, OSError) as exc:
            self.status.setText(f"Not removed: {first_line(str(exc))}")
            return False
        self.status.setText(f"Removed {item.text()}")
        self.reload()
        self.nodes_changed.emit()
        return True

    # Echo and Test -------------------------------------------------------------------------
    def busy(self) -> bool:
        """Echo or Test runs (until its last result is shown)."""
        return self.checks.is_running()

    def wait(self, timeout_ms: int) -> bool:
        """Wait for the check's thread to end; its results are shown by the event loop afterwards."""
        return self.checks.wait(timeout_ms / 1000)

    def echo(self) -> bool:
        """C-ECHO the node in the form, off the GUI thread."""
        from workstation.net.echo import echo

        def work(node: Node, settings: Settings):
            result = echo(node, settings.ae_title)
            yield "C-ECHO", "ok" if result.ok else "failed", result.message

        return self._run(work, "Echo")

    def test(self) -> bool:
        """C-ECHO, C-FIND and a retrieve of one instance to ourselves; each result as it finishes."""
        from workstation.net.diagnostics import test_node

        home, open_cache = self.home, self._open_cache

        def work(node: Node, settings: Settings):
            with open_cache() as cache:
                for check in test_node(node, settings, home, cache):
                    yield check.name, check.state, check.message

        return self._run(work, "Test")

    def _run(self, checks: Callable[[Node, Settings], Iterator[tuple[str, str, str]]], what: str) -> bool:
        if self.checks.is_running():
            return False
        try:
            node = self.form_node()
        except ConfigError as exc:
            self.status.setText(first_line(str(exc)))
            return False
        config_file = self.home.config_file

        def work(emit, _cancel) -> None:
            # Plain values only: the thread never sees the dialog, which may close while it runs.
            for result in checks(node, config.load(config_file)):
                emit(result)

        self.results.clear()
        self.status.setText(f"{what} of {node.name} running…")
        self.echo_button.setEnabled(False)
        self.test_button.setEnabled(False)
        return self.checks.start(work)

    def _on_check_item(self, payload: object) -> None:
        name, state, message = signal_value(payload, tuple)
        self._add_result((name, state, message))

    def _add_result(self, result: tuple[str, str, str]) -> None:
        name, state, message = result
        item = QListWidgetItem(check_line(name, state, message))
        item.setForeground(QBrush(QColor(STATE_COLOUR.get(state, "#d0d0d0"))))
        self.results.addItem(item)

    def _on_failed(self, message: str) -> None:
        self._add_result(("Error", "failed", message))
        self._on_finished(None)

    def _on_finished(self, _result: object) -> None:
        self.echo_button.setEnabled(True)
        self.test_button.setEnabled(True)
        states = [self.results.item(i).text()[:1] for i in range(self.results.count())]
        passed = sum(1 for s in states if s == STATE_MARK["ok"])
        self.status.setText(f"{passed} of {len(states)} checks passed")

    def closeEvent(self, event) -> None:
        # Nothing to wait for: a check still running ends on its own (within the node's timeout) in a
        # daemon thread that holds no Qt object, and its results go to a queue nobody reads.
        self.checks.cancel()
        super().closeEvent(event)


def _exact():
    from PySide6.QtCore import Qt

    return Qt.MatchFlag.MatchExactly


def attach_node_dialog(window, home: Home, open_cache: Callable[[], StudyCache]) -> QAction:
    """Add Tools > DICOM nodes… to ``window``; saved changes reach its Remote tab's archive list."""
    action = QAction("DICOM &nodes…", window)

    def show() -> None:
        dialog = NodeDialog(home, open_cache, window)
        if getattr(window, "remote", None) is not None:
            dialog.nodes_changed.connect(window.remote.reload_nodes)
        window.node_dialog = dialog
        dialog.show()

    action.triggered.connect(show)
    menu = getattr(window, "tools_menu", None)
    (menu if menu is not None else window.menuBar().addMenu("&Tools")).addAction(action)
    window.node_dialog_action = action
    return action
