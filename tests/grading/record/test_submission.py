"""A submission read once when autograde plans: keyed, checked and sent from that one read."""

import nbformat

from pixelschool_admin.grading.events import read
from pixelschool_admin.grading.record.autograde import ClassRun, plan, scan_integrity
from pixelschool_admin.grading.record.ledger import Ledger, key
from pixelschool_admin.grading.record.submission import UNREADABLE_SUFFIX, key_files
from pixelschool_admin.grading.settings import Settings
from pixelschool_admin.grading.worker.task import read_files
from tests.classroom import SOLVED, filled, hand_in, tiny_course


def planned(course, *students):
    todo, _ = plan(course, Ledger(course), [("tiny", s) for s in students], Settings(), True)
    return todo


def test_what_a_worker_gets_is_what_was_keyed_though_the_folder_changes(tmp_path):
    course, released = tiny_course(tmp_path)
    hand_in(course, "tiny", "ana", filled(released, **SOLVED))
    submission = planned(course, "ana")[("tiny", "ana")]
    folder = course.path("submitted", "ana", "tiny")
    read_then = read_files(folder)
    # the student's file is swapped after the plan (a second hand-in, or a race)
    (folder / "tiny.ipynb").write_text(nbformat.writes(released))
    run = ClassRun(course, None, Settings(), Ledger(course), {("tiny", "ana"): submission}, {})
    (task,) = run.student_tasks()
    assert task.files == read_then != read_files(folder)
    assert submission.key == key(key_files(read_then), read_files(course.root / "source" / "tiny"),
                                 Settings(), None)  # fmt: skip


def test_unreadable_notebooks_are_found_in_the_bytes_and_sent_set_aside(tmp_path):
    course, released = tiny_course(tmp_path)
    hand_in(course, "tiny", "bo", filled(released, **SOLVED))
    (course.path("submitted", "bo", "tiny") / "tiny.ipynb").write_text("{ not json")
    submission = planned(course, "bo")[("tiny", "bo")]
    assert submission.unreadable == {"tiny.ipynb": "not a readable notebook"}
    assert set(submission.worker_files()) >= {"tiny.ipynb" + UNREADABLE_SUFFIX}
    assert submission.problems() == ["tiny.ipynb: not a readable notebook, graded as missing"]
    submission.set_aside()  # in submitted/, once the canaries passed: the key stays
    again = planned(course, "bo")[("tiny", "bo")]
    assert again.key == submission.key
    assert again.problems() == [
        "tiny.ipynb: set aside by an earlier run (not a readable notebook, or too big), "
        "graded as missing"
    ]


def test_the_tamper_scan_runs_on_the_planned_bytes_and_keeps_other_students(tmp_path):
    course, released = tiny_course(tmp_path)
    tampered = SOLVED["one_hot"] + "\nimport builtins\nbuiltins.print = None\n"
    hand_in(course, "tiny", "cy", filled(released, **{**SOLVED, "one_hot": tampered}))
    hand_in(course, "tiny", "dee", filled(released, **SOLVED))
    scan_integrity(course, planned(course, "cy", "dee"))
    found = read(course)
    assert set(found["step"]) == {"integrity"} and set(found["student"]) == {"cy"}
    assert "builtins" in found["detail"].iloc[0]
    # a later run that plans only dee keeps cy's findings
    scan_integrity(course, planned(course, "dee"))
    assert list(read(course)["student"]) == ["cy"]
