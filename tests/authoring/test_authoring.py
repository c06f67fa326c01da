"""The authoring pipeline: solutions/ builds notebooks/, and the course check catches mistakes."""

import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from pixelschool_admin.authoring.build import generate_student_versions
from pixelschool_admin.authoring.lint import (
    check_course,
    leak_problems,
    metadata_problems,
    sync_problems,
)
from pixelschool_admin.authoring.notebooks import NotebookError, read_notebook
from pixelschool_admin.paths import NOTEBOOKS_DIR, REPO_ROOT, SOLUTIONS_DIR

NOTEBOOK = "01_data_preparation.ipynb"


@pytest.fixture
def course(tmp_path):
    """A copy of solutions/ and notebooks/ that a test may break."""
    shutil.copytree(SOLUTIONS_DIR, tmp_path / "solutions")
    shutil.copytree(NOTEBOOKS_DIR, tmp_path / "notebooks")
    return tmp_path / "solutions", tmp_path / "notebooks"


def edit(path, change):
    nb = nbformat.read(path, as_version=4)
    change(nb)
    nbformat.write(nb, path)


def cell(nb, grade_id):
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def snapshot(*folders):
    """``{path: (bytes, mtime)}`` of every file under ``folders`` (caches and what an
    install builds left out)."""
    return {
        path: (path.read_bytes(), path.stat().st_mtime_ns)
        for folder in folders
        for path in sorted(Path(folder).rglob("*"))
        if path.is_file()
        and not {"__pycache__", "build"} & set(path.parts)
        and ".egg-info" not in str(path)
    }


def test_committed_course_is_clean_and_in_sync(tmp_path):
    """The course check finds nothing, run as the demo's first step runs it, and that step
    builds into the demo's own folder: ``make demo`` modifies no file of the repository."""
    from pixelschool_admin.demo import build_and_check

    folders = [NOTEBOOKS_DIR, SOLUTIONS_DIR, REPO_ROOT / "pixelschool", REPO_ROOT / "admin"]
    before = snapshot(*folders)
    assert build_and_check(tmp_path) == []
    assert snapshot(*folders) == before
    built = sorted(p.name for p in (tmp_path / "notebooks").glob("*.ipynb"))
    assert built == sorted(p.name for p in NOTEBOOKS_DIR.glob("*.ipynb"))


