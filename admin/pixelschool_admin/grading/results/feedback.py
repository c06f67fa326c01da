"""Feedback for students: nbgrader's HTML of each graded notebook, with scores and comments."""

from pixelschool_admin.grading.errors import GradingError


def generate_feedback(course, assignment, student=None):
    """Write ``feedback/<student>/<assignment>/<notebook>.html`` (every student by default).

    Returns the HTML files of ``assignment``.
    """
    result = course.api.generate_feedback(assignment, student)
    if not result["success"]:
        raise GradingError(f"nbgrader could not write feedback for {assignment}: {result['log']}")
    return sorted(course.root.glob(f"feedback/*/{assignment}/*.html"))
