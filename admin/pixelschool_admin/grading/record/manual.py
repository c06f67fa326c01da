"""Manual grades across a regrade: kept where the answer is the same, flagged where it changed.

nbgrader's ``SaveAutoGrades`` sets ``needs_manual_grade`` on every grade that has a manual
score each time a submission is recorded, so after any autograde every hand-graded cell asks
for a look again, and a resubmitted (even blanked) answer silently keeps its old points.
Around each recording, ``snapshot`` notes each manual score and the answer the grader saw
(in the previously autograded notebook); ``settle`` then clears the flag where that answer
is unchanged and leaves it set, with a "stale manual grade" event, where it changed. A grade
already stale stays so (with its event) at every recording until a grader saves it again.

In the gradebook a grade is therefore *stale* exactly when it has a manual score and still
needs a manual grade; a grader who saves a score in formgrader clears the flag.
"""

from dataclasses import dataclass

from nbgrader.api import MissingEntry

from pixelschool_admin.authoring.notebooks import cell_grade_id, nbgrader_meta, readable_notebooks
from pixelschool_admin.grading.events import Event

NO_CELL = "\0absent"  # the graded cell is not in the notebook (deleted, or no notebook)


@dataclass(frozen=True)
class Graded:
    """A grade given by hand and the answer it was given for (None: not known)."""

    manual_score: float
    max_score: float
    answer: str | None
    stale: bool = False  # already flagged before this recording: not regraded since


def _notebook(course, assignment, student, name):
    path = course.path("autograded", student, assignment) / f"{name}.ipynb"
    return next((nb for _, nb in readable_notebooks([path])), None)


def answer(nb, grade_id):
    """What the grade of ``grade_id`` judges in ``nb``: the cell itself for a written or
    code answer graded by hand; every answer in the notebook for a test or task cell."""
    if nb is None:
        return NO_CELL
    cells = {cell_grade_id(c): c for c in nb.cells}
    cell = cells.get(grade_id)
    if cell is None:
        return NO_CELL
    if nbgrader_meta(cell).get("solution"):
        return cell.source.strip()
    # Solution cells and the cells a student added (no nbgrader metadata).
    answers = [
        c.source.strip()
        for c in nb.cells
        if nbgrader_meta(c).get("solution") or not cell_grade_id(c)
    ]
    return "\n\0\n".join(answers)


def snapshot(course, assignment, student):
    """{(notebook, grade id): Graded} for the submission's grades that have a manual score.

    Call it just before the submission is recorded again.
    """
    kept = {}
    with course.gradebook() as gb:
        try:
            submission = gb.find_submission(assignment, student)
        except MissingEntry:
            return kept
        for notebook in submission.notebooks:
            graded = [g for g in notebook.grades if g.manual_score is not None]
            if not graded:
                continue
            nb = _notebook(course, assignment, student, notebook.name)
            for grade in graded:
                seen = None if nb is None else answer(nb, grade.name)
                kept[(notebook.name, grade.name)] = Graded(
                    float(grade.manual_score),
                    float(grade.max_score),
                    seen,
                    bool(grade.needs_manual_grade),
                )
    return kept


def settle(course, assignment, student, snapshot):
    """After recording: clear the flag where the answer is unchanged; return the stale ones.

    Returns one ``Event`` per manual grade whose answer changed (or cannot be compared, or
    that was stale already); those keep their score and ``needs_manual_grade`` until a
    grader looks at them.
    """
    events = []
    notebooks = {}
    with course.gradebook() as gb:
        for (name, grade_id), before in sorted(snapshot.items()):
            try:
                grade = gb.find_grade(grade_id, name, assignment, student)
            except MissingEntry:
                continue
            if grade.manual_score is None:
                continue
            if name not in notebooks:
                notebooks[name] = _notebook(course, assignment, student, name)
            now = answer(notebooks[name], grade_id)
            if before.answer is not None and now == before.answer and not before.stale:
                grade.needs_manual_grade = False
                continue
            grade.needs_manual_grade = True
            if before.stale and now == before.answer:
                why = "not graded again since its answer changed"
            elif before.answer is None:
                why = "no earlier graded notebook to compare the answer with"
            elif now == NO_CELL:
                why = "the answer is gone from the new submission"
            else:
                why = "the answer changed in the new submission"
            events.append(
                Event(
                    step="record",
                    assignment=assignment,
                    student=student,
                    kind="stale manual grade",
                    detail=f"{name}/{grade_id}: {why}; the manual grade "
                    f"{before.manual_score:g} of {before.max_score:g} is kept until a "
                    "grader looks again",
                )
            )
        gb.db.commit()
    return events
