"""Caps per notebook, each told to the instructor.

- **Time.** ``TimeBudget``: the seconds of cell execution a whole notebook may use, re-runs
  after a timeout or a crash included (``SandboxedExecute.notebook_timeout``); what is not
  run within it scores zero. Autograde derives it from each assignment's canary
  (``canary_budget``) unless ``--notebook-timeout`` sets it.
- **Size.** ``unreadable``: a submitted notebook over ``Settings.max_notebook_bytes`` or
  ``Settings.max_cells`` (``oversized``) is set aside unread and graded as missing, as one
  nbformat cannot read is, before the one recorder could spend minutes on it; the executed
  notebook's bytes are checked on the worker (``task.py``), and the total of its outputs is
  capped by ``SandboxedExecute.max_notebook_output_bytes`` (``executor.py``).
"""

import json
import math
import time
from contextlib import contextmanager

from pixelschool_admin.authoring.notebooks import NotebookError, parse_notebook
from pixelschool_admin.grading.settings import BUDGET_FACTOR, BUDGET_MARGIN


class TimeBudget:
    """Seconds of cell execution one notebook may use, re-runs included (0: no budget)."""

    def __init__(self, seconds):
        self.seconds, self.used = seconds, 0.0

    def spent(self):
        return bool(self.seconds) and self.used >= self.seconds

    @contextmanager
    def cell(self, client):
        """Run one cell of the nbclient ``client`` within what is left: its timeout is cut to
        that (whole seconds, rounded up), and the cell's time is counted."""
        limit = client.timeout
        if self.seconds:
            left = math.ceil(self.seconds - self.used)
            client.timeout = left if not limit or limit < 0 else min(limit, left)
        start = time.monotonic()
        try:
            yield
        finally:
            self.used += time.monotonic() - start
            client.timeout = limit


def canary_budget(seconds):
    """The notebook budget for students of an assignment whose canary took ``seconds``."""
    return math.ceil(BUDGET_FACTOR * seconds + BUDGET_MARGIN)


def oversized(data, max_bytes, max_cells):
    """Why the submitted notebook ``data`` (bytes) is too big to grade, or '' when it is not.

    Its size comes first; then its cells are counted from the JSON alone (nbformat's
    validation of 100,000 cells takes seconds), when its braces (one at least opens each
    cell) are more than ``max_cells``."""
    size = len(data)
    if size > max_bytes:
        return f"too big: {size:,} bytes, over the cap of {max_bytes:,}"
    if data.count(b"{") <= max_cells:
        return ""
    try:
        cells = json.loads(data).get("cells")
    except (ValueError, AttributeError, RecursionError):
        return ""  # not a notebook: nbformat says why
    if isinstance(cells, list) and len(cells) > max_cells:
        return f"too big: {len(cells):,} cells, over the cap of {max_cells:,}"
    return ""


def unreadable(files, settings):
    """{name: why} of the notebooks of a submission (``files``: name -> bytes, as
    ``task.read_files`` gives them) that will not be read: too big for ``settings`` (checked
    first) or not a notebook nbformat reads."""
    found = {}
    for name, data in sorted(files.items()):
        if "/" in name or not name.endswith(".ipynb"):
            continue  # nbgrader grades the notebooks at the top of the folder
        why = oversized(data, settings.max_notebook_bytes, settings.max_cells)
        if not why:
            try:
                parse_notebook(data, name)
            except NotebookError:
                why = "not a readable notebook"
        if why:
            found[name] = why
    return found


def problem_kind(problem):
    """The event kind of one of an outcome's problem lines."""
    if ": too big" in problem:
        return "too big"
    return "unreadable" if problem.endswith("graded as missing") else "execution failed"
