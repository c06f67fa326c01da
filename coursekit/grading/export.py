"""Grades out of nbgrader's gradebook: one row per student, one column per notebook.

``grade_table`` is also what the report is drawn from: one row per (student, assignment,
notebook, question) with its score and points.
"""

import pandas as pd


def grade_table(course):
    """Every recorded grade: columns student, assignment, notebook, question, score, points."""
    rows = []
    with course.gradebook() as gb:
        for assignment in gb.assignments:
            for submission in assignment.submissions:
                for notebook in submission.notebooks:
                    for grade in notebook.grades:
                        rows.append(
                            {
                                "student": submission.student.id,
                                "assignment": assignment.name,
                                "notebook": notebook.name,
                                "question": grade.name,
                                "score": float(grade.score),
                                "points": float(grade.max_score),
                            }
                        )
    columns = ["student", "assignment", "notebook", "question", "score", "points"]
    return pd.DataFrame(rows, columns=columns)


def students_table(course):
    """The students in the gradebook: id, first_name, last_name, email."""
    with course.gradebook() as gb:
        rows = [
            {
                "id": s.id,
                "first_name": s.first_name or "",
                "last_name": s.last_name or "",
                "email": s.email or "",
            }
            for s in gb.students
        ]
    return pd.DataFrame(rows, columns=["id", "first_name", "last_name", "email"])


def grades_by_student(course):
    """One row per student, a column per assignment (0 when not submitted), total and max."""
    with course.gradebook() as gb:
        maxima = {a.name: float(a.max_score) for a in gb.assignments}
    grades = grade_table(course)
    scores = grades.pivot_table(
        index="student", columns="assignment", values="score", aggfunc="sum"
    ).reindex(columns=sorted(maxima))
    table = (
        students_table(course).set_index("id").join(scores).fillna({name: 0.0 for name in maxima})
    )
    table["total"] = table[sorted(maxima)].sum(axis=1)
    table["max"] = sum(maxima.values())
    table.index.name = "student_id"
    return table.reset_index().sort_values("student_id", key=lambda s: s.str.casefold())


def export_csv(course, path=None):
    """Write ``grades_by_student`` as CSV (UTF-8); return the path."""
    path = path or course.root / "reports" / "grades.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    grades_by_student(course).to_csv(path, index=False, float_format="%g")
    return path
