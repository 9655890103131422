"""Moved to :mod:`workstation.session.saved_views` (saving and finding views is reading-session work).

Kept so code written against the old path keeps importing.
"""

from workstation.session.saved_views import *  # noqa: F401,F403
from workstation.session.saved_views import KO, PR, SavedObject, SaveError, study_archive  # noqa: F401
