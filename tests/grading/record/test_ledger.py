"""The ledger: what is graded already, keyed by everything a grade depends on."""

from pixelschool_admin.grading.record.ledger import grade_code_files, key
from pixelschool_admin.grading.record.submission import key_files
from pixelschool_admin.grading.settings import Settings
from pixelschool_admin.grading.worker.task import read_files
from pixelschool_admin.paths import REPO_ROOT

SETTINGS = Settings(timeout=10)


def test_the_ledger_key_sees_every_change_but_a_file_set_aside(tmp_path):
    (tmp_path / "x.ipynb").write_text("not json")
    source = {"x.ipynb": b"{}"}
    first = key(key_files(read_files(tmp_path)), source, SETTINGS)
    (tmp_path / "x.ipynb").rename(tmp_path / "x.ipynb.unreadable")  # what autograde does
    assert key(key_files(read_files(tmp_path)), source, SETTINGS) == first
    unprotected = Settings(timeout=10, limits=SETTINGS.limits, allow_unprotected=True)
    assert key(key_files(read_files(tmp_path)), source, unprotected) == first  # where, not what
    assert key(key_files(read_files(tmp_path)), {"x.ipynb": b"{ }"}, SETTINGS) != first
    assert key(key_files(read_files(tmp_path)), source, Settings(timeout=11)) != first
    assert key(key_files(read_files(tmp_path)), source, SETTINGS, duedate="2027-01-01") != first
    (tmp_path / "x.ipynb").write_text("{}")  # handed in again
    assert key(key_files(read_files(tmp_path)), source, SETTINGS) != first


def test_only_the_code_a_grade_is_computed_with_is_in_the_fingerprint():
    files = {path.relative_to(REPO_ROOT).as_posix() for path in grade_code_files()}
    admin = "admin/pixelschool_admin/grading"
    assert {f"{admin}/worker/task.py", f"{admin}/record/hidden.py", f"{admin}/settings.py"} <= files
    assert "pixelschool/checks/framework.py" in files and "pixelschool/pristine.py" in files
    # editing the report, the exports, the intake or the engine regrades nobody
    assert not [f for f in files if f.startswith((f"{admin}/intake", f"{admin}/cluster"))]
    assert f"{admin}/results/report.py" not in files and f"{admin}/results/export.py" not in files
