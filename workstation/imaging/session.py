"""Moved to :mod:`workstation.session.reading` (the reading session has a package of its own).

Kept so code written against the old path keeps importing; new code imports
``workstation.session.reading`` (and ``workstation.session.patient``).
"""

from workstation.imaging.cross_reference import plane_segment  # noqa: F401
from workstation.imaging.patient_module import same_identity  # noqa: F401
from workstation.session.patient import OtherPatient, same_patient  # noqa: F401
from workstation.session.reading import HOLDER, MAX_GRID, ReadingSession  # noqa: F401
