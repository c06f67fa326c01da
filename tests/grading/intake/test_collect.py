"""Collect under attack: crafted LMS zips, bad student ids at every entry point, hand-made
exchange folders. Each test checks what was collected, the event recorded, that
``gradebook.db`` is byte-identical and that nothing outside the course folder changed."""

import hashlib
import os
import re
import shutil
import struct
import zipfile
from contextlib import contextmanager

import nbformat
import pytest

from pixelschool_admin import cli
from pixelschool_admin.grading import events
from pixelschool_admin.grading.course import Course, GradingError
from pixelschool_admin.grading.intake import exchange, lms, names
from pixelschool_admin.grading.intake.roster import Roster
from pixelschool_admin.grading.results import report

T1, T2, T3 = (2024, 5, 1, 12, 0, 0), (2024, 5, 2, 12, 0, 0), (2024, 5, 3, 12, 0, 0)
ALICE = "Alice Anders_51001_assignsubmission_file_"
BOB = "Bob Brown_51002_assignsubmission_file_"
ROSTER_CSV = (
    "id,first_name,last_name,email,lms_id\n"
    "alice,Alice,Anders,,51001\nbob,Bob,Brown,,51002\nAna María López,Ana María,López,,41900\n"
)
STAMP = "2024-05-01 12:00:00.000000 UTC"


def roster():
    return Roster(
        [
            {"id": "alice", "first_name": "Alice", "last_name": "Anders", "lms_id": "51001"},
            {"id": "bob", "first_name": "Bob", "last_name": "Brown", "lms_id": "51002"},
        ]
    )


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """A course with one released one-cell assignment, ``tiny``; built once, copied per test."""
    course = Course(tmp_path_factory.mktemp("template") / "course")
    nb = nbformat.v4.new_notebook()
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    meta = {"grade": False, "solution": True, "locked": False, "grade_id": "double"}
    meta.update(schema_version=3, task=False)
    source = "def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION\n"
    nb.cells = [nbformat.v4.new_code_cell(source, metadata={"nbgrader": meta})]
    (course.root / "source" / "tiny").mkdir(parents=True)
    nbformat.write(nb, course.root / "source" / "tiny" / "tiny.ipynb")
    assert course.api.generate_assignment("tiny", force=True)["success"]
    assert course.api.release_assignment("tiny")["success"]
    with course.gradebook() as gb:
        gb.update_or_create_student("alice")
    return course.root


@pytest.fixture
def course(template, tmp_path):
    # Deep enough that ../../.. from submitted/<id>/<assignment>/ still lands inside tmp_path,
    # where the snapshot sees it.
    root = tmp_path / "home" / "prof" / "course"
    shutil.copytree(template, root, symlinks=True)
    return Course(root)


def tree(root, skip=None):
    """{relative path: content hash, 'dir' or link target} for everything under ``root``."""
    found = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(folder, name)
            if skip and (path == str(skip) or path.startswith(str(skip) + os.sep)):
                continue
            rel = os.path.relpath(path, root)
            if os.path.islink(path):
                found[rel] = ("link", os.readlink(path))
            elif os.path.isdir(path):
                found[rel] = "dir"
            else:
                with open(path, "rb") as f:
                    found[rel] = hashlib.sha256(f.read()).hexdigest()
    return found


@contextmanager
def contained(course, tmp_path, whole=False):
    """Nothing outside the course changes (nothing at all if ``whole``); the gradebook stays."""
    db = course.db_path.read_bytes()
    before = tree(tmp_path, None if whole else course.root)
    yield
    assert tree(tmp_path, None if whole else course.root) == before
    assert course.db_path.read_bytes() == db
    assert not list(course.root.glob(".collect-*")), "staging left behind"


def entry(name, data=b'{"nb": 1}', when=T1, mode=None):
    info = zipfile.ZipInfo(name, date_time=when)
    info.compress_type = zipfile.ZIP_DEFLATED
    if mode is not None:
        info.external_attr = mode << 16
    return info, data


def make_zip(path, *entries):
    with zipfile.ZipFile(path, "w") as z:
        for info, data in entries:
            z.writestr(info, data)
    return path


