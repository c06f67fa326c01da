"""The instructor's commands, end to end."""

import subprocess
import sys
import zipfile

import pandas as pd

from pixelschool_admin.grading.course import Course
from pixelschool_admin.paths import REPO_ROOT


def test_cli_release_collect_grade_export(tmp_path):
    """The commands an instructor types, on notebook 01 with one LMS submission."""
    course_dir = tmp_path / "course"
    run = [sys.executable, "-m", "pixelschool_admin"]

    def cli(*args):
        result = subprocess.run(run + list(args), capture_output=True, text=True, cwd=REPO_ROOT)
        assert result.returncode == 0, result.stderr
        return result.stdout

    assert "released 01_data_preparation" in cli(
        "release", "--course", str(course_dir), "01_data_preparation"
    )
    config = course_dir / "nbgrader_config.py"
    with config.open("a") as instructor:  # the instructor's own lines: never rewritten
        instructor.write("c.ClusterGrading.jobqueue = {'queue': 'gpu'}  # mine\n")
    mine = config.read_text()
    released = course_dir / "release" / "01_data_preparation" / "01_data_preparation.ipynb"
    roster = tmp_path / "roster.csv"
    roster.write_text("id,first_name,last_name,email,lms_id\nkim,Kim,Lee,,12\n")
    archive = tmp_path / "all.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.write(released, "Kim Lee_12_assignsubmission_file_/01_data_preparation.ipynb")
    args = ["--course", str(course_dir)]
    assert "collected 1" in cli(
        "collect", *args, "--zip", str(archive), "--roster", str(roster), "01_data_preparation"
    )
    assert "graded 1 of 1" in cli("autograde", *args, "--timeout", "60")
    assert "1 feedback pages" in cli("feedback", *args)
    cli("export", *args)
    grades = pd.read_csv(course_dir / "reports" / "grades.csv")
    assert grades.loc[0, "student_id"] == "kim" and grades.loc[0, "total"] == 0
    assert "report.html" in cli("report", *args)
    assert config.read_text() == mine
    assert Course(course_dir).config.ClusterGrading.jobqueue == {"queue": "gpu"}
