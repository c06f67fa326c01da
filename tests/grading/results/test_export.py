"""Grades an instructor can trust: statuses, late penalties, stale manual grades, and the
csv, Moodle and Canvas exports parsed back and compared with the gradebook."""

import csv

import nbformat
import pandas as pd
import pytest
from nbgrader.preprocessors import AssignLatePenalties

from pixelschool_admin.authoring.notebooks import nbgrader_meta
from pixelschool_admin.cli import main as cli
from pixelschool_admin.grading import events
from pixelschool_admin.grading.course import Course
from pixelschool_admin.grading.intake.roster import Roster
from pixelschool_admin.grading.record.autograde import autograde
from pixelschool_admin.grading.results.export import (
    GRADED,
    NOT_SUBMITTED,
    PENDING,
    STALE,
    export,
    export_csv,
    grades_by_student,
    status_table,
)
from pixelschool_admin.grading.sandbox.bubblewrap import sandbox_problem
from pixelschool_admin.grading.settings import Settings
from tests.classroom import filled

pytestmark = pytest.mark.xdist_group("export")

DUE = "2024-03-01 12:00:00"
ROSTER = [
    ("ann", "Ann", "Lee", "ann@example.edu", "101"),
    ("bob", "Bob", "Ng", "bob@example.edu", "102"),
    ("cat", "Cat", "Roy", "cat@example.edu", "103"),
    ("dan", "Dan", "Ito", "dan@example.edu", "104"),
    ("eve", "Eve", "Ma", "eve@example.edu", "105"),
    ("fay", "Fay", "Ott", "", "107"),  # no email, nothing submitted, not in the gradebook
    ("Zoë Ødegård", "Zoë", "Ødegård", "zoe@example.edu", "106"),
]


def roster_of(people):
    keys = ("id", "first_name", "last_name", "email", "lms_id")
    return Roster([dict(zip(keys, person)) for person in people])


def submit(gb, assignment, student, grades, timestamp="2024-03-01 11:00:00"):
    """A recorded submission: grades {cell: (auto, manual, needs_manual_grade)}."""
    gb.update_or_create_student(student)
    gb.add_submission(assignment, student, timestamp=timestamp)
    for cell, (auto, manual_score, needs) in grades.items():
        grade = gb.find_grade(cell, assignment, assignment, student)
        grade.auto_score, grade.manual_score, grade.needs_manual_grade = auto, manual_score, needs
    gb.db.commit()


def assign_penalties(course, assignment, student):
    """nbgrader's own ``AssignLatePenalties`` with the course's late submission settings."""
    resources = {
        "nbgrader": {
            "notebook": assignment,
            "assignment": assignment,
            "student": student,
            "db_url": course.db_url,
        }
    }
    AssignLatePenalties(config=course.config).preprocess(nbformat.v4.new_notebook(), resources)


def build_class(root, method):
    """A graded class built through the gradebook API, nbgrader's late penalty ``method``.

    hw (due DUE; auto 2 + essay 3 by hand) and quiz (no due date; 1 point).
    """
    course = Course(root / "course", LateSubmissionPlugin={"penalty_method": method})
    with course.gradebook() as gb:
        gb.add_assignment("hw", duedate=f"{DUE} UTC")
        gb.add_notebook("hw", "hw")
        gb.add_grade_cell("auto", "hw", "hw", max_score=2, cell_type="code")
        gb.add_grade_cell("essay", "hw", "hw", max_score=3, cell_type="markdown")
        gb.add_assignment("quiz")
        gb.add_notebook("quiz", "quiz")
        gb.add_grade_cell("q1", "quiz", "quiz", max_score=1, cell_type="code")
        submit(gb, "hw", "ann", {"auto": (2, None, False), "essay": (None, 3, False)})
        submit(gb, "quiz", "ann", {"q1": (1, None, False)})
        submit(gb, "hw", "bob", {"auto": (2, None, False), "essay": (None, None, True)})
        submit(gb, "hw", "cat", {"auto": (1, None, False), "essay": (None, 2, True)})
        submit(gb, "quiz", "cat", {"q1": (0, None, False)})
        late = {"auto": (2, None, False), "essay": (None, 1, False)}
        submit(gb, "hw", "dan", late, timestamp="2024-03-01 14:00:00")
        submit(gb, "quiz", "dan", {"q1": (1, None, False)})
        submit(gb, "quiz", "eve", {"q1": (0, None, False)})
        submit(gb, "hw", "Zoë Ødegård", {"auto": (0, None, False), "essay": (0, None, False)})
        submit(gb, "quiz", "ghost", {"q1": (1, None, False)})  # not on the roster
    for assignment, student in [("hw", "dan"), ("hw", "ann"), ("quiz", "dan")]:
        assign_penalties(course, assignment, student)
    roster = root / "roster.csv"
    roster_of(ROSTER).write(roster)
    return course, roster, method


