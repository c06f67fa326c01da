"""The one error of the grading pipeline."""


class GradingError(Exception):
    """A step of the grading pipeline could not be done; the message says why."""
