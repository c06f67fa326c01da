"""Run-time settings of the notebooks: fast mode."""

import os

FAST_ENV = "COURSE_FAST"
NBGRADER_ENV = "NBGRADER_EXECUTION"


def env_flag(name) -> bool:
    """True when the environment variable ``name`` is set to anything but '', 0, false or no."""
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no")


def fast_mode() -> bool:
    """True when notebooks should use small subsets and few epochs.

    Set by ``COURSE_FAST=1`` (tests, demo) or by nbgrader while it autogrades
    (``NBGRADER_EXECUTION``).
    """
    return env_flag(FAST_ENV) or bool(os.environ.get(NBGRADER_ENV))