def collect_zip(course, tmp_path, *entries, name="all.zip", who=None, **caps):
    archive = make_zip(tmp_path / name, *entries)
    with contained(course, tmp_path):
        return lms.collect_lms_zip(course, archive, "tiny", who or roster(), **caps)


def recorded(course, kind, student=None):
    """Details of the recorded events of ``kind`` (for ``student``, if given)."""
    table = events.read(course)
    table = table[table["kind"] == kind]
    if student is not None:
        table = table[table["student"] == student]
    return list(table["detail"])


def submitted(course, student):
    return course.path("submitted", student, "tiny")


def submitted_ids(course):
    return sorted(p.name for p in (course.root / "submitted").iterdir())


# -- the id rule ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["Ana María López", "Søren Ødegård", "o'brien", "jane.doe@uni.edu", "李雷", "k-9_x"]
)
def test_ids_accept_names_of_any_script(text):
    assert names.student_id(text) == text


def test_ids_are_nfc():
    assert names.student_id("Zoe\u0308") == "Zo\u00eb"


@pytest.mark.parametrize(
    "text, reason",
    [
        ("", "empty"),
        ("..", "'..'"),
        ("../../etc", "path separator"),
        ("a/b", "path separator"),
        ("a\\b", "path separator"),
        ("C:evil", "':'"),
        ("a+b", "'+'"),
        (".hidden", "starts with a dot"),
        ("a..b", "'..'"),
        (" alice", "leading or trailing space"),
        ("a  b", "two spaces"),
        ("evil\u202etxt", "U+202E"),
        ("tab\there", "U+0009"),
        ("x" * 65, "longer than 64"),
        ("a*b", "not allowed"),
    ],
)
def test_ids_refuse_with_the_value_and_the_reason(text, reason):
    with pytest.raises(names.RefusedName, match=re.escape(reason)) as caught:
        names.student_id(text)
    assert repr(text) in str(caught.value) and isinstance(caught.value, GradingError)


@pytest.mark.parametrize("text", ["", ".", "..", ".DS_Store", "a/b", "a\\b", "C:", "a\x00b"])
def test_file_name_refuses_unsafe_parts(text):
    with pytest.raises(names.RefusedName):
        names.file_name(text)


def test_file_name_refuses_over_255_bytes():
    names.file_name("é" * 127)
    with pytest.raises(names.RefusedName, match="255 bytes"):
        names.file_name("é" * 128)


def test_safe_join_refuses_a_link_out(tmp_path):
    (tmp_path / "root").mkdir()
    (tmp_path / "root" / "out").symlink_to(tmp_path)
    assert names.safe_join(tmp_path / "root", "a", "b") == tmp_path / "root" / "a" / "b"
    with pytest.raises(names.RefusedName, match="outside"):
        names.safe_join(tmp_path / "root", "out", "x")
    with pytest.raises(names.RefusedName):
        names.safe_join(tmp_path / "root", "..", "x")


# -- bad ids through every entry point --------------------------------------------------------


