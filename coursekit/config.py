"""Run-time settings shared by the notebooks and the tools: fast mode and folders."""

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS_DIR = REPO_ROOT / "solutions"
NOTEBOOKS_DIR = REPO_ROOT / "notebooks"
ADMIN_DIR = REPO_ROOT / "admin"

FAST_ENV = "COURSE_FAST"
NBGRADER_ENV = "NBGRADER_EXECUTION"


def fast_mode() -> bool:
    """True when notebooks should use small subsets and few epochs.

    Set by ``COURSE_FAST=1`` (tests, demo) or by nbgrader while it autogrades
    (``NBGRADER_EXECUTION``).
    """
    flag = os.environ.get(FAST_ENV, "").strip().lower()
    return flag not in ("", "0", "false", "no") or bool(os.environ.get(NBGRADER_ENV))
