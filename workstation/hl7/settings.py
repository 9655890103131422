"""HL7 settings (``Settings.extra["hl7"]``): the RIS, our names, the version and character set."""

from __future__ import annotations

import contextlib
from dataclasses import asdict, dataclass, fields

from workstation.config import ConfigError, Settings, validate_port

KEY = "hl7"
VERSIONS = ("2.5.1", "2.3.1")
#: MSH-18 values Lightbox speaks, with the Python codec of each.
CHARSETS = {"UNICODE UTF-8": "utf-8", "8859/1": "latin-1", "8859/5": "iso8859_5", "8859/7": "iso8859_7",
            "8859/8": "iso8859_8", "ASCII": "ascii"}
#: Outbox destinations that are a RIS, not a DICOM node, start with this.
DESTINATION_PREFIX = "hl7:"


@dataclass
class HL7Settings:
    """Where the RIS is and how to speak to it.

    Attributes
    ----------
    listen_port : int
        The inbound MLLP listener's port (orders and ADT from the RIS); 0 = no listener.
    listen_address : str
        The address it binds to.
    ris_host, ris_port : str, int
        Where ORU^R01 reports go; empty/0 = reports are not sent to a RIS.
    version : str
        2.5.1 or 2.3.1 (MSH-12).
    charset : str
        MSH-18, e.g. ``UNICODE UTF-8``.
    sending_application, sending_facility, receiving_application, receiving_facility : str
        MSH-3 to MSH-6.
    timeout_s : float
        Seconds to wait for the RIS's acknowledgement.
    """

    listen_port: int = 0
    listen_address: str = "127.0.0.1"
    ris_host: str = ""
    ris_port: int = 0
    version: str = "2.5.1"
    charset: str = "UNICODE UTF-8"
    sending_application: str = "LIGHTBOX"
    sending_facility: str = ""
    receiving_application: str = "RIS"
    receiving_facility: str = ""
    timeout_s: float = 30.0

    @classmethod
    def of(cls, settings: Settings) -> HL7Settings:
        raw = settings.extra.get(KEY, {})
        raw = raw if isinstance(raw, dict) else {}
        known = {f.name for f in fields(cls)}
        out = cls(**{k: v for k, v in raw.items() if k in known})
        with contextlib.suppress(ConfigError):  # shown by the settings dialog and 'config'; reading goes on
            out.check()
        return out

    def check(self) -> HL7Settings:
        """Validate and normalise; ConfigError with the reason in plain words."""
        self.listen_port = 0 if not self.listen_port else validate_port(self.listen_port)
        self.ris_port = 0 if not self.ris_port else validate_port(self.ris_port)
        if self.version not in VERSIONS:
            raise ConfigError(f"invalid HL7 version {self.version!r}: one of {', '.join(VERSIONS)}")
        if self.charset not in CHARSETS:
            raise ConfigError(f"invalid HL7 character set {self.charset!r}: one of {', '.join(CHARSETS)}")
        try:
            self.timeout_s = float(self.timeout_s)
        except (TypeError, ValueError):
            raise ConfigError(f"invalid HL7 timeout {self.timeout_s!r}: seconds") from None
        return self

    def store(self, settings: Settings) -> None:
        self.check()
        raw = settings.extra.get(KEY, {})
        merged = dict(raw) if isinstance(raw, dict) else {}
        merged.update(asdict(self))
        settings.extra[KEY] = merged

    @property
    def sends_reports(self) -> bool:
        return bool(self.ris_host and self.ris_port)

    @property
    def destination(self) -> str:
        """The outbox destination of reports to the RIS."""
        return DESTINATION_PREFIX + (self.receiving_application or "RIS")

    @property
    def encoding(self) -> str:
        return CHARSETS.get(self.charset, "utf-8")