@pytest.fixture(scope="module", params=["none", "zero"])
def klass(tmp_path_factory, request):
    return build_class(tmp_path_factory.mktemp(request.param), request.param)


def gradebook_scores(course):
    """{(student, assignment): score after penalty}, straight from nbgrader's gradebook."""
    with course.gradebook() as gb:
        return {
            (s.student.id, a.name): max(0.0, s.score - s.late_submission_penalty)
            for a in gb.assignments
            for s in a.submissions
        }


def read_rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def test_status_table_tells_every_case_apart(klass):
    course, roster, method = klass
    table = status_table(course, roster).set_index(["student", "assignment"])
    status = table["status"]
    assert status[("ann", "hw")] == GRADED and table.loc[("ann", "hw"), "score"] == 5
    assert status[("bob", "hw")] == PENDING and table.loc[("bob", "hw"), "pending_cells"] == (
        "hw/essay"
    )
    assert status[("cat", "hw")] == STALE and table.loc[("cat", "hw"), "stale_cells"] == "hw/essay"
    assert status[("eve", "hw")] == NOT_SUBMITTED and pd.isna(table.loc[("eve", "hw"), "score"])
    assert status[("eve", "quiz")] == GRADED and table.loc[("eve", "quiz"), "score"] == 0
    assert status[("fay", "quiz")] == NOT_SUBMITTED  # on the roster only
    assert status[("ghost", "quiz")] == GRADED  # in the gradebook only
    dan = table.loc[("dan", "hw")]
    assert dan["late_seconds"] == 7200 and dan["raw_score"] == 3
    assert dan["penalty"] == (3 if method == "zero" else 0)
    assert dan["score"] == (0 if method == "zero" else 3)
    assert dan["timestamp"] == pd.Timestamp(DUE, tz="UTC") + pd.Timedelta(hours=2)
    assert dan["duedate"] == pd.Timestamp(DUE, tz="UTC")
    assert table.loc[("dan", "quiz"), "late_seconds"] == 0  # no due date: never late
    for (student, assignment), score in gradebook_scores(course).items():
        assert table.loc[(student, assignment), "score"] == score
    assert set(table["max_score"].groupby("assignment").first().items()) == {
        ("hw", 5.0),
        ("quiz", 1.0),
    }


def test_csv_has_a_score_and_a_status_per_assignment(klass):
    course, roster, method = klass
    path, notes = export(course, "csv", roster=roster)
    table = pd.read_csv(path, keep_default_na=False, dtype=str).set_index("student_id")
    assert list(table.columns[-6:]) == ["hw status", "hw", "quiz status", "quiz", "total", "max"]
    assert list(table.index) == ["ann", "bob", "cat", "dan", "eve", "fay", "ghost", "Zoë Ødegård"]
    assert table.loc["ghost", "note"] == "not on roster" and table.loc["ann", "note"] == ""
    assert table.loc["ann", "email"] == "ann@example.edu" and table.loc["ann", "lms_id"] == "101"
    assert (table.loc["eve", "hw status"], table.loc["eve", "hw"]) == (NOT_SUBMITTED, "")
    assert (table.loc["eve", "quiz status"], table.loc["eve", "quiz"]) == (GRADED, "0")
    assert table.loc["bob", "hw status"] == PENDING and table.loc["bob", "hw"] == "2"
    assert table.loc["cat", "hw status"] == STALE and table.loc["cat", "hw"] == "3"
    penalty = 3 if method == "zero" else 0
    assert table.loc["dan", "hw status"] == f"{GRADED}; late 2.0 h, penalty {penalty}"
    assert any(note.startswith("hw: dan late 2.0 h") for note in notes)
    for (student, assignment), score in gradebook_scores(course).items():
        assert float(table.loc[student, assignment]) == score
    assert table["max"].eq("6").all()
    assert float(table.loc["ann", "total"]) == 6 and table.loc["fay", "total"] == "0"


