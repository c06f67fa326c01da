"""Grades out of nbgrader's gradebook: for the instructor (csv) and for Moodle or Canvas.

Each (student, assignment) has one status (``status_table``):

- "not submitted": no submission in the gradebook (score NaN);
- "stale manual grade": a grade has a manual score and still needs a manual grade, i.e. the
  answer changed since it was graded by hand (see ``manual``);
- "pending manual grading": a grade needs a manual grade and has no manual score yet;
- "graded": otherwise. Stale wins over pending when both occur.

The score is nbgrader's own: ``Submission.score`` less the late penalty that
``AssignLatePenalties`` stored per notebook at autograde time (``LateSubmissionPlugin``,
``penalty_method`` "none" by default: a late submission is shown late, penalty 0; "zero":
the penalty is the score), floored at 0, as ``nbgrader export`` computes it. A manual grade
entered after autograding is not penalised until the next autograde, as in nbgrader.

Formats (``export``; students come from the roster joined with the gradebook):

- ``csv``: a row per student (a gradebook student missing from the roster gets one, noted
  "not on roster"); per assignment a status column (with the lateness and penalty) and a
  score column (empty when not submitted; the score so far when pending or stale), total
  (sum of the scores shown) and max.
- ``moodle``, for Moodle's Grade administration > Import > CSV file: rows matched by email,
  students without one or not on the roster left out (and named in the notes), every status
  but "graded" exported as "-" (no grade), a "<name> feedback" column per assignment;
- ``canvas``, for Canvas' Grades > Import: Student, ID (the roster's ``lms_id``), SIS User
  ID, SIS Login ID, Section, one column per assignment and a "Points Possible" row; every
  status but "graded" left blank, never "EX".

Why these choices: how each platform's importer reads the file, in
``admin/instructor-notes.md`` ("How Moodle and Canvas import the grades").

Not submitted is never exported as 0 to an LMS: whether it counts 0 is the course's
policy, set there.
"""

import csv
import math
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pixelschool_admin.grading.intake.roster import Roster

NOT_SUBMITTED = "not submitted"
PENDING = "pending manual grading"
STALE = "stale manual grade"
GRADED = "graded"
STATUSES = (NOT_SUBMITTED, PENDING, STALE, GRADED)
FORMATS = ("csv", "moodle", "canvas")
NOT_ON_ROSTER = "not on roster"
STATUS_COLUMNS = [
    "student",
    "assignment",
    "status",
    "score",
    "raw_score",
    "max_score",
    "late_seconds",
    "penalty",
    "timestamp",
    "duedate",
    "pending_cells",
    "stale_cells",
]
IDENTITY = ["id", "first_name", "last_name", "email", "lms_id", "note"]


@dataclass(frozen=True)
class Recorded:
    """What the report and the exports need of nbgrader's gradebook, read in one session."""

    grades: pd.DataFrame  # one row per grade: student, assignment, notebook, question, ...
    students: dict  # id -> first_name, last_name, email, lms_id
    assignments: list  # [(name, max score, due date, {student id: submission's figures})]


def read_gradebook(course):
    """The course's gradebook as ``Recorded``: one read for a whole report or export."""
    grades, assignments = [], []
    with course.gradebook() as gb:
        students = {
            s.id: {
                "first_name": s.first_name or "",
                "last_name": s.last_name or "",
                "email": s.email or "",
                "lms_id": s.lms_user_id or "",
            }
            for s in gb.students
        }
        for assignment in sorted(gb.assignments, key=lambda a: a.name):
            submitted = {}
            for submission in assignment.submissions:
                pending, stale = [], []
                for notebook in submission.notebooks:
                    for grade in notebook.grades:
                        grades.append(
                            {
                                "student": submission.student.id,
                                "assignment": assignment.name,
                                "notebook": notebook.name,
                                "question": grade.name,
                                "score": float(grade.score),
                                "points": float(grade.max_score),
                            }
                        )
                        if grade.needs_manual_grade:
                            cell = f"{notebook.name}/{grade.name}"
                            (pending if grade.manual_score is None else stale).append(cell)
                submitted[submission.student.id] = {
                    "raw": float(submission.score),
                    "penalty": float(submission.late_submission_penalty or 0.0),
                    "late_seconds": float(submission.total_seconds_late),
                    "timestamp": submission.timestamp,
                    "duedate": submission.duedate,
                    "pending": pending,
                    "stale": stale,
                }
            maximum = float(assignment.max_score)
            assignments.append((assignment.name, maximum, assignment.duedate, submitted))
    columns = ["student", "assignment", "notebook", "question", "score", "points"]
    return Recorded(pd.DataFrame(grades, columns=columns), students, assignments)


