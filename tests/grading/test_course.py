"""The course folder and its configuration."""

import pytest

from pixelschool_admin.grading.course import Course, GradingError


def test_the_course_config_is_the_instructors(tmp_path):
    """The kit's settings go to kit_config.py; the instructor's file is made once, given the
    line that loads the kit's settings if it lacks it, and replaced only when the kit wrote
    it whole (an earlier version)."""
    own = tmp_path / "own"
    own.mkdir()
    (own / "nbgrader_config.py").write_text("c = get_config()\nc.ClusterGrading.jobs = 3\n")
    course = Course(own)
    text = (own / "nbgrader_config.py").read_text().splitlines()
    assert text[0] == "c = get_config()" and text[2] == "c.ClusterGrading.jobs = 3"
    assert "kit_config.py" in text[1] and course.config.ClusterGrading.jobs == 3
    assert course.config.ExchangeFactory.collect.endswith("SafeCollect")
    earlier = tmp_path / "earlier"
    earlier.mkdir()
    (earlier / "nbgrader_config.py").write_text(
        "c = get_config()  # noqa: F821\nload_subconfig('/x/admin/nbgrader_config.py')\n"
        "c.CourseDirectory.root = '/x/course'\nc.Exchange.root = '/x/course/exchange'\n"
        # the module of an earlier kit, before grading/ was grouped by stage
        'c.ExchangeFactory.collect = "pixelschool_admin.grading.exchange.SafeCollect"\n'
        "from pixelschool_admin.grading.sanitise import page_config  # noqa: E402\n"
        "c.merge(page_config())  # noqa: F821\n"
    )
    Course(earlier)
    assert "/x/" not in (earlier / "nbgrader_config.py").read_text()
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "nbgrader_config.py").write_text("c = get_config()\nc.Execute.timeout = \n")
    with pytest.raises(GradingError, match="nbgrader_config.py"):
        Course(broken)