def test_roster_file_refuses_a_bad_id_naming_the_line(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text(ROSTER_CSV + "../../gradebook,Eve,Evil,,51003\n")
    with pytest.raises(GradingError, match=r"line 5: student id '\.\./\.\./gradebook' refused"):
        Roster.read(path)


def test_roster_object_refuses_a_bad_id():
    with pytest.raises(GradingError, match="roster entry 1: student id 'a/b' refused"):
        Roster([{"id": "a/b", "first_name": "", "last_name": "", "lms_id": "1"}])


def test_roster_ids_are_nfc(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text(ROSTER_CSV.replace("María", "Mari\u0301a"), encoding="utf-8")
    assert "Ana María López" in [s["id"] for s in Roster.read(path).students]


def test_lms_folder_through_a_roster_with_a_bad_id_is_refused_at_read(course, tmp_path):
    bad = tmp_path / "roster.csv"
    bad.write_text(ROSTER_CSV + "x/../../../../evil,Eve,Evil,,51003\n")
    archive = make_zip(tmp_path / "all.zip", entry("Eve Evil_51003_assignsubmission_file_/a.ipynb"))
    with contained(course, tmp_path, whole=True):
        with pytest.raises(GradingError, match="line 5"):
            lms.collect_lms_zip(course, archive, "tiny", bad)


def test_exchange_submit_refuses_a_bad_id_before_writing(course, tmp_path):
    home = tmp_path / "students" / "tiny"
    home.mkdir(parents=True)
    (home / "tiny.ipynb").write_text("{}")
    with contained(course, tmp_path, whole=True):
        for bad in ("../../evil", "eve+tiny", ".eve", "eve\u202e"):
            with pytest.raises(names.RefusedName, match="refused"):
                exchange.submit(course.exchange, course.course_id, bad, home)


def inbound(course, name, files=None):
    folder = course.exchange / course.course_id / "inbound" / name
    folder.mkdir()
    for rel, data in (files or {"tiny.ipynb": "{}", "timestamp.txt": STAMP}).items():
        (folder / rel).write_text(data)
    return folder


def test_exchange_collect_refuses_bad_inbound_ids(course, tmp_path):
    good = inbound(course, f"bob+tiny+{STAMP}+r1")
    for name in (f"..+tiny+{STAMP}", f"a..b+tiny+{STAMP}+r2", f"ev\u202eil+tiny+{STAMP}+r3"):
        inbound(course, name)
    inbound(course, f"x+y+tiny+{STAMP}+r4")  # nbgrader would take "x+y" for the id
    inbound(course, "carol+tiny+not a time+r5")
    with contained(course, tmp_path):
        result = exchange.collect(course, "tiny")
    assert result.collected == ["bob"] and submitted_ids(course) == ["bob"]
    assert (submitted(course, "bob") / "tiny.ipynb").exists() and good.exists()
    refused_ids = recorded(course, "refused id")
    assert len(refused_ids) == 3 and any("'..+tiny+" in d for d in refused_ids)
    assert any("U+202E" in d for d in refused_ids)
    assert any("x+y+tiny" in d for d in recorded(course, "refused entry"))
    assert any("unreadable time" in d for d in recorded(course, "refused entry", "carol"))
    assert len(result.refused) == 5


def test_exchange_collect_refuses_links_and_unsafe_names_inside(course, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("the instructor's")
    linked = inbound(course, f"carol+tiny+{STAMP}+r1", {"timestamp.txt": STAMP})
    (linked / "tiny.ipynb").symlink_to(course.db_path)
    inbound(course, f"dave+tiny+{STAMP}+r2", {"tiny.ipynb": "{}", "bell\x07.txt": "x"})
    (course.exchange / course.course_id / "inbound" / f"erin+tiny+{STAMP}+r3").symlink_to(
        tmp_path, target_is_directory=True
    )
    inbound(course, f"bob+tiny+{STAMP}+r4")
    with contained(course, tmp_path):
        result = exchange.collect(course, "tiny")
    assert result.collected == ["bob"] and submitted_ids(course) == ["bob"]
    assert any("symbolic link" in d for d in recorded(course, "refused entry", "carol"))
    assert any("U+0007" in d for d in recorded(course, "refused entry", "dave"))
    assert any("link or not a folder" in d for d in recorded(course, "refused entry", "erin"))


def test_exchange_collect_counts_only_what_it_collected_now(course, tmp_path):
    inbound(course, f"bob+tiny+{STAMP}+r1")
    assert exchange.collect(course, "tiny").collected == ["bob"]
    inbound(course, "bob+tiny+2024-04-01 12:00:00.000000 UTC+r0")  # older: not taken
    with contained(course, tmp_path):
        again = exchange.collect(course, "tiny")
    assert again.collected == [] and submitted_ids(course) == ["bob"]
    assert any("2024-04-01" in d for d in recorded(course, "superseded", "bob"))


# -- who submitted: a folder in another student's name, or dated in the future ---------------

FUTURE = "2099-01-01 12:00:00.000000 UTC"
NOBODY = 65534  # Debian's "nobody"


@pytest.fixture
def another_account():
    """Make folders made by an account that is neither the student's nor the collector's
    (``chown`` to nobody: root only)."""

    def make(folder):
        for path in [folder, *folder.rglob("*")]:
            os.lchown(path, NOBODY, NOBODY)
        return folder

    if os.geteuid() != 0:  # pretending to be another uid would refuse the victim's folder too
        pytest.skip("needs root to hand a folder to another account")

    return make


def assert_victim_collected(course, result, victim_file):
    assert result.collected == ["alice"]
    assert (submitted(course, "alice") / "tiny.ipynb").read_text() == victim_file
    assert not recorded(course, "superseded", "alice"), "a forgery is no routine supersede"
    forged = recorded(course, "forged submission", "alice")
    assert len(forged) == 1 and "not collected" in forged[0]
    assert len(result.refused) == 1
    return forged[0]


def test_exchange_folder_in_another_students_name_is_refused(course, tmp_path, another_account):
    inbound(course, f"alice+tiny+{STAMP}+r1", {"tiny.ipynb": "alice's", "timestamp.txt": STAMP})
    later = "2024-05-02 12:00:00.000000 UTC"  # newer than alice's: nbgrader would take it
    another_account(inbound(course, f"alice+tiny+{later}+r2", {"tiny.ipynb": "{}"}))
    with contained(course, tmp_path):
        result = exchange.collect(course, "tiny")
    detail = assert_victim_collected(course, result, "alice's")
    assert "made by" in detail and "neither the account named 'alice'" in detail


def test_exchange_folder_dated_in_the_future_is_refused(course, tmp_path):
    inbound(course, f"alice+tiny+{STAMP}+r1", {"tiny.ipynb": "alice's", "timestamp.txt": STAMP})
    inbound(course, f"alice+tiny+{FUTURE}+r2", {"tiny.ipynb": "{}", "timestamp.txt": FUTURE})
    with contained(course, tmp_path):
        result = exchange.collect(course, "tiny")
    detail = assert_victim_collected(course, result, "alice's")
    assert "in the future, 2099-01-01 12:00 UTC in its name and timestamp.txt" in detail
    assert "300 s ahead" in detail


def test_a_future_time_inside_the_folder_is_refused_too(course, tmp_path):
    """nbgrader keeps ``timestamp.txt``: dated 2099, no later submission would replace it."""
    inbound(course, f"alice+tiny+{STAMP}+r1", {"tiny.ipynb": "alice's", "timestamp.txt": STAMP})
    later = "2024-05-02 12:00:00.000000 UTC"
    inbound(course, f"alice+tiny+{later}+r2", {"tiny.ipynb": "{}", "timestamp.txt": FUTURE})
    with contained(course, tmp_path):
        result = exchange.collect(course, "tiny")
    assert "2099-01-01 12:00 UTC in timestamp.txt" in assert_victim_collected(
        course, result, "alice's"
    )


def test_exchange_forgery_in_another_name_and_dated_2099(course, tmp_path, another_account):
    inbound(course, f"alice+tiny+{STAMP}+r1", {"tiny.ipynb": "alice's", "timestamp.txt": STAMP})
    another_account(inbound(course, f"alice+tiny+{FUTURE}+r2", {"tiny.ipynb": "{}"}))
    with contained(course, tmp_path):
        result = exchange.collect(course, "tiny")
    detail = assert_victim_collected(course, result, "alice's")
    assert "made by" in detail and "in the future" in detail  # both, for the instructor
    page = (report.write_report(course, tmp_path / "out") / "report.html").read_text()
    assert page.index("Refused as forged") < page.index("Grading problems")  # first
    assert "alice+tiny+2099" in page


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to hand a folder to another account")
def test_a_folder_made_by_the_students_own_account_is_collected(course, tmp_path):
    """A JupyterHub: the submitter is the hub user, the system account of the same name."""
    folder = inbound(course, f"nobody+tiny+{STAMP}+r1")
    for path in [folder, *folder.rglob("*")]:
        os.lchown(path, NOBODY, NOBODY)
    with contained(course, tmp_path):
        result = exchange.collect(course, "tiny")
    assert result.collected == ["nobody"] and not recorded(course, "forged submission")


def test_check_owner_off_trusts_the_owner_not_the_date(course, tmp_path, another_account):
    course.config.ExchangeCollect.check_owner = False
    another_account(inbound(course, f"alice+tiny+{STAMP}+r1"))
    inbound(course, f"bob+tiny+{FUTURE}+r1")
    with contained(course, tmp_path):
        result = exchange.collect(course, "tiny")
    assert result.collected == ["alice"] and recorded(course, "forged submission", "bob")


def test_exchange_round_trip_through_submit(course, tmp_path):
    home = tmp_path / "students" / "Søren Ødegård" / "tiny"
    home.mkdir(parents=True)
    (home / "tiny.ipynb").write_text("{}")
    exchange.submit(course.exchange, course.course_id, "Søren Ødegård", home)
    with contained(course, tmp_path):
        assert exchange.collect(course, "tiny").collected == ["Søren Ødegård"]
    assert (submitted(course, "Søren Ødegård") / "timestamp.txt").exists()


# -- hostile zip entries ----------------------------------------------------------------------


def test_zip_traversal_in_a_matched_folder_cannot_reach_the_gradebook(course, tmp_path):
    result = collect_zip(
        course,
        tmp_path,
        entry(f"{ALICE}/tiny.ipynb"),
        entry(f"{ALICE}/../../../gradebook.db", b"overwritten"),
    )
    assert result.collected == ["alice"]
    assert any("'..'" in d for d in recorded(course, "refused entry", "alice"))
    assert sorted(p.name for p in submitted(course, "alice").iterdir()) == [
        "timestamp.txt",
        "tiny.ipynb",
    ]


def test_zip_traversal_in_an_unmatched_folder(course, tmp_path):
    result = collect_zip(
        course, tmp_path, entry("Nobody_9_assignsubmission_file_/../../../../../../pwned.txt")
    )
    assert result.collected == [] and result.unmatched == []
    assert any("'..'" in d for d in recorded(course, "refused entry"))
    assert not (course.root / "unmatched").exists()


def test_zip_absolute_entry(course, tmp_path):
    result = collect_zip(
        course, tmp_path, entry(str(tmp_path / "pwned.txt")), entry(f"{BOB}/a.ipynb")
    )
    assert result.collected == ["bob"]
    assert any("an absolute path" in d for d in result.refused)
    assert recorded(course, "refused entry") == result.refused


def test_zip_backslash_entry(course, tmp_path):
    result = collect_zip(course, tmp_path, entry(f"{ALICE}\\..\\..\\pwned.txt"))
    assert result.collected == [] and any("backslash" in d for d in result.refused)
    assert any("backslash" in d for d in recorded(course, "refused entry"))


def test_zip_drive_letter_entry(course, tmp_path):
    result = collect_zip(course, tmp_path, entry("C:/Windows/pwned.txt"), entry("C:pwned.txt"))
    assert result.collected == []
    assert sum("drive letter" in d for d in recorded(course, "refused entry")) == 2


def test_zip_symlink_entry(course, tmp_path):
    result = collect_zip(
        course,
        tmp_path,
        entry(f"{ALICE}/tiny.ipynb", str(course.db_path).encode(), mode=0o120777),
        entry(f"{BOB}/tiny.ipynb"),
    )
    assert result.collected == ["bob"] and submitted_ids(course) == ["bob"]
    assert any("symbolic link" in d for d in recorded(course, "refused entry", "alice"))
    assert not any(p.is_symlink() for p in course.root.rglob("*"))


def test_zip_control_and_format_characters(course, tmp_path):
    result = collect_zip(
        course,
        tmp_path,
        entry(f"{ALICE}/tiny\u202ebnypi.txt"),
        entry(f"{ALICE}/bell\x07.ipynb"),
        entry(f"{ALICE}/tiny.ipynb"),
    )
    assert result.collected == ["alice"]
    details = recorded(course, "refused entry", "alice")
    assert any("U+202E" in d for d in details) and any("U+0007" in d for d in details)
    assert sorted(os.listdir(submitted(course, "alice"))) == ["timestamp.txt", "tiny.ipynb"]


def test_zip_empty_dot_leading_and_macos_entries(course, tmp_path):
    result = collect_zip(
        course,
        tmp_path,
        entry(f"{ALICE}//tiny.ipynb"),
        entry(f"{ALICE}/.hidden.ipynb"),
        entry(f"__MACOSX/{ALICE}/._tiny.ipynb"),
        entry(f"{ALICE}/./tiny.ipynb"),
        entry("loose.ipynb"),
    )
    assert result.collected == []
    details = " | ".join(recorded(course, "refused entry"))
    for reason in ("empty", "starts with a dot", "__MACOSX", "'.' or '..'", "not inside a"):
        assert reason in details


def test_zip_nesting_deeper_than_a_subfolder(course, tmp_path):
    result = collect_zip(
        course,
        tmp_path,
        entry(f"{ALICE}/tiny.ipynb"),
        entry(f"{ALICE}/data/train.csv", b"1,2"),
        entry(f"{ALICE}/a/b/c.txt"),
    )
    assert result.collected == ["alice"]
    assert (submitted(course, "alice") / "data" / "train.csv").read_bytes() == b"1,2"
    assert any("nested deeper" in d for d in recorded(course, "refused entry", "alice"))
    assert any("data/train.csv" in d for d in recorded(course, "extra file", "alice"))


def test_zip_bomb_entry_is_cut_by_the_bytes_that_come_out(course, tmp_path):
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(*entry(f"{BOB}/tiny.ipynb"))
        info = zipfile.ZipInfo(f"{ALICE}/tiny.ipynb", date_time=T1)
        info.compress_type = zipfile.ZIP_DEFLATED
        with z.open(info, "w", force_zip64=True) as out:
            zeros = bytes(1 << 20)
            for _ in range(300):
                out.write(zeros)
    assert archive.stat().st_size < 2_000_000
    with contained(course, tmp_path):
        result = lms.collect_lms_zip(course, archive, "tiny", roster(), max_entry_bytes=1_000_000)
    assert result.collected == ["bob"] and submitted_ids(course) == ["bob"]
    assert any("over 1000000 bytes" in d for d in recorded(course, "refused entry", "alice"))


def test_zip_over_its_total_cap_is_refused_whole(course, tmp_path):
    archive = make_zip(
        tmp_path / "big.zip",
        entry(f"{ALICE}/tiny.ipynb", b"a" * 400_000),
        entry(f"{BOB}/tiny.ipynb", b"b" * 400_000),
        entry("Nobody_9_assignsubmission_file_/x.ipynb", b"c" * 400_000),
    )
    with contained(course, tmp_path):
        with pytest.raises(GradingError, match="zip bomb"):
            lms.collect_lms_zip(course, archive, "tiny", roster(), max_zip_bytes=1_000_000)
    assert not (course.root / "submitted").exists() and not (course.root / "unmatched").exists()
    assert any("big.zip" in d for d in recorded(course, "refused entry"))


def test_zip_entry_whose_header_lies_about_its_size(course, tmp_path):
    archive = make_zip(
        tmp_path / "liar.zip",
        entry(f"{ALICE}/tiny.ipynb", b"x" * 2_000_000),
        entry(f"{BOB}/b.ipynb"),
    )
    raw = bytearray(archive.read_bytes())
    struct.pack_into("<I", raw, 22, 100)  # the first local header: "100 bytes unpacked"
    struct.pack_into("<I", raw, raw.find(b"PK\x01\x02") + 24, 100)  # and its directory entry
    archive.write_bytes(raw)
    assert zipfile.ZipFile(archive).infolist()[0].file_size == 100
    with contained(course, tmp_path):
        result = lms.collect_lms_zip(course, archive, "tiny", roster(), max_entry_bytes=1000)
    assert result.collected == ["bob"] and submitted_ids(course) == ["bob"]
    assert any("unreadable" in d for d in recorded(course, "refused entry", "alice"))


def test_zip_local_header_naming_another_path(course, tmp_path):
    name = f"{BOB}/tiny.ipynb"
    evil = ("../" * 20 + "pwned")[-len(name) :].rjust(len(name), ".")
    archive = make_zip(tmp_path / "swap.zip", entry(name))
    raw = bytearray(archive.read_bytes())
    raw[30 : 30 + len(name)] = evil.encode()  # the local header's copy of the name
    archive.write_bytes(raw)
    with contained(course, tmp_path):
        result = lms.collect_lms_zip(course, archive, "tiny", roster())
    assert result.collected == []
    assert any("unreadable" in d for d in recorded(course, "refused entry", "bob"))


# -- one submission per student ---------------------------------------------------------------


def test_two_notebooks_in_one_folder_latest_wins(course, tmp_path):
    result = collect_zip(
        course,
        tmp_path,
        entry(f"{ALICE}/tiny (1).ipynb", b'{"v": "late"}', when=T3),
        entry(f"{ALICE}/tiny.ipynb", b'{"v": "early"}', when=T2),
    )
    assert result.collected == ["alice"]
    folder = submitted(course, "alice")
    assert sorted(os.listdir(folder)) == ["timestamp.txt", "tiny.ipynb"]
    assert (folder / "tiny.ipynb").read_bytes() == b'{"v": "late"}'
    assert (folder / "timestamp.txt").read_text().startswith("2024-05-03 12:00:00")
    assert any(
        "'Alice" in d and "tiny.ipynb'" in d for d in recorded(course, "superseded", "alice")
    )


def test_one_student_in_two_folders(course, tmp_path):
    result = collect_zip(
        course,
        tmp_path,
        entry(f"{ALICE}/tiny.ipynb", b'{"v": "by id"}', when=T1),
        entry("alice  ANDERS_777_assignsubmission_file_/mine.ipynb", b'{"v": "by name"}', when=T2),
    )
    assert result.collected == ["alice"] and result.unmatched == []
    assert (submitted(course, "alice") / "tiny.ipynb").read_bytes() == b'{"v": "by name"}'
    assert len(recorded(course, "superseded", "alice")) == 1


def test_older_recollect_keeps_the_newer_submission(course, tmp_path):
    collect_zip(course, tmp_path, entry(f"{ALICE}/tiny.ipynb", b'{"v": "new"}', when=T2))
    result = collect_zip(
        course, tmp_path, entry(f"{ALICE}/tiny.ipynb", b'{"v": "old"}', when=T1), name="old.zip"
    )
    assert result.collected == []
    assert (submitted(course, "alice") / "tiny.ipynb").read_bytes() == b'{"v": "new"}'
    assert any("already collected" in d for d in result.superseded)
    steps = set(events.read(course)["step"])
    assert "collect old.zip" in steps  # the first zip's events stay its own
    assert recorded(course, "superseded", "alice") == result.superseded


def test_newer_recollect_replaces_the_folder_whole(course, tmp_path):
    collect_zip(course, tmp_path, entry(f"{ALICE}/tiny.ipynb", when=T1), entry(f"{ALICE}/n.txt"))
    assert (submitted(course, "alice") / "n.txt").exists()
    result = collect_zip(
        course, tmp_path, entry(f"{ALICE}/tiny.ipynb", b'{"v": 2}', when=T2), name="new.zip"
    )
    assert result.collected == ["alice"]
    assert sorted(os.listdir(submitted(course, "alice"))) == ["timestamp.txt", "tiny.ipynb"]
    assert recorded(course, "extra file", "alice")  # from the first zip, under its own step


def test_the_same_zip_twice_collects_nothing_new(course, tmp_path):
    entries = (entry(f"{ALICE}/tiny.ipynb"), entry(f"{BOB}/tiny.ipynb"))
    assert collect_zip(course, tmp_path, *entries).collected == ["alice", "bob"]
    again = collect_zip(course, tmp_path, *entries)
    assert again.collected == [] and again.events == [] and recorded(course, "superseded") == []


def test_unmatched_folders_are_kept_and_recorded(course, tmp_path):
    result = collect_zip(
        course,
        tmp_path,
        entry("Pat Unknown_99999_assignsubmission_file_/tiny.ipynb"),
        entry("not a moodle folder/work.ipynb"),
        entry(f"{BOB}/tiny.ipynb"),
    )
    assert result.collected == ["bob"]
    assert result.unmatched == ["Pat Unknown_99999_assignsubmission_file_", "not a moodle folder"]
    kept = course.root / "unmatched" / "tiny"
    assert (kept / "Pat Unknown_99999_assignsubmission_file_" / "tiny.ipynb").exists()
    assert (kept / "not a moodle folder" / "work.ipynb").exists()
    assert len(recorded(course, "unmatched folder")) == 2


def test_extra_files_are_copied_and_recorded(course, tmp_path):
    result = collect_zip(
        course,
        tmp_path,
        entry(f"{ALICE}/tiny.ipynb"),
        entry(f"{ALICE}/notes.txt", b"hi"),
        entry(f"{ALICE}/timestamp.txt", b"2099-01-01 00:00:00"),
    )
    assert result.collected == ["alice"]
    folder = submitted(course, "alice")
    assert (folder / "notes.txt").read_bytes() == b"hi"
    assert (folder / "timestamp.txt").read_text().startswith("2024-05-01")
    assert any("notes.txt" in d for d in recorded(course, "extra file", "alice"))
    assert any("timestamp.txt" in d for d in recorded(course, "refused entry", "alice"))


def test_zip_paths_that_clash_with_each_other_or_the_kit(course, tmp_path):
    result = collect_zip(
        course,
        tmp_path,
        entry(f"{ALICE}/tiny.ipynb"),
        entry(f"{ALICE}/a", b"file", when=T2),
        entry(f"{ALICE}/a/b", b"under a file"),
        entry(f"{ALICE}/tiny.ipynb/x.txt"),
        entry(f"{ALICE}/timestamp.txt/x.txt"),
    )
    assert result.collected == ["alice"]
    folder = submitted(course, "alice")
    assert (folder / "a").read_bytes() == b"file" and (folder / "tiny.ipynb").is_file()
    assert (folder / "timestamp.txt").is_file()
    assert sum("its path is taken" in d for d in recorded(course, "refused entry", "alice")) == 3


def test_a_folder_without_a_notebook_is_kept_aside(course, tmp_path):
    result = collect_zip(course, tmp_path, entry(f"{ALICE}/answers.pdf", b"%PDF"))
    assert result.collected == [] and not (course.root / "submitted").exists()
    assert (course.root / "unmatched" / "tiny" / ALICE / "answers.pdf").exists()
    assert any("holds no notebook" in d for d in recorded(course, "refused entry", "alice"))


def test_lms_collect_never_opens_the_gradebook(course, tmp_path):
    aside = tmp_path / "gradebook.aside"
    course.db_path.rename(aside)
    try:
        archive = make_zip(tmp_path / "all.zip", entry(f"{ALICE}/tiny.ipynb"))
        assert lms.collect_lms_zip(course, archive, "tiny", roster()).collected == ["alice"]
        assert not course.db_path.exists()
    finally:
        aside.rename(course.db_path)


def test_unknown_assignment_is_refused(course, tmp_path):
    archive = make_zip(tmp_path / "all.zip", entry(f"{ALICE}/x.ipynb"))
    with contained(course, tmp_path, whole=True):
        with pytest.raises(GradingError, match="release nope first"):
            lms.collect_lms_zip(course, archive, "nope", roster())


# -- the command line -------------------------------------------------------------------------


def test_cli_collect_says_what_it_did_now(course, tmp_path, capsys):
    (tmp_path / "roster.csv").write_text(ROSTER_CSV)
    archive = make_zip(
        tmp_path / "all.zip",
        entry(f"{ALICE}/tiny.ipynb"),
        entry(f"{ALICE}/../../x"),
        entry("Pat Unknown_9_assignsubmission_file_/tiny.ipynb"),
    )
    args = ["collect", "--course", str(course.root), "--roster", str(tmp_path / "roster.csv")]
    with contained(course, tmp_path):
        assert cli.main([*args, "--zip", str(archive), "tiny"]) == 0
    out = capsys.readouterr().out
    assert "tiny: collected 1 submission(s) now" in out
    assert "1 refused, 1 unmatched, 0 superseded" in out and "'..'" in out
    with contained(course, tmp_path):
        assert cli.main([*args, "--zip", str(archive), "tiny"]) == 0
    assert "tiny: collected 0 submission(s) now" in capsys.readouterr().out


def test_cli_release_help_says_names_are_required(capsys):
    with pytest.raises(SystemExit):
        cli.main(["release", "--help"])
    out = capsys.readouterr().out
    assert "(required)" in out and "default: all" not in out
    with pytest.raises(SystemExit):
        cli.main(["release"])


def test_cli_release_refuses_a_path_for_a_name(course, tmp_path, capsys):
    with contained(course, tmp_path, whole=True):
        assert cli.main(["release", "--course", str(course.root), "../../evil"]) == 1
    assert "path separator" in capsys.readouterr().err