def test_moodle_file_imports_as_is(klass):
    course, roster, method = klass
    path, notes = export(course, "moodle", roster=roster)
    rows = read_rows(path)
    header = rows[0]
    assert header == ["First name", "Last name", "Email address"] + [
        "hw",
        "hw feedback",
        "quiz",
        "quiz feedback",
    ]
    by_email = {row[2]: dict(zip(header, row)) for row in rows[1:]}
    # Moodle aborts on an unknown user and credits a blank identifier to the row above.
    assert all(email for email in by_email) and "ghost" not in str(rows)
    assert any("fay" in n and "no email" in n for n in notes)
    assert any("ghost" in n and "not on roster" in n for n in notes)
    emails = {person[0]: person[3] for person in ROSTER}
    scores = gradebook_scores(course)
    for student, email in emails.items():
        if not email:
            continue
        for assignment in ("hw", "quiz"):
            cell = by_email[email][assignment]
            if cell != "-":
                assert float(cell) == scores[(student, assignment)]
    assert by_email["eve@example.edu"]["hw"] == "-"
    assert by_email["eve@example.edu"]["hw feedback"] == "not submitted"
    assert by_email["eve@example.edu"]["quiz"] == "0"  # scored 0 is a grade
    assert by_email["bob@example.edu"]["hw"] == "-"  # pending
    assert by_email["cat@example.edu"]["hw"] == "-"  # stale
    assert "pending manual grading" in by_email["cat@example.edu"]["hw feedback"]
    dan = by_email["dan@example.edu"]
    penalty = 3 if method == "zero" else 0
    assert dan["hw"] == ("0" if method == "zero" else "3")
    assert dan["hw feedback"] == f"late 2.0 h, penalty {penalty}"
    grades = [row[i] for row in rows[1:] for i, h in enumerate(header) if h in ("hw", "quiz")]
    assert all(g == "-" or float(g) >= 0 for g in grades)  # nothing Moodle would refuse


def test_canvas_file_imports_as_is(klass):
    course, roster, method = klass
    path, notes = export(course, "canvas", roster=roster)
    rows = read_rows(path)
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "hw", "quiz"]
    assert rows[1][0] == "Points Possible" and rows[1][5:] == ["5", "1"]
    by_id = {row[1]: dict(zip(rows[0], row)) for row in rows[2:]}
    assert set(by_id) == {person[4] for person in ROSTER}  # ghost is left out
    assert any("ghost" in n for n in notes)
    assert by_id["101"]["Student"] == "Lee, Ann" and by_id["106"]["Student"] == "Ødegård, Zoë"
    scores = gradebook_scores(course)
    for student, *_, lms_id in ROSTER:
        for assignment in ("hw", "quiz"):
            cell = by_id[lms_id][assignment]
            assert cell != "EX"
            if cell:
                assert float(cell) == scores[(student, assignment)]
    assert by_id["105"]["hw"] == "" and by_id["105"]["quiz"] == "0"  # not submitted, scored 0
    assert by_id["102"]["hw"] == "" and by_id["103"]["hw"] == ""  # pending, stale
    assert any("pending manual grading" in n and "bob" in n for n in notes)
    assert any("stale manual grade" in n and "cat" in n for n in notes)
    assert by_id["104"]["hw"] == ("0" if method == "zero" else "3")
    penalty = 3 if method == "zero" else 0
    assert f"hw: dan late 2.0 h, penalty {penalty}" in notes


def test_cli_export_and_old_callers(klass, tmp_path, capsys):
    course, roster, _ = klass
    out = tmp_path / "canvas.csv"
    args = ["--course", str(course.root), "--roster", str(roster), "--output", str(out)]
    assert cli(["export", "--format", "canvas", *args]) == 0
    assert f"wrote {out}" in capsys.readouterr().out and read_rows(out)[1][0] == "Points Possible"
    table = pd.read_csv(export_csv(course))  # no roster: the gradebook's students
    assert list(table.columns[-3:]) == ["quiz", "total", "max"]
    assert "fay" not in set(table["student_id"]) and "ghost" in set(table["student_id"])
    summary = grades_by_student(course).set_index("student_id")
    assert summary.loc["eve", "hw"] == 0 and summary.loc["ann", "total"] == 6


def answer_cell(source, grade_id, points):
    meta = {"grade": True, "solution": True, "locked": False, "points": points}
    meta.update(grade_id=grade_id, schema_version=3, task=False)
    return nbformat.v4.new_markdown_cell(source, metadata={"nbgrader": meta})


TINY_AXIS = (
    "import numpy as np\n\n\ndef add_channel_axis(images):\n    ### BEGIN SOLUTION\n"
    "    return images[..., np.newaxis]\n    ### END SOLUTION\n"
)
ANSWER = "A channel axis of size 1 keeps the pixels and adds the axis Keras expects."


def tiny_solution():
    """One autograded answer (add_channel_axis, 1 point) and one written answer graded by
    hand (2)."""

    def code(grade_id, source, **meta):
        meta.update(grade_id=grade_id, schema_version=3, task=False)
        return nbformat.v4.new_code_cell(source, metadata={"nbgrader": meta})

    nb = nbformat.v4.new_notebook()
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        code(
            "setup", "import problem_unittests as tests", grade=False, solution=False, locked=True
        ),
        code("add_channel_axis", TINY_AXIS, grade=False, solution=True, locked=False),
        code(
            "test_add_channel_axis",
            "tests.test_add_channel_axis(add_channel_axis, seed=606)",
            grade=True,
            solution=False,
            locked=True,
            points=1,
        ),
        answer_cell(ANSWER, "explain", 2),
    ]
    return nb


