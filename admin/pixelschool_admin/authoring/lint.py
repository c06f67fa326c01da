"""Checks that the course is consistent: metadata, sync and no leaked solutions.

Each function returns a list of problems, one readable sentence each; an empty
list means the course is fine.
"""

import re
import tempfile
from collections import Counter
from pathlib import Path

from pixelschool.checks.framework import CHECKS
from pixelschool.checks.recordings import VISIBLE_SEED
from pixelschool_admin.authoring.build import generate_student_versions
from pixelschool_admin.authoring.notebooks import (
    SECRET_REGIONS,
    NotebookError,
    answer_cells,
    meaningful,
    nbgrader_meta,
    read_notebook,
    secret_lines,
)
from pixelschool_admin.authoring.record import HIDDEN_CALL, stale_recordings
from pixelschool_admin.paths import NOTEBOOKS_DIR, SOLUTIONS_DIR


def check_course(solutions_dir=SOLUTIONS_DIR, notebooks_dir=NOTEBOOKS_DIR):
    """Every problem found in the course: metadata, leaks, then sync with solutions/."""
    problems = []
    for path in sorted(Path(solutions_dir).glob("*.ipynb")):
        try:
            source = read_notebook(path)
        except NotebookError as error:
            problems.append(str(error))
            continue
        problems += metadata_problems(path, source)
        student_path = Path(notebooks_dir) / path.name
        if student_path.exists():
            try:
                problems += leak_problems(source, read_notebook(student_path), student_path)
            except NotebookError as error:
                problems.append(str(error))
    if problems:
        return problems  # building would stop on the same errors
    return sync_problems(solutions_dir, notebooks_dir) + recording_problems(solutions_dir)


def metadata_problems(path, nb):
    """Problems with the nbgrader metadata and markers of one solution notebook."""
    problems, ids = [], Counter()
    for number, cell in enumerate(nb.cells, start=1):
        where, meta, text = f"{path.name} cell {number}", nbgrader_meta(cell), cell.source
        for begin, end in SECRET_REGIONS:
            if text.count(begin) != text.count(end):
                problems.append(f"{where}: '{begin}' and '{end}' do not pair up.")
        if cell.cell_type == "code" and cell.get("outputs"):
            problems.append(f"{where}: has outputs; commit solutions with outputs cleared.")
        if not meta:
            if any(begin in text for begin, _ in SECRET_REGIONS):
                problems.append(
                    f"{where}: has solution or hidden-test markers but no nbgrader metadata."
                )
            continue
        if not meta.get("grade_id"):
            problems.append(f"{where}: nbgrader cell without a grade_id.")
        ids[meta.get("grade_id")] += 1
        if meta.get("grade") and not (meta.get("points") or 0) > 0:
            problems.append(f"{where} ({meta.get('grade_id')}): graded cell without points.")
        if meta.get("solution") and cell.cell_type == "code" and "BEGIN SOLUTION" not in text:
            problems.append(
                f"{where} ({meta.get('grade_id')}): answer cell without solution markers."
            )
    problems += [
        f"{path.name}: grade_id '{i}' is used by {n} cells." for i, n in ids.items() if i and n > 1
    ]
    return problems + exercise_pattern_problems(path, nb) + hidden_test_problems(path, nb)


def exercise_pattern_problems(path, nb):
    """Each function an answer cell defines needs a visible check and a graded test after it."""
    problems, answers = [], answer_cells(nb)
    for number, cell in enumerate(nb.cells, start=1):
        if not any(cell is answer for answer in answers):
            continue
        later = [c for c in nb.cells[number:] if c.cell_type == "code"]
        for name in re.findall(r"^def (\w+)\(", cell.source, flags=re.MULTILINE):
            check = re.compile(rf"tests\.test_\w+\(\s*{name}\b")
            if not any(check.search(c.source) and not nbgrader_meta(c).get("grade") for c in later):
                problems.append(f"{path.name} cell {number}: `{name}` has no visible check cell.")
            if not any(
                nbgrader_meta(c).get("grade") and re.search(rf"\b{name}\b", c.source) for c in later
            ):
                problems.append(f"{path.name} cell {number}: `{name}` has no graded test cell.")
    return problems


def hidden_test_problems(path, nb):
    """A graded cell earns its points only from the grader's judgement of its hidden tests
    (``grading/record/hidden.py``), so it holds ``tests.test_<name>(<name>, seed=<n>)`` lines and
    nothing else: an assert would be decided in the student's kernel (and anything the cell
    holds is in reach of the student's code while it runs), and the visible seed's
    expectations ship with the runtime."""
    problems = []
    for number, cell in enumerate(nb.cells, start=1):
        if not (nbgrader_meta(cell).get("grade") and cell.cell_type == "code"):
            continue
        calls = HIDDEN_CALL.findall(cell.source)
        where = f"{path.name} cell {number}"
        if not calls:
            problems.append(
                f"{where}: a graded cell runs at least one hidden test, "
                "`tests.test_<name>(<name>, seed=<n>)`: nothing else earns its points"
            )
        problems += [  # the grader looks hidden results up by the check's name
            f"{where}: tests.test_{exercise} is no check's name (an alias?): use its own"
            for exercise, _, _ in calls
            if exercise not in CHECKS
        ]
        for line in secret_lines(cell.source):
            if line and not line.startswith("#") and not HIDDEN_CALL.fullmatch(line):
                problems.append(
                    f"{where}: the hidden tests hold only "
                    f"`tests.test_<name>(<name>, seed=<n>)` lines, not {line[:60]!r}"
                )
        problems += [
            f"{where}: {exercise} runs with the visible seed in a graded cell"
            for exercise, _, seed in calls
            if int(seed) == VISIBLE_SEED
        ]
    return problems


def recording_problems(solutions_dir=SOLUTIONS_DIR):
    """Recordings missing, stale or misplaced (see ``record.py``)."""
    return stale_recordings() if Path(solutions_dir) == SOLUTIONS_DIR else []


def leak_problems(source, student, student_path):
    """Solution, hidden-test or mark-scheme lines of ``source`` found in ``student``."""
    secrets, public = set(), set()
    for cell in source.cells:
        hidden = secret_lines(cell.source)
        secrets.update(line for line in hidden if meaningful(line))
        public.update(
            line.strip() for line in cell.source.splitlines() if line.strip() not in hidden
        )
    secrets -= public  # a line also written outside the markers is no secret
    problems = []
    for number, cell in enumerate(student.cells, start=1):
        for line in cell.source.splitlines():
            if line.strip() in secrets:
                problems.append(
                    f"{student_path} cell {number} shows hidden text: {line.strip()[:60]!r}"
                )
    return problems


def sync_problems(solutions_dir=SOLUTIONS_DIR, notebooks_dir=NOTEBOOKS_DIR):
    """Student notebooks that differ from a fresh build of ``solutions_dir``."""
    with tempfile.TemporaryDirectory() as fresh:
        try:
            built = {
                p.name: p.read_bytes() for p in generate_student_versions(solutions_dir, fresh)
            }
        except NotebookError as error:
            return [str(error)]
    committed = {p.name: p.read_bytes() for p in Path(notebooks_dir).glob("*.ipynb")}
    problems = [
        f"{notebooks_dir}/{name} is out of date: run `make build`."
        for name in sorted(built)
        if committed.get(name) != built[name]
    ]
    problems += [
        f"{notebooks_dir}/{name} has no source in {solutions_dir}: delete it or add its solution."
        for name in sorted(set(committed) - set(built))
    ]
    return problems