def grade_table(course, recorded=None):
    """Every recorded grade: columns student, assignment, notebook, question, score, points."""
    return (recorded or read_gradebook(course)).grades


def _roster(roster):
    if roster is None or isinstance(roster, Roster):
        return roster
    return Roster.read(roster)


def students(course, roster=None, recorded=None):
    """Who gets a row: ``IDENTITY`` columns, the roster's details over the gradebook's.

    ``roster``: a ``Roster`` or its path; without one, the gradebook's students, unflagged.
    """
    roster = _roster(roster)
    known = (recorded or read_gradebook(course)).students
    listed = {s["id"]: s for s in (roster.students if roster else [])}
    rows = []
    for sid in sorted(set(known) | set(listed), key=str.casefold):
        row = {"id": sid, **known.get(sid, dict.fromkeys(IDENTITY[1:5], ""))}
        row.update({k: v for k, v in listed.get(sid, {}).items() if v and k != "id"})
        row["note"] = NOT_ON_ROSTER if roster is not None and sid not in listed else ""
        rows.append(row)
    return pd.DataFrame(rows, columns=IDENTITY)


def _utc(moment):
    return pd.Timestamp(moment).tz_localize("UTC") if moment is not None else pd.NaT


def status_table(course, roster=None, recorded=None, people=None):
    """One row per (student, assignment), columns ``STATUS_COLUMNS``; see the module doc.
    ``people``: ``students``' table, when the caller has it."""
    recorded = recorded or read_gradebook(course)
    if people is None:
        people = students(course, roster, recorded)
    rows = []
    for name, maximum, duedate, submitted in recorded.assignments:
        for student in people["id"]:
            row = {"student": student, "assignment": name, "max_score": maximum}
            found = submitted.get(student)
            if found is None:
                row.update(status=NOT_SUBMITTED, score=math.nan, raw_score=math.nan)
                row.update(late_seconds=0.0, penalty=0.0, timestamp=pd.NaT)
                row.update(duedate=_utc(duedate), pending_cells="", stale_cells="")
            else:
                pending, stale = found["pending"], found["stale"]
                row.update(
                    status=STALE if stale else PENDING if pending else GRADED,
                    score=max(0.0, found["raw"] - found["penalty"]),
                    raw_score=found["raw"],
                    late_seconds=found["late_seconds"],
                    penalty=found["penalty"],
                    timestamp=_utc(found["timestamp"]),
                    duedate=_utc(found["duedate"]),
                    pending_cells=", ".join(sorted(pending)),
                    stale_cells=", ".join(sorted(stale)),
                )
            rows.append(row)
    return pd.DataFrame(rows, columns=STATUS_COLUMNS)


def grades_by_student(course, recorded=None):
    """One row per gradebook student, a column per assignment (score after any late penalty,
    0 when not submitted), total and max: the report's summary numbers."""
    recorded = recorded or read_gradebook(course)
    people = students(course, None, recorded)
    table = status_table(course, None, recorded, people)
    maxima = {name: maximum for name, maximum, _, _ in recorded.assignments}
    names = sorted(maxima)
    scores = table.pivot_table(
        index="student", columns="assignment", values="score", aggfunc="sum", dropna=False
    ).reindex(columns=names)
    people = people.set_index("id")[["first_name", "last_name", "email"]]
    by_student = people.join(scores).fillna({name: 0.0 for name in names})
    by_student["total"] = by_student[names].sum(axis=1)
    by_student["max"] = sum(maxima.values())
    by_student.index.name = "student_id"
    return by_student.reset_index().sort_values("student_id", key=lambda s: s.str.casefold())


def _num(value):
    return f"{round(float(value), 2):g}"


def _late(row):
    if row["late_seconds"] <= 0:
        return ""
    return f"late {row['late_seconds'] / 3600:.1f} h, penalty {_num(row['penalty'])}"


