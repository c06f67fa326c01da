"""The canary: a broken grading environment stops the batch with its real cause, before any
student is touched, though students run beside the canaries (one on each node); a venv
reached through a symlink grades like any other."""

import hashlib
import os
import subprocess
import sys
from pathlib import Path
from unittest.mock import patch

import pytest

from pixelschool_admin import cli
from pixelschool_admin.grading.course import GradingError
from pixelschool_admin.grading.record import autograde as grading_autograde
from pixelschool_admin.grading.record.autograde import ClassRun, Recorder, autograde, plan
from pixelschool_admin.grading.record.ledger import Ledger
from pixelschool_admin.grading.results.export import grade_table
from pixelschool_admin.grading.sandbox.bubblewrap import sandbox_problem
from pixelschool_admin.grading.settings import MIB, Limits, Settings
from pixelschool_admin.grading.worker.task import Outcome
from pixelschool_admin.paths import REPO_ROOT
from tests.classroom import SOLVED, filled, hand_in, tiny_course

pytestmark = pytest.mark.xdist_group("canary")


def digest(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def snapshot(root):
    """{relative path: sha256} of every file under ``root``."""
    return {
        str(p.relative_to(root)): digest(p) for p in sorted(Path(root).rglob("*")) if p.is_file()
    }


@pytest.fixture
def course(tmp_path):
    course, released = tiny_course(tmp_path)
    hand_in(course, "tiny", "ana", filled(released, **SOLVED))
    hand_in(course, "tiny", "bo", "not json")
    return course


def assert_untouched(course, before):
    after = snapshot(course.root)
    ignored = ("reports/", ".autograde.lock")
    assert {k: v for k, v in after.items() if not k.startswith(ignored)} == before
    assert not (course.root / ".executed").exists()
    assert not list(course.root.glob("autograded/*"))


def test_a_kernel_that_cannot_start_stops_the_batch(course):
    before = snapshot(course.root)
    tiny = Settings(timeout=10, limits=Limits(memory=48 * MIB))  # too small for Python
    with pytest.raises(GradingError) as caught:
        autograde(course, jobs=1, settings=tiny, log=lambda *a: None)
    message = str(caught.value)
    assert "no student was graded" in message and "tiny on " in message
    assert "kernel" in message  # the real cause, not "see the above traceback"
    assert_untouched(course, before)  # not even the unreadable notebook was renamed


@pytest.mark.skipif(bool(sandbox_problem()), reason=str(sandbox_problem()))
def test_a_path_missing_in_the_sandbox_is_named(course):
    before = snapshot(course.root)
    broken = Settings(timeout=10, keras_home="/nonexistent/keras-home")
    with pytest.raises(GradingError, match="/nonexistent/keras-home"):
        autograde(course, jobs=1, settings=broken, log=lambda *a: None)
    assert_untouched(course, before)


def test_a_venv_reached_through_a_symlink_grades(course, tmp_path):
    link = tmp_path / "venv-link"
    link.symlink_to(Path(sys.prefix))
    python = link / "bin" / Path(sys.executable).name
    env = {**os.environ, "PATH": f"{link / 'bin'}:{os.environ['PATH']}"}
    result = subprocess.run(
        [str(python), "-m", "pixelschool_admin", "autograde", "--course", str(course.root)]
        + ["--timeout", "30", "--jobs", "1"],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env=env,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    scores = grade_table(course).groupby("student")["score"].sum()
    assert scores["ana"] == 3 and scores["bo"] == 0


class ScriptedGrid:
    """An engine whose tasks finish in a set order: the students first, then the canaries,
    each canary passing unless its host is in ``failing``."""

    local = True

    def __init__(self, hosts, failing=()):
        self.hosts_, self.failing, self.sent = hosts, set(failing), []

    def hosts(self):
        return self.hosts_

    def bundle(self, name, make):
        return f"future of {name}"  # as the engine's: make() only when not sent yet

    def run(self, tasks, bundles, settings, desc=""):
        self.sent = [(task, bundles(task.assignment)) for task in tasks]
        for task in sorted(tasks, key=lambda t: t.canary):
            outcome = Outcome(task.assignment, task.student, ok=True, host=task.host or "")
            if task.canary and task.host in self.failing:
                outcome.ok, outcome.problems = False, ["its dataset is missing on this node"]
            yield task, outcome


def class_run(course, grid, recorded):
    todo, _ = plan(course, Ledger(course), [("tiny", "ana")], Settings(), True)
    return ClassRun(course, grid, Settings(), Ledger(course), todo, {}, recorded.append)


def test_students_who_finish_before_the_canaries_wait_for_every_node(course):
    grid, recorded = ScriptedGrid(["node-a", "node-b"]), []
    with patch.object(Recorder, "record", lambda self, outcome: None):
        class_run(course, grid, recorded).grade()
    assert [(t.canary, t.host) for t, _ in grid.sent[:2]] == [(True, "node-a"), (True, "node-b")]
    assert [o.student for o in recorded] == ["ana"]


def test_each_assignment_bundle_is_made_once_not_per_task(course, monkeypatch):
    """Making a bundle copies the gradebook: once per run, however many tasks."""
    made = []
    monkeypatch.setattr(grading_autograde, "make_bundle", lambda c, name: made.append(name))
    grid = ScriptedGrid(["node-a", "node-b"])
    with patch.object(Recorder, "record", lambda self, outcome: None):
        class_run(course, grid, []).grade()
    assert len(grid.sent) == 3 and made == ["tiny"]


def test_a_canary_failing_on_one_node_records_no_student_who_already_ran(course):
    grid, recorded = ScriptedGrid(["node-a", "node-b"], failing=["node-b"]), []
    with pytest.raises(GradingError, match="tiny on node-b: its dataset is missing"):
        class_run(course, grid, recorded).grade()
    assert recorded == []


def test_datasets_flag_gives_every_node_one_path(tmp_path, monkeypatch):
    """``--datasets DIR`` reaches the workers as an absolute path (the same on every node);
    without it each worker uses its own Keras cache (``Settings.keras_home`` None)."""
    seen = []
    monkeypatch.setattr(grading_autograde, "autograde", lambda *a, **k: seen.append(a[4]) or [])
    monkeypatch.chdir(tmp_path)
    for extra in (["--datasets", "keras"], []):
        assert cli.main(["autograde", "--course", str(tmp_path / "c"), *extra]) == 0
    assert [s.keras_home for s in seen] == [str(tmp_path / "keras"), None]
