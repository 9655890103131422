"""Settings › Site login: the LDAP server that checks who reads at this station (login dialog at start,
the idle lock's unlock), with a "Try a login" check.  A page of :class:`workstation.ui.settings_dialog.SettingsDialog`.

The page reads and writes the *station's* settings file (``Home.station_config_file``): a reader's own
settings on a shared station cannot turn the site login off.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (QCheckBox, QFileDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QPushButton,
                               QWidget)

from workstation import config
from workstation.audit.site_login import (DEFAULT_FILTER, LoginAttempt, LoginError, SiteLoginSettings, SiteUser,
                                          deadline_s, site_authenticator)
from workstation.config import ConfigError
from workstation.ui.login_watch import LoginWatch


class SiteLoginPage(QWidget):
    """Server URI, bind DN template or search, StartTLS, CA file; :meth:`checked` and :meth:`save`."""

    def __init__(self, station_file: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("siteLoginPage")
        self.station_file = station_file
        form = QFormLayout(self)
        self.uri = QLineEdit()
        self.uri.setObjectName("siteLoginUri")
        self.uri.setPlaceholderText("ldaps://ldap.example.org or ldap://ldap.example.org:389 (empty: no site login)")
        self.template = QLineEdit()
        self.template.setObjectName("siteLoginTemplate")
        self.template.setPlaceholderText("uid={login},ou=people,dc=example,dc=org")
        self.search_base = QLineEdit()
        self.search_base.setObjectName("siteLoginSearchBase")
        self.search_base.setPlaceholderText("or search under: ou=people,dc=example,dc=org")
        self.search_filter = QLineEdit(DEFAULT_FILTER)
        self.search_filter.setObjectName("siteLoginSearchFilter")
        self.search_dn = QLineEdit()
        self.search_dn.setPlaceholderText("search account DN (empty: anonymous search)")
        self.search_password = QLineEdit()
        self.search_password.setEchoMode(QLineEdit.EchoMode.Password)
        self.start_tls = QCheckBox("StartTLS on an ldap:// address")
        self.start_tls.setObjectName("siteLoginStartTls")
        self.ca_file = QLineEdit()
        self.ca_file.setObjectName("siteLoginCaFile")
        self.ca_file.setPlaceholderText("the site's CA certificates (PEM; empty: the system's)")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._choose_ca)
        ca_row = QHBoxLayout()
        ca_row.addWidget(self.ca_file)
        ca_row.addWidget(browse)
        self.display_attribute = QLineEdit("displayName")
        form.addRow("Server", self.uri)
        form.addRow("Bind DN template", self.template)
        form.addRow("Search base", self.search_base)
        form.addRow("Search filter", self.search_filter)
        form.addRow("Search account", self.search_dn)
        form.addRow("Search password", self.search_password)
        form.addRow("", self.start_tls)
        form.addRow("CA file", ca_row)
        form.addRow("Display name from", self.display_attribute)
        self.try_login = QLineEdit()
        self.try_login.setObjectName("siteLoginTryUser")
        self.try_login.setPlaceholderText("user name")
        self.try_password = QLineEdit()
        self.try_password.setObjectName("siteLoginTryPassword")
        self.try_password.setEchoMode(QLineEdit.EchoMode.Password)
        self.try_password.setPlaceholderText("password (not kept)")
        self.try_button = QPushButton("Try a login")
        self.try_button.setObjectName("siteLoginTry")
        self.try_button.clicked.connect(lambda _checked=False: self.try_it())
        # The trial bind runs on a worker (a frozen directory must not freeze the settings); its answer is
        # looked for on this timer, and the button cancels it meanwhile.
        self.watch = LoginWatch(self, self._show_outcome)
        self._timeout_s = SiteLoginSettings().timeout_s
        try_row = QHBoxLayout()
        try_row.addWidget(self.try_login)
        try_row.addWidget(self.try_password)
        try_row.addWidget(self.try_button)
        form.addRow("Check", try_row)
        self.result = QLabel("")
        self.result.setObjectName("siteLoginTryResult")
        self.result.setWordWrap(True)
        form.addRow("", self.result)
        hint = QLabel("With a server set, Lightbox asks for a login at start and each reader gets their own "
                      "settings, drafts and measurements; the study cache stays shared.")
        hint.setWordWrap(True)
        form.addRow("", hint)

    def _choose_ca(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(self, "The site's CA certificates", "",
                                                    "Certificates (*.pem *.crt *.cer);;All files (*)")
        if path:
            self.ca_file.setText(path)

    def load(self) -> None:
        """Fill the page from the station's settings."""
        try:
            cfg = SiteLoginSettings.of(config.load(self.station_file).extra)
        except (ConfigError, OSError):
            cfg = SiteLoginSettings()
        self.uri.setText(cfg.uri)
        self.template.setText(cfg.bind_dn_template)
        self.search_base.setText(cfg.search_base)
        self.search_filter.setText(cfg.search_filter)
        self.search_dn.setText(cfg.search_bind_dn)
        self.search_password.setText(cfg.search_bind_password)
        self.start_tls.setChecked(cfg.start_tls)
        self.ca_file.setText(cfg.ca_file)
        self.display_attribute.setText(cfg.display_name_attribute)
        self._timeout_s = cfg.timeout_s  # not on the page: kept as the file has it when the page is saved

    def shown(self) -> SiteLoginSettings:
        """The settings as typed (unchecked)."""
        return SiteLoginSettings(
            uri=self.uri.text().strip(), bind_dn_template=self.template.text().strip(),
            search_base=self.search_base.text().strip(),
            search_filter=self.search_filter.text().strip() or DEFAULT_FILTER,
            search_bind_dn=self.search_dn.text().strip(), search_bind_password=self.search_password.text(),
            start_tls=self.start_tls.isChecked(), ca_file=self.ca_file.text().strip(),
            display_name_attribute=self.display_attribute.text().strip() or "displayName",
            timeout_s=self._timeout_s)

    def checked(self) -> SiteLoginSettings:
        """The settings shown, checked (ConfigError with the reason); an empty server is no site login."""
        cfg = self.shown()
        if not cfg.configured:
            return cfg
        try:
            cfg.check()
        except LoginError as exc:
            raise ConfigError(str(exc)) from exc
        if cfg.ca_file and not Path(cfg.ca_file).is_file():
            raise ConfigError(f"the CA file {cfg.ca_file} does not exist")
        return cfg

    def save(self, cfg: SiteLoginSettings) -> None:
        """Write ``cfg`` into the station's settings file (OSError when it cannot be written)."""
        try:
            s = config.load(self.station_file)
        except ConfigError:
            s = config.Settings()
        cfg.store(s.extra)
        config.save(s, self.station_file)

    def try_it(self) -> None:
        """Bind with the typed user name and password using the settings shown (not saved), on a worker.

        Clicked again while it runs, the button cancels the trial.
        """
        if self.watch.busy:
            self.watch.cancel()
            return
        password = self.try_password.text()
        self.try_password.clear()
        try:
            cfg = self.checked()
        except ConfigError as exc:
            self.result.setText(f"Login failed: {exc}")
            return
        self.result.setText("Trying…")
        self.watch.start(site_authenticator(cfg), self.try_login.text(), password, deadline_s(cfg))
        self.try_button.setText("Cancel")

    @property
    def attempt(self) -> LoginAttempt | None:
        """The trial login running on the worker, if any."""
        return self.watch.attempt

    def _show_outcome(self, outcome: SiteUser | LoginError) -> None:
        self.try_button.setText("Try a login")
        if isinstance(outcome, LoginError):
            self.result.setText(f"Login failed: {outcome}")
        else:
            self.result.setText(f"Login works: {outcome.shown} ({outcome.dn})")