def _plain(table, people, names):
    header = ["student_id", *IDENTITY[1:]]
    for name in names:
        header += [f"{name} status", name]
    header += ["total", "max"]
    cells = table.set_index(["student", "assignment"])
    maxima = table.drop_duplicates("assignment").set_index("assignment")["max_score"]
    maximum = _num(sum(maxima[n] for n in names))
    rows = []
    for person in people.to_dict("records"):
        row = [person[c] for c in IDENTITY]
        total = 0.0
        for name in names:
            cell = cells.loc[(person["id"], name)]
            status = "; ".join(filter(None, [cell["status"], _late(cell)]))
            score = "" if cell["status"] == NOT_SUBMITTED else _num(cell["score"])
            total += 0.0 if score == "" else float(cell["score"])
            row += [status, score]
        rows.append(row + [_num(total), maximum])
    return [header, *rows]


def _feedback(cell):
    words = {
        NOT_SUBMITTED: "not submitted",
        PENDING: "pending manual grading",
        STALE: "pending manual grading (the answer changed since it was graded)",
        GRADED: "",
    }[cell["status"]]
    return "; ".join(filter(None, [words, _late(cell)]))


def _moodle(table, people, names, notes):
    header = ["First name", "Last name", "Email address"]
    for name in names:
        header += [name, f"{name} feedback"]
    cells = table.set_index(["student", "assignment"])
    rows = []
    for person in people.to_dict("records"):
        if person["note"] or not person["email"]:
            why = person["note"] or "no email address to match in Moodle"
            notes.append(f"left out of the Moodle file ({why}): {person['id']}")
            continue
        row = [person["first_name"], person["last_name"], person["email"]]
        for name in names:
            cell = cells.loc[(person["id"], name)]
            grade = _num(cell["score"]) if cell["status"] == GRADED else "-"
            row += [grade, _feedback(cell)]
        rows.append(row)
    return [header, *rows]


def _canvas(table, people, names, notes):
    header = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", *names]
    maxima = table.drop_duplicates("assignment").set_index("assignment")["max_score"]
    rows = [header, ["Points Possible", "", "", "", "", *[_num(maxima[n]) for n in names]]]
    cells = table.set_index(["student", "assignment"])
    for person in people.to_dict("records"):
        if person["note"]:
            notes.append(f"left out of the Canvas file ({person['note']}): {person['id']}")
            continue
        first, last = person["first_name"], person["last_name"]
        name = f"{last}, {first}" if first and last else (last or first or person["id"])
        if not person["lms_id"]:
            notes.append(f"no Canvas user id (lms_id), to be matched by name: {name}")
        row = [name, person["lms_id"], "", "", ""]
        for assignment in names:
            cell = cells.loc[(person["id"], assignment)]
            row.append(_num(cell["score"]) if cell["status"] == GRADED else "")
        rows.append(row)
    return rows


def _status_notes(table, fmt):
    """Per assignment: who is late, pending or stale (the LMS formats leave those blank)."""
    notes = []
    late = table[table["late_seconds"] > 0]
    for row in late.to_dict("records"):
        notes.append(f"{row['assignment']}: {row['student']} {_late(row)}")
    if fmt != "csv":
        groups = defaultdict(list)
        for row in table[table["status"].isin([PENDING, STALE])].to_dict("records"):
            groups[(row["assignment"], row["status"])].append(row["student"])
        for (assignment, status), who in sorted(groups.items()):
            notes.append(f"{assignment}: {status}, no grade exported: {', '.join(who)}")
    return notes


def export(course, fmt="csv", path=None, roster=None):
    """Write the grades as ``fmt`` (one of ``FORMATS``); return ``(path, notes)``.

    ``notes``: lines for the instructor (late submissions, grades left out and why).
    Default path: ``reports/grades.csv``, ``grades-moodle.csv`` or ``grades-canvas.csv``.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r} (one of {', '.join(FORMATS)})")
    roster = _roster(roster)
    recorded = read_gradebook(course)
    people = students(course, roster, recorded)
    table = status_table(course, roster, recorded, people)
    names = sorted(table["assignment"].unique())
    notes = _status_notes(table, fmt)
    if fmt == "csv":
        rows = _plain(table, people, names)
    elif fmt == "moodle":
        rows = _moodle(table, people, names, notes)
    else:
        rows = _canvas(table, people, names, notes)
    default = "grades.csv" if fmt == "csv" else f"grades-{fmt}.csv"
    path = Path(path or course.report_path(default))
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    return path, notes


def export_csv(course, path=None, roster=None):
    """Write the instructor's CSV (format ``csv``); return the path."""
    return export(course, "csv", path, roster)[0]
