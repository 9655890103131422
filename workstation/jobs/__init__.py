"""Qt-free jobs: progress, cancellation (the UI adapts them to signals)."""

from workstation.jobs.core import Cancelled, CancelToken, ProgressThrottle

__all__ = ["CancelToken", "Cancelled", "ProgressThrottle"]
