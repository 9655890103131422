"""The report panel's message area: what the panel says, and what became of the report just sent.

A frame of fixed height below the panel's buttons, so a message of any length
never moves a button.  Messages that are about a setting carry a link to that
page of Tools › Settings; the delivery line links to the Outbox and offers
Retry when retrying can help.  The wording of delivery states is
:func:`workstation.reporting.documents.describe_delivery` (Qt-free).
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from workstation.reporting.documents import describe_delivery
from workstation.store.outbox import OutboxItem

STATUS_LINES = 3
DELIVERY_LINES = 3


class ReportMessages(QFrame):
    """Status message (with a settings link when it is about one) and the followed report's delivery.

    Signals
    -------
    link_activated(str)
        ``settings:<page>`` or ``outbox``.
    retry_clicked()
    """

    link_activated = Signal(str)
    retry_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("reportMessages")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        lines = self.fontMetrics().lineSpacing()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.setSpacing(2)
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        self.status_label.setTextFormat(Qt.TextFormat.RichText)
        self.status_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.status_label.setFixedHeight(lines * STATUS_LINES)
        self.status_label.linkActivated.connect(self.link_activated)
        layout.addWidget(self.status_label)
        row = QHBoxLayout()
        self.delivery_label = QLabel()
        self.delivery_label.setObjectName("deliveryState")
        self.delivery_label.setWordWrap(True)
        self.delivery_label.setTextFormat(Qt.TextFormat.RichText)
        self.delivery_label.setFixedHeight(lines * DELIVERY_LINES)
        self.delivery_label.linkActivated.connect(self.link_activated)
        row.addWidget(self.delivery_label, 1)
        self.retry_button = QPushButton("Retry")
        self.retry_button.setToolTip("Send the report again now")
        self.retry_button.clicked.connect(self.retry_clicked)
        # Kept in the layout while hidden, so showing it moves nothing.
        policy = self.retry_button.sizePolicy()
        policy.setRetainSizeWhenHidden(True)
        self.retry_button.setSizePolicy(policy)
        self.retry_button.hide()
        row.addWidget(self.retry_button, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(row)
        self.setFixedHeight(lines * (STATUS_LINES + DELIVERY_LINES) + 20)

    def say(self, text: str, *, setting: str = "") -> None:
        """Show ``text``; with ``setting`` (or a text about settings), a link to that page of the settings."""
        body = html.escape(text)
        if setting or "settings" in text.lower():
            body += f' <a href="settings:{setting or "reader"}">Open Settings…</a>'
        self.status_label.setText(body)
        self.status_label.setToolTip(text)

    def message(self) -> str:
        """The message shown, as plain text."""
        return self.status_label.toolTip()

    def show_delivery(self, following: bool, item: OutboxItem | None) -> None:
        """The delivery of the followed report (``following`` False: nothing was sent from here yet)."""
        if not following:
            self.delivery_label.setText("")
            self.delivery_label.setToolTip("")
            self.retry_button.setVisible(False)
            return
        word, rest, retry = describe_delivery(item)
        text = f"<b>{html.escape(word)}</b> {html.escape(rest)}"
        if item is None:
            text += ' <a href="settings:destination">Choose a destination…</a>'
        else:
            text += ' · <a href="outbox">Outbox…</a>'
        self.delivery_label.setText(text)
        self.delivery_label.setToolTip(f"{word} {rest}")
        # A report kept here is sent once a destination is chosen: the same button sends it.
        self.retry_button.setText("Send" if item is None else "Retry")
        self.retry_button.setToolTip("Queue the report for the destination now chosen, and send it" if item is None
                                     else "Send the report again now")
        self.retry_button.setVisible(retry or item is None)
