"""Manual grades across a regrade: kept where the answer is the same, flagged where it changed."""

import nbformat

from pixelschool_admin.grading.record import manual
from pixelschool_admin.grading.results.export import (
    GRADED,
    status_table,
)
from tests.grading.results.test_export import answer_cell, build_class


def test_settle_keeps_unchanged_and_flags_changed_answers(tmp_path):
    """``snapshot``/``settle`` on hand-made autograded notebooks (no kernel)."""
    course, *_ = build_class(tmp_path, "none")
    folder = course.path("autograded", "ann", "hw")
    folder.mkdir(parents=True)
    nb = nbformat.v4.new_notebook()
    nb.cells = [answer_cell("Because it is.", "essay", 3)]
    nbformat.write(nb, folder / "hw.ipynb")
    before = manual.snapshot(course, "hw", "ann")
    assert before == {("hw", "essay"): manual.Graded(3.0, 3.0, "Because it is.")}
    with course.gradebook() as gb:
        gb.find_grade("essay", "hw", "hw", "ann").needs_manual_grade = True  # as nbgrader does
        gb.db.commit()
    assert manual.settle(course, "hw", "ann", before) == []
    nb.cells[0].source = "YOUR ANSWER HERE"
    nbformat.write(nb, folder / "hw.ipynb")
    [event] = manual.settle(course, "hw", "ann", before)
    assert event.kind == "stale manual grade" and event.student == "ann"
    assert "hw/essay" in event.detail and "3 of 3" in event.detail
    with course.gradebook() as gb:
        grade = gb.find_grade("essay", "hw", "hw", "ann")
        assert grade.manual_score == 3 and grade.needs_manual_grade
    # Recorded again, answer as it now is: still stale until a grader looks again.
    [event] = manual.settle(course, "hw", "ann", manual.snapshot(course, "hw", "ann"))
    assert "not graded again" in event.detail
    with course.gradebook() as gb:  # the grader saves a score in formgrader
        grade = gb.find_grade("essay", "hw", "hw", "ann")
        grade.manual_score, grade.needs_manual_grade = 0, False
        gb.db.commit()
    assert manual.settle(course, "hw", "ann", manual.snapshot(course, "hw", "ann")) == []
    assert (
        status_table(course).set_index(["student", "assignment"]).loc[("ann", "hw"), "status"]
        == GRADED
    )
    # No graded notebook before (first grading): nothing to compare with, so it stays flagged.
    [event] = manual.settle(course, "hw", "cat", manual.snapshot(course, "hw", "cat"))
    assert "no earlier graded notebook" in event.detail
