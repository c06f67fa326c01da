"""The class roster: who the students are, and their LMS ids."""

import pytest

from pixelschool_admin.grading.course import GradingError
from pixelschool_admin.grading.intake.roster import Roster


def test_roster_errors_are_clear(tmp_path):

    (tmp_path / "r.csv").write_text("id,first_name\na,A\na,B\n")
    with pytest.raises(GradingError, match="repeated student ids"):
        Roster.read(tmp_path / "r.csv")
    with pytest.raises(GradingError, match="roster.example.csv"):
        Roster.read(tmp_path / "missing.csv")
