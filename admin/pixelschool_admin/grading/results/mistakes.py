"""The class's mistakes counted: ``reports/mistakes.csv``, from the grader's own judgement.

The grader's judge (``record/hidden.py``) notes, for every graded cell a student does not
pass, the exercise and the key of the mistake its check named: a recorded mistake
(``batch_max``), a relation, a rule of the check's code (``code:<module>.<function>+<line>``),
``no named mistake`` (wrong values nothing explains), ``not answered``, ... (see
``pixelschool/checks/mistakes.py``). These are ``mistake`` events in ``reports/events.csv``,
replaced for each submission graded again and kept for those unchanged (the ledger).

``mistakes.csv`` has one row per assignment, exercise and mistake: ``students`` is the
``;``-separated list of the students whose graded cells named it (sorted; each student once
per row, however many of the exercise's graded cells or seeds named it). Rows are sorted by
assignment, exercise, then most students first. Only hidden graded cells count: the visible
checks run in the student's kernel, whose word counts for nothing.
"""

import pandas as pd

from pixelschool_admin.grading import events
from pixelschool_admin.grading.record.hidden import MISTAKE, read_mistake_detail

COLUMNS = ["assignment", "exercise", "mistake", "students"]
SEPARATOR = ";"


def mistake_events(course):
    """The ``mistake`` events of ``reports/events.csv``."""
    logged = events.read(course)
    return logged[logged["kind"] == MISTAKE]


def mistake_table(course, logged=None):
    """One row per (assignment, exercise, mistake): ``COLUMNS``, ``students`` a list; from
    ``logged`` (``mistake_events``, read here if not given)."""
    logged = mistake_events(course) if logged is None else logged
    found = {}
    for row in logged.itertuples():
        grade_id, exercise, key, _ = read_mistake_detail(row.detail)
        exercise = exercise or grade_id  # a cell that calls no check: its grade id
        found.setdefault((row.assignment, exercise, key), set()).add(row.student)
    rows = [
        (assignment, exercise, key, sorted(students, key=str.casefold))
        for (assignment, exercise, key), students in found.items()
    ]
    rows.sort(key=lambda r: (r[0], r[1], -len(r[3]), r[2]))
    return pd.DataFrame(rows, columns=COLUMNS)


def write_mistakes(course, table=None):
    """Write ``reports/mistakes.csv`` (see the module) from ``table`` (``mistake_table``'s,
    made here if not given); return its path."""
    table = mistake_table(course) if table is None else table
    table = table.assign(students=table["students"].map(SEPARATOR.join))
    path = course.report_path("mistakes.csv")
    table.to_csv(path, index=False)
    return path
