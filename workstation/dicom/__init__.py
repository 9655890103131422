"""DICOM reading, pixel decoding, UIDs (no Qt, no VTK)."""

import warnings

#: The warning pydicom gives when it is about to write ``?`` for characters a character set lacks.
REPLACEMENT_WARNING = r"Failed to encode value with encodings"


def refuse_replacement_characters() -> None:
    """Make pydicom's replace-with-``?`` fallback an error in this process, wherever it is reached.

    pydicom warns, then writes ``?``; turning that one warning into an
    exception aborts the write (or the query) instead.  Its
    ``writing_validation_mode`` is left alone: that process-wide setting
    also turns every value check on assignment into an exception.  Writers
    use :func:`workstation.dicom.charset.encode_dataset` first, which never
    reaches the fallback; this is the net under anything that writes with
    pydicom directly.  Installed on import (without importing pydicom).
    """
    warnings.filterwarnings("error", message=REPLACEMENT_WARNING, category=UserWarning)


refuse_replacement_characters()
