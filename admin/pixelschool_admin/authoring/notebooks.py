"""Reading course notebooks and the nbgrader markers inside their cells."""

import linecache
import re
import types
from pathlib import Path

import nbformat

# nbgrader's delimiters: a line containing one of them opens or closes a region.
SECRET_REGIONS = [
    ("BEGIN SOLUTION", "END SOLUTION"),
    ("BEGIN HIDDEN TESTS", "END HIDDEN TESTS"),
    ("BEGIN MARK SCHEME", "END MARK SCHEME"),
]


class NotebookError(Exception):
    """A course notebook that cannot be read or built; the message names the file."""


def read_notebook(path):
    """Read and validate a notebook, raising ``NotebookError`` that names the file."""
    path = Path(path)
    try:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
    except Exception as error:  # JSON errors, schema errors, missing file
        raise NotebookError(f"{path} is not a valid notebook: {error}") from error
    return nb


def readable_notebooks(paths):
    """(path, notebook) of each of ``paths`` that is a readable notebook; the others are
    skipped (autograde names them as unreadable)."""
    for path in paths:
        try:
            yield path, read_notebook(path)
        except NotebookError:
            continue


def parse_notebook(data, name):
    """``read_notebook`` of a notebook's bytes ``data``; ``name`` for the error."""
    try:
        nb = nbformat.reads(data.decode("utf-8"), as_version=4)
        nbformat.validate(nb)
    except Exception as error:  # not UTF-8, JSON errors, schema errors
        raise NotebookError(f"{name} is not a valid notebook: {error}") from error
    return nb


def nbgrader_meta(cell):
    """The cell's nbgrader metadata (empty dict when it has none, or a submission wrote
    something else there)."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return meta if isinstance(meta, dict) else {}


def cell_grade_id(cell):
    """The cell's nbgrader grade id, or None."""
    return nbgrader_meta(cell).get("grade_id")


def secret_lines(cell_source):
    """The lines of a cell that lie inside solution, hidden-test or mark-scheme markers."""
    secrets, inside = [], None
    for line in cell_source.splitlines():
        stripped = line.strip()
        if inside is None:
            inside = next((end for begin, end in SECRET_REGIONS if begin in stripped), None)
        elif inside in stripped:
            inside = None
        else:
            secrets.append(stripped)
    return secrets


def meaningful(line):
    """True for a line that could only come from its author: not blank, a comment or a bracket."""
    return len(re.sub(r"[\s()\[\]{}:,]", "", line)) >= 6 and not line.startswith("#")


def solution_cells(nb, cell_type, graded):
    """nbgrader solution cells of ``cell_type`` that are graded themselves, or not."""
    return [
        cell
        for cell in nb.cells
        if cell.cell_type == cell_type
        and nbgrader_meta(cell).get("solution")
        and bool(nbgrader_meta(cell).get("grade")) == graded
    ]


def answer_cells(nb):
    """The code cells students fill in: nbgrader solution cells that are not graded."""
    return solution_cells(nb, "code", graded=False)


def written_cells(nb):
    """The markdown answers graded by hand (nbgrader's "Manually graded answer" cells)."""
    return solution_cells(nb, "markdown", graded=True)


def is_test_cell(cell):
    """A locked autograder-tests cell: graded code that is not an answer."""
    meta = nbgrader_meta(cell)
    return cell.cell_type == "code" and bool(meta.get("grade")) and not meta.get("solution")


def solution_functions(path):
    """Run the answer cells of the notebook at ``path``; return the functions they define.

    Returns {name: function} in the order the cells define them, imported names left out.
    The cells run in one namespace that starts with ``import numpy as np``, like the notebooks.
    """
    nb = read_notebook(path)
    module = f"solutions.{Path(path).stem}"
    namespace = {"__name__": module}
    exec("import numpy as np", namespace)
    for cell in answer_cells(nb):
        filename = f"{path}:{nbgrader_meta(cell)['grade_id']}"
        # inspect.getsource finds the cell, as in a notebook (the rules on loops read it)
        linecache.cache[filename] = (len(cell.source), None, cell.source.splitlines(True), filename)
        exec(compile(cell.source, filename, "exec"), namespace)
    return {
        name: value
        for name, value in namespace.items()
        if isinstance(value, types.FunctionType) and value.__module__ == module
    }
