"""Feedback checks for the course notebooks, imported as ``import problem_unittests as tests``.

Each ``tests.test_<name>(<name>)`` prints one line when the function is right and
raises ``AssertionError`` naming the mistake when it is not. The checks live in
``pixelschool.checks``, one module per notebook or notebook section; every exercise module
there is found and its checks are exposed here (``pixelschool.checks.student_checks``).
"""

from pixelschool.checks import student_checks

_CHECKS = student_checks()
globals().update(_CHECKS)
__all__ = sorted(_CHECKS)