def hand_in(course, student, nb, stamp):
    folder = course.path("submitted", student, "tiny")
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / "tiny.ipynb")
    (folder / "timestamp.txt").write_text(stamp)


@pytest.mark.skipif(bool(sandbox_problem()), reason=str(sandbox_problem()))
def test_resubmission_and_late_penalty_through_a_real_autograde(tmp_path):
    """One autograde round on top of an earlier grading (made by hand, as a TA would)."""
    solutions = tmp_path / "solutions"
    solutions.mkdir()
    nbformat.write(tiny_solution(), solutions / "tiny.ipynb")
    course = Course(tmp_path / "course", LateSubmissionPlugin={"penalty_method": "zero"})
    course.add_assignment("tiny", solutions_dir=solutions)
    released = nbformat.read(course.path("release", ".", "tiny") / "tiny.ipynb", 4)
    stub = next(c.source for c in released.cells if nbgrader_meta(c)["grade_id"] == "explain")
    solved = {
        "add_channel_axis": "import numpy as np\n\n\ndef add_channel_axis(images):\n"
        "    return images[..., np.newaxis]\n"
    }
    with course.gradebook() as gb:
        gb.update_or_create_assignment("tiny", duedate=f"{DUE} UTC")
        for student in ("same", "blanked"):  # graded before, the answer graded by hand
            graded = {"test_add_channel_axis": (1, None, False), "explain": (None, 1.5, False)}
            submit(gb, "tiny", student, graded)
            earlier = course.path("autograded", student, "tiny")
            earlier.mkdir(parents=True)
            nbformat.write(filled(released, explain=ANSWER, **solved), earlier / "tiny.ipynb")
    hand_in(course, "same", filled(released, explain=ANSWER, **solved), "2024-03-01 10:00:00")
    hand_in(course, "blanked", filled(released, explain=stub, **solved), "2024-03-01 10:00:00")
    hand_in(course, "lou", filled(released, explain=stub, **solved), "2024-03-01 15:00:00")
    outcomes = autograde(course, ["tiny"], settings=Settings(timeout=10))
    assert all(o.ok for o in outcomes), [o.problems for o in outcomes]

    with course.gradebook() as gb:
        same = gb.find_grade("explain", "tiny", "tiny", "same")
        assert (same.manual_score, same.needs_manual_grade) == (1.5, False)
        blanked = gb.find_grade("explain", "tiny", "tiny", "blanked")
        assert (blanked.auto_score, blanked.manual_score, blanked.needs_manual_grade) == (
            0,
            1.5,
            True,
        )
        assert gb.find_submission("tiny", "lou").late_submission_penalty == 1
    table = status_table(course).set_index("student")
    assert table.loc["same", "status"] == GRADED and table.loc["same", "score"] == 2.5
    assert table.loc["blanked", "status"] == STALE
    assert table.loc["blanked", "stale_cells"] == "tiny/explain"
    late = table.loc["lou"]
    assert (late["status"], late["late_seconds"], late["penalty"], late["score"]) == (
        GRADED,
        3 * 3600,
        1,
        0,
    )
    log = events.read(course)
    stale = log[log["kind"] == "stale manual grade"]
    assert list(stale["student"]) == ["blanked"] and list(stale["step"]) == ["record"]
    assert "tiny/explain" in stale["detail"].iloc[0] and "1.5 of 2" in stale["detail"].iloc[0]

    roster = roster_of(
        [(s, s.title(), "Test", f"{s}@example.edu", str(i)) for i, s in enumerate(table.index)]
    )
    plain = pd.read_csv(export_csv(course, roster=roster), keep_default_na=False, dtype=str)
    plain = plain.set_index("student_id")
    assert (plain.loc["same", "tiny status"], plain.loc["same", "tiny"]) == (GRADED, "2.5")
    assert plain.loc["blanked", "tiny status"] == STALE
    assert plain.loc["lou", "tiny status"] == f"{GRADED}; late 3.0 h, penalty 1"
    assert plain.loc["lou", "tiny"] == "0"
    moodle_path, _ = export(course, "moodle", roster=roster)
    moodle = {row[2]: row for row in read_rows(moodle_path)[1:]}
    assert moodle["same@example.edu"][3:5] == ["2.5", ""]
    assert moodle["blanked@example.edu"][3] == "-"
    assert moodle["lou@example.edu"][3:5] == ["0", "late 3.0 h, penalty 1"]
    canvas_path, notes = export(course, "canvas", roster=roster)
    canvas = {row[0]: row[5] for row in read_rows(canvas_path)[2:]}
    assert canvas == {"Test, Same": "2.5", "Test, Blanked": "", "Test, Lou": "0"}
    assert "tiny: lou late 3.0 h, penalty 1" in notes
    assert "tiny: stale manual grade, no grade exported: blanked" in notes
