"""The PS3.15 A.5.1.1 audit message schema (RELAX NG, dicom_audit_message.rng) for the tests."""

from __future__ import annotations

from pathlib import Path

from lxml import etree

SCHEMA_FILE = Path(__file__).with_name("dicom_audit_message.rng")
_schema = None


def validate(xml: str | bytes) -> None:
    """Raise AssertionError naming the schema's complaint unless ``xml`` is a valid DICOM Audit Message."""
    global _schema
    if _schema is None:
        _schema = etree.RelaxNG(etree.parse(str(SCHEMA_FILE)))
    doc = etree.fromstring(xml.encode("utf-8") if isinstance(xml, str) else xml)
    if not _schema.validate(doc):
        raise AssertionError(f"audit message not valid against PS3.15 A.5.1: {_schema.error_log.last_error}")
