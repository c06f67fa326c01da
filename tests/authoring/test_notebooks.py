"""Notebooks execute as students and the autograder run them (fast mode).

Every solution notebook runs to the end with all its checks passing (the hidden seeds of
recorded checks judged as the grader judges them); every student
notebook runs up to its first unanswered exercise, which raises NotImplementedError.
"""

import re

import pytest

from pixelschool_admin.grading.record.hidden import judge_notebook
from pixelschool_admin.paths import NOTEBOOKS_DIR, SOLUTIONS_DIR
from pixelschool_admin.run_notebooks import CellExecutionError, printed_text, run_notebook

SOLUTIONS = sorted(SOLUTIONS_DIR.glob("*.ipynb"))
CHECK_CALL = re.compile(r"^tests\.test_(\w+)\(", re.MULTILINE)


def test_there_are_notebooks():
    assert SOLUTIONS, "solutions/ holds no notebooks"


@pytest.mark.parametrize("path", SOLUTIONS, ids=[p.stem for p in SOLUTIONS])
def test_solution_runs_and_passes_its_checks(path):
    nb = judge_notebook(run_notebook(path, fast=True))
    checks = [
        cell for cell in nb.cells if cell.cell_type == "code" and CHECK_CALL.search(cell.source)
    ]
    assert checks, f"{path.name} has no visible check cells"
    for cell in checks:
        errors = [out.get("evalue") for out in cell.outputs if out.output_type == "error"]
        assert not errors, (cell.source, errors)
        printed = printed_text(cell)
        assert "all tests passed" in printed or "the grader judges them" in printed, cell.source


@pytest.mark.parametrize("path", SOLUTIONS, ids=[p.stem for p in SOLUTIONS])
def test_student_version_stops_at_first_exercise(path):
    student = NOTEBOOKS_DIR / path.name
    with pytest.raises(CellExecutionError) as stopped:
        run_notebook(student, fast=True)
    assert stopped.value.ename == "NotImplementedError", stopped.value
    executed = [cell for cell in stopped.value.notebook.cells if cell.get("outputs")]
    failed = [cell for cell in executed if any(out.output_type == "error" for out in cell.outputs)]
    assert len(failed) == 1
    first_check = next(
        cell
        for cell in stopped.value.notebook.cells
        if cell.cell_type == "code" and CHECK_CALL.search(cell.source)
    )
    assert failed[0] is first_check, "the first failing cell should be the first exercise's check"