def test_cli_check_passes_on_the_committed_course():
    done = subprocess.run(
        [sys.executable, "-m", "pixelschool_admin", "check"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "0 problem(s)" in done.stdout


def test_student_notebooks_keep_stubs_not_solutions():
    student = read_notebook(NOTEBOOKS_DIR / NOTEBOOK)
    text = "\n".join(c.source for c in student.cells)
    assert "raise NotImplementedError()" in text
    assert "BEGIN SOLUTION" not in text and "BEGIN HIDDEN TESTS" not in text
    assert all(not c.get("outputs") for c in student.cells if c.cell_type == "code")


def test_edited_solution_makes_notebooks_out_of_date(course):
    solutions, notebooks = course
    edit(
        solutions / NOTEBOOK, lambda nb: nb.cells[0].update(source=nb.cells[0].source + "\n\nNew.")
    )
    assert sync_problems(solutions, notebooks) == [
        f"{notebooks}/{NOTEBOOK} is out of date: run `make build`."
    ]


def test_student_notebook_without_source_is_reported(course):
    solutions, notebooks = course
    shutil.copy(notebooks / NOTEBOOK, notebooks / "99_orphan.ipynb")
    assert any("99_orphan.ipynb has no source" in p for p in sync_problems(solutions, notebooks))


def test_leaked_solution_line_is_found(course):
    solutions, notebooks = course
    edit(
        notebooks / NOTEBOOK,
        lambda nb: cell(nb, "one_hot").update(
            source="return np.eye(number_classes, dtype=np.float32)[vector]"
        ),
    )
    problems = leak_problems(
        read_notebook(solutions / NOTEBOOK), read_notebook(notebooks / NOTEBOOK), NOTEBOOK
    )
    assert len(problems) == 1 and "shows hidden text" in problems[0]


def test_leaked_hidden_test_is_found(course):
    solutions, notebooks = course
    hidden = "tests.test_one_hot(one_hot, seed=505)"
    edit(notebooks / NOTEBOOK, lambda nb: cell(nb, "test_one_hot").update(source=hidden))
    assert any(hidden in p for p in check_course(solutions, notebooks))


@pytest.mark.parametrize(
    "change, problem",
    [
        (
            lambda nb: cell(nb, "test_one_hot").metadata.nbgrader.pop("points"),
            "graded cell without points",
        ),
        (
            lambda nb: cell(nb, "test_one_hot").metadata.nbgrader.update(points=0),
            "graded cell without points",
        ),
        (
            lambda nb: cell(nb, "test_one_hot").metadata.nbgrader.pop("grade_id"),
            "without a grade_id",
        ),
        (
            lambda nb: cell(nb, "test_one_hot").metadata.nbgrader.update(grade_id="one_hot"),
            "used by 2 cells",
        ),
        (
            lambda nb: cell(nb, "one_hot").update(source="def one_hot(v, n):\n    return 0"),
            "without solution markers",
        ),
        (
            lambda nb: cell(nb, "one_hot").update(source="### BEGIN SOLUTION\nx = 1"),
            "do not pair up",
        ),
        (lambda nb: cell(nb, "one_hot").metadata.pop("nbgrader"), "no nbgrader metadata"),
        (
            lambda nb: nb.cells.remove(cell(nb, "check_one_hot")),
            "`one_hot` has no visible check cell",
        ),
        (lambda nb: nb.cells.remove(cell(nb, "test_one_hot")), "`one_hot` has no graded test cell"),
        (
            lambda nb: cell(nb, "setup").update(
                outputs=[nbformat.v4.new_output("stream", name="stdout", text="hi")]
            ),
            "has outputs",
        ),
    ],
    ids=[
        "no-points",
        "zero-points",
        "no-id",
        "duplicate-id",
        "no-markers",
        "unpaired-markers",
        "markers-without-metadata",
        "no-visible-check",
        "no-graded-test",
        "outputs-committed",
    ],
)
def test_metadata_mistakes_are_named(course, change, problem):
    solutions, _ = course
    edit(solutions / NOTEBOOK, change)
    problems = metadata_problems(solutions / NOTEBOOK, read_notebook(solutions / NOTEBOOK))
    assert any(problem in p for p in problems), problems


def test_corrupt_solution_is_named_and_nothing_is_overwritten(course, tmp_path):
    solutions, notebooks = course
    (solutions / NOTEBOOK).write_text('{"cells": [', encoding="utf-8")
    before = (notebooks / NOTEBOOK).read_bytes()
    with pytest.raises(NotebookError, match=f"{NOTEBOOK} is not a valid notebook"):
        generate_student_versions(solutions, notebooks)
    assert (notebooks / NOTEBOOK).read_bytes() == before
    assert any("is not a valid notebook" in p for p in check_course(solutions, notebooks))


def test_build_writes_every_solution(tmp_path):
    written = generate_student_versions(SOLUTIONS_DIR, tmp_path)
    assert sorted(p.name for p in written) == sorted(p.name for p in SOLUTIONS_DIR.glob("*.ipynb"))


def test_rebuild_keeps_a_copy_of_student_work(course):
    solutions, notebooks = course
    answered = "def one_hot(vector, number_classes):\n    return my_answer"
    edit(notebooks / NOTEBOOK, lambda nb: cell(nb, "one_hot").update(source=answered))
    generate_student_versions(solutions, notebooks)
    backups = list(notebooks.glob("01_data_preparation.*.ipynb.bak"))
    assert len(backups) == 1 and "my_answer" in backups[0].read_text()
    assert "my_answer" not in (notebooks / NOTEBOOK).read_text()


def test_rebuild_of_untouched_notebooks_makes_no_copies(course):
    solutions, notebooks = course
    generate_student_versions(solutions, notebooks)
    assert not list(notebooks.glob("*.bak"))


# --- recorded expectations -------------------------------------------------------------


def copy_recordings(tmp_path):
    from pixelschool.checks.recordings import PACKAGE_DIR
    from pixelschool_admin.authoring.record import HIDDEN_DIR

    package, hidden = tmp_path / "package", tmp_path / "hidden"
    shutil.copytree(PACKAGE_DIR, package)
    shutil.copytree(HIDDEN_DIR, hidden)
    return package, hidden


def test_the_committed_recordings_are_current(tmp_path):
    from pixelschool_admin.authoring.record import stale_recordings

    assert stale_recordings(*copy_recordings(tmp_path)) == []


def test_a_changed_missing_or_misplaced_recording_is_found(tmp_path):
    from pixelschool.checks import recordings
    from pixelschool_admin.authoring.record import stale_recordings

    package, hidden = copy_recordings(tmp_path)
    seeds = recordings.read(package / "conv_output_size.npz")
    seeds[0][0].expected += 1  # the solution's result, changed
    recordings.write(package / "conv_output_size.npz", seeds)
    recordings.write(package / "gone.npz", {0: []})
    hidden_seeds = recordings.read(hidden / "conv_output_size.npz")
    (hidden / "conv_output_size.npz").unlink()
    recordings.write(package / "conv_output_size_extra.npz", hidden_seeds)
    problems = "\n".join(stale_recordings(package, hidden))
    assert "package/conv_output_size.npz is stale" in problems
    assert "gone.npz belongs to no recorded check" in problems
    assert "conv_output_size.npz: no recording in" in problems
    assert "conv_output_size_extra.npz in the student runtime holds a seed" in problems


def test_a_graded_cell_holds_only_seeded_calls(tmp_path):
    from pixelschool_admin.authoring.lint import hidden_test_problems

    nb = nbformat.v4.new_notebook()
    meta = {"grade": True, "solution": False, "locked": True, "points": 1, "grade_id": "t"}
    source = (
        "### BEGIN HIDDEN TESTS\ntests.test_conv_output_size(conv_output_size, seed=646)\n"
        "assert conv_output_size(28, 3) == 26\n### END HIDDEN TESTS"
    )
    nb.cells = [nbformat.v4.new_code_cell(source, metadata={"nbgrader": meta})]
    [problem] = hidden_test_problems(tmp_path / "nb.ipynb", nb)
    assert "assert conv_output_size(28, 3) == 26" in problem
    nb.cells[0].source = "tests.test_conv_output_size(conv_output_size, seed=0)"
    [problem] = hidden_test_problems(tmp_path / "nb.ipynb", nb)
    assert "visible seed" in problem


# --- make build writes only what changed; the demo writes nothing of the repository ------


def test_rebuilding_current_notebooks_writes_nothing(course):
    solutions, notebooks = course
    before = snapshot(notebooks)
    assert generate_student_versions(solutions, notebooks) == []
    assert snapshot(notebooks) == before


def test_recording_again_writes_nothing_also_after_round_off(tmp_path):
    from pixelschool.checks import recordings
    from pixelschool_admin.authoring.record import write_recordings
    from tests.roundoff import nudge

    package, hidden = copy_recordings(tmp_path)
    before = snapshot(package, hidden)
    assert write_recordings(package_dir=package, hidden_dir=hidden) == []
    assert snapshot(package, hidden) == before
    # issue 21: on an AMD EPYC, b2 of train_mlp's first case summed to 2.8e-17, not 5.6e-17
    # (weights of 1 beside it), and every float moved a few ULPs
    for path in (package / "train_mlp.npz", hidden / "train_mlp.npz"):
        seeds = recordings.read(path)
        for cases in seeds.values():
            cases[0].expected[3][...] *= 0.5
            for case in cases:
                case.expected = nudge(case.expected, 1)
                case.mistakes = [(mistake, nudge(result, 2)) for mistake, result in case.mistakes]
        recordings.write(path, seeds)
    before = snapshot(package, hidden)
    assert write_recordings(["train_mlp"], package, hidden) == []
    assert snapshot(package, hidden) == before


def test_a_real_change_to_a_recording_is_stale_and_rewritten(tmp_path):
    from pixelschool.checks import recordings
    from pixelschool_admin.authoring.record import stale_recordings, write_recordings

    package, hidden = copy_recordings(tmp_path)
    changes = {
        "train_mlp.npz": lambda case: case.expected[0].__imul__(1 + 1e-6),  # float64 weights
        "normalise_images.npz": lambda case: case.expected.__imul__(1 + 1e-4),  # float32
        "softmax.npz": lambda case: case.mistakes.append(("new", case.expected * (1 + 1e-6))),
    }
    for name, change in changes.items():
        seeds = recordings.read(package / name)
        change(seeds[0][1])
        recordings.write(package / name, seeds)
    problems = stale_recordings(package, hidden)
    assert sorted(problems) == sorted(f"package/{n} is stale; run `make build`" for n in changes)
    written = write_recordings(
        ["train_mlp", "normalise_images", "softmax"], package_dir=package, hidden_dir=hidden
    )
    assert sorted(p.name for p in written) == sorted(changes)
    assert stale_recordings(package, hidden) == []


def test_a_mistake_that_is_the_expected_result_up_to_round_off_is_no_change(tmp_path):
    from pixelschool.checks import recordings
    from pixelschool_admin.authoring.record import stale_recordings
    from tests.roundoff import nudge

    package, hidden = copy_recordings(tmp_path)
    seeds = recordings.read(package / "softmax.npz")
    case = seeds[0][1]
    case.mistakes.append(("no difference here", nudge(case.expected, 3)))
    recordings.write(package / "softmax.npz", seeds)
    assert stale_recordings(package, hidden) == []
