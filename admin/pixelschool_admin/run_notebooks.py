"""Run notebooks in a fresh kernel, as a student's "Run all" or the autograder would."""

import os
from pathlib import Path

from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from pixelschool_admin.authoring.notebooks import read_notebook

__all__ = ["CellExecutionError", "run_notebook", "printed_text"]

# TensorFlow's C++ start-up messages go to the kernel's stderr, i.e. the terminal of whoever
# runs the notebooks (tests, demo); they say nothing about the course. A caller's own
# setting wins.
QUIET = {"TF_CPP_MIN_LOG_LEVEL": "2"}


def run_notebook(path, *, fast=True, timeout=600, workdir=None):
    """Execute the notebook at ``path`` and return it with its outputs.

    ``fast`` sets ``COURSE_FAST`` for the kernel; ``timeout`` is per cell, in seconds;
    the kernel starts in ``workdir`` (default: the notebook's folder). Raises
    ``CellExecutionError`` at the first cell that fails; ``error.nb`` is not set, so
    the partly executed notebook is attached as ``error.notebook``.
    """
    nb = read_notebook(path)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(workdir or Path(path).parent)}},
    )
    try:
        client.execute(env={**QUIET, **os.environ, "COURSE_FAST": "1" if fast else "0"})
    except CellExecutionError as error:
        error.notebook = nb
        raise
    return nb


def printed_text(cell):
    """Everything a code cell printed (stdout and stderr), as one string."""
    return "".join(
        out.get("text", "") for out in cell.get("outputs", []) if out.output_type == "stream"
    )
