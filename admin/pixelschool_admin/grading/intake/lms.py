"""LMS zip files: a platform's "download all submissions" zip, Moodle's layout
(``<Full Name>_<participant id>_assignsubmission_file_/<file>``), each folder mapped to a
student id through the roster.

Names from outside go through ``names`` (zip entries: ``names.zip_entry_parts``), all of a zip's
before anything is written. Entries are capped by the bytes that come out (never the header's
word), unpacked into a staging folder inside the course and moved into place folder by folder:
nothing refused is left, nothing lands outside the course, ``gradebook.db`` is never opened.

One submission per student and assignment: among the ``.ipynb`` files directly in the
student's folders (a student may match two folders, by LMS id and by name), the latest by the
zip entry's date (a tie: the later entry) is graded, saved as ``<assignment>.ipynb`` with
``timestamp.txt`` from that entry's date; the other notebooks are recorded as "superseded".
Other files are copied beside it and recorded as "extra file". A submission already in
``submitted/<id>/<assignment>/`` as late or later (``timestamp.txt``) is kept and the new one
recorded as "superseded"; a later one replaces the folder whole. Folders that match nobody
(or hold no notebook) are kept under ``unmatched/<assignment>/<folder>/`` and recorded.
"""

import filecmp
import re
import tempfile
import zipfile
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from nbgrader.utils import parse_utc

from pixelschool_admin.grading import events
from pixelschool_admin.grading.errors import GradingError
from pixelschool_admin.grading.events import Event
from pixelschool_admin.grading.intake.exchange import STAMP, Collected
from pixelschool_admin.grading.intake.names import (
    RefusedName,
    file_name,
    safe_join,
    student_id,
    zip_entry_parts,
)
from pixelschool_admin.grading.intake.roster import Roster

MOODLE_FOLDER = re.compile(r"^(?P<name>.+?)_(?P<lms_id>\d+)_assignsubmission_\w*$")
MAX_ZIP_BYTES = 4 * 10**9  # unpacked, all entries together
CHUNK = 1 << 20


@dataclass
class _File:
    """A zip entry that passed the checks."""

    index: int
    info: zipfile.ZipInfo
    folder: str
    rel: tuple  # parts inside the folder
    stamp: datetime
    staged: Path = None

    @property
    def name(self):
        return self.info.filename

    @property
    def is_notebook(self):
        return len(self.rel) == 1 and self.rel[0].lower().endswith(".ipynb")


class _ZipTooBig(Exception):
    """The zip's total cap is reached."""


def _stream(zipped, info, target, cap, left):
    """Copy entry ``info`` to ``target`` through ``<target>.part``, counting the bytes that come
    out; ``RefusedName`` past ``cap`` or on a corrupt entry, ``_ZipTooBig`` past ``left``."""
    part, size = target.with_name(target.name + ".part"), 0
    unreadable = f"entry {info.filename!r}: unreadable"
    try:
        with open(part, "xb") as out:
            try:
                source = zipped.open(info)
            except Exception as error:  # hostile data: any format or decoder error
                raise RefusedName(f"{unreadable} ({error})") from error
            with source:
                while True:
                    try:
                        chunk = source.read(CHUNK)
                    except Exception as error:  # CRC, zlib, lzma, bz2, truncation...
                        raise RefusedName(f"{unreadable} ({error})") from error
                    if not chunk:
                        break
                    size += len(chunk)
                    if size > left:
                        raise _ZipTooBig()
                    if size > cap:
                        raise RefusedName(f"entry {info.filename!r}: over {cap} bytes unpacked")
                    out.write(chunk)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    part.rename(target)
    return size


def _existing_stamp(folder):
    try:
        return parse_utc((folder / "timestamp.txt").read_text().strip())
    except (OSError, ValueError, OverflowError):
        return None


def _write(path, text):
    part = path.with_name(path.name + ".part")
    part.write_text(text)
    part.rename(path)


def _replace_folder(new, target, trash):
    """Put folder ``new`` at ``target``, replacing what was there whole."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists() or target.is_symlink():
        target.rename(trash)
    new.rename(target)


def _notebook_name(course, assignment):
    source = course.root / "source" / assignment
    found = sorted(p.name for p in source.glob("*.ipynb")) if source.is_dir() else []
    if found != [f"{assignment}.ipynb"]:
        raise GradingError(
            f"source/{assignment}/ should hold exactly {assignment}.ipynb (it holds {found}): "
            f"release {assignment} first"
        )
    return found[0]


def collect_lms_zip(
    course, archive, assignment, roster, max_entry_bytes=None, max_zip_bytes=MAX_ZIP_BYTES
):
    """Unpack a Moodle-style submissions zip by the rules above; return a ``Collected``.

    ``max_entry_bytes``: the cap per entry, unpacked (default: nbgrader's
    ``CourseDirectory.max_file_size``). A zip past ``max_zip_bytes`` unpacked in all is refused
    whole with a ``GradingError``, nothing of it written. Events go to ``reports/events.csv``
    under step ``collect <zip file name>``.
    """
    archive = Path(archive)
    assignment = file_name(assignment)
    notebook = _notebook_name(course, assignment)
    if not isinstance(roster, Roster):
        roster = Roster.read(roster)
    cap = max_entry_bytes or 1000 * course.coursedir.max_file_size
    try:
        zipped = zipfile.ZipFile(archive)
    except (OSError, zipfile.BadZipFile) as error:
        raise GradingError(f"{archive} is not a zip file: {error}") from error
    lms = _LmsZip(course, assignment, notebook, f"collect {archive.name}", roster)
    with zipped, tempfile.TemporaryDirectory(prefix=".collect-", dir=course.root) as staging:
        files = lms.check(zipped)
        left = max_zip_bytes
        for f in files:
            try:
                left -= _stream(zipped, f.info, Path(staging) / str(f.index), cap, left)
                f.staged = Path(staging) / str(f.index)
            except RefusedName as error:
                lms.refuse(f.folder, str(error))
            except _ZipTooBig:
                detail = (
                    f"{archive.name}: over {max_zip_bytes} bytes unpacked in all (a zip bomb?): "
                    "nothing of it collected"
                )
                lms.events = [Event(lms.step, assignment, "", "refused entry", detail)]
                events.replace(course, lms.step, assignment, lms.events)
                raise GradingError(detail) from None
        lms.place(files, Path(staging))
    events.replace(course, lms.step, assignment, lms.events)
    return Collected(sorted(lms.collected), sorted(lms.unmatched), lms.events)


class _LmsZip:
    """One LMS zip being collected: its entries' owners, and what was done."""

    def __init__(self, course, assignment, notebook, step, roster):
        self.course, self.assignment, self.notebook = course, assignment, notebook
        self.step, self.roster = step, roster
        self.owners = {}  # folder -> student id or None
        self.events, self.collected, self.unmatched = [], [], []
        self._made = 0

    def event(self, student, kind, detail):
        self.events.append(Event(self.step, self.assignment, student or "", kind, detail))

    def refuse(self, folder, detail):
        self.event(self.owner(folder), "refused entry", detail)

    def owner(self, folder):
        """The student id of LMS folder ``folder`` through the roster, or None."""
        if folder not in self.owners:
            match = MOODLE_FOLDER.match(folder)
            found = match and self.roster.find(lms_id=match["lms_id"], name=match["name"])
            if found:
                try:
                    found = student_id(found)
                except RefusedName as error:
                    self.event("", "refused id", f"folder {folder!r}: {error}")
                    found = None
            self.owners[folder] = found or None
        return self.owners[folder]

    def check(self, zipped):
        """The entries that pass ``names.zip_entry_parts``, as ``_File``; others are recorded."""
        files = []
        for index, info in enumerate(zipped.infolist()):
            try:
                parts = zip_entry_parts(info)
                if info.is_dir():
                    continue
                try:
                    stamp = datetime(*info.date_time)
                except ValueError as error:
                    raise RefusedName(f"entry {info.filename!r}: invalid date") from error
            except RefusedName as error:
                self.refuse(info.filename.split("/")[0], str(error))
                continue
            files.append(_File(index, info, parts[0], tuple(parts[1:]), stamp))
        return files

    def place(self, files, staging):
        """Move the staged files into ``submitted/`` and ``unmatched/``, folder by folder."""
        mine, kept = defaultdict(list), defaultdict(list)
        for folder in sorted({f.folder for f in files}):
            if self.owner(folder) is None:
                self.unmatched.append(folder)
                where = f"unmatched/{self.assignment}/{folder}/"
                self.event(
                    "", "unmatched folder", f"{folder!r} matches nobody on the roster: {where}"
                )
        for f in files:
            if f.staged:
                student = self.owner(f.folder)
                (mine[student] if student else kept[f.folder]).append(f)
        for student, own in sorted(mine.items()):
            if any(f.is_notebook for f in own):
                self.submission(student, own, staging)
                continue
            for folder in sorted({f.folder for f in own}):
                where = f"unmatched/{self.assignment}/{folder}/"
                self.event(
                    student, "refused entry", f"{folder!r} holds no notebook: kept in {where}"
                )
                kept[folder] += [f for f in own if f.folder == folder]
        for folder, own in sorted(kept.items()):
            out = self._fill(own, staging, None, ())
            target = safe_join(self.course.root, "unmatched", self.assignment, folder)
            _replace_folder(out, target, self._new(staging))

    def submission(self, student, own, staging):
        notebooks = [f for f in own if f.is_notebook]
        best = max(notebooks, key=lambda f: (f.stamp, f.index))
        for f in notebooks:
            if f is not best:
                detail = f"{f.name!r} ({f.stamp}) not graded: {best.name!r} ({best.stamp}) is later"
                self.event(student, "superseded", detail)
        target = safe_join(self.course.root, "submitted", student, self.assignment)
        existing = _existing_stamp(target)
        if existing is not None and existing >= best.stamp:
            graded = target / self.notebook
            if existing == best.stamp and graded.is_file():
                if filecmp.cmp(best.staged, graded, shallow=False):
                    return  # this very submission, collected before
            detail = (
                f"{best.name!r} ({best.stamp}) not graded: the submission already collected "
                f"({existing}) is as late or later, kept"
            )
            self.event(student, "superseded", detail)
            return
        extras = [f for f in own if not f.is_notebook]
        out = self._fill(extras, staging, student, ("timestamp.txt", self.notebook))
        best.staged.rename(out / self.notebook)
        _write(out / "timestamp.txt", best.stamp.strftime(STAMP))
        _replace_folder(out, target, self._new(staging))
        self.collected.append(student)

    def _fill(self, files, staging, student, reserved):
        """A new folder in ``staging`` holding ``files`` at their paths, the latest per path;
        none at a ``reserved`` name (what the kit writes there itself)."""
        out = self._new(staging)
        out.mkdir(parents=True)
        placed = set()
        for f in sorted(files, key=lambda f: (f.stamp, f.index), reverse=True):
            path = "/".join(f.rel)
            if f.rel in placed:
                detail = f"{f.name!r} ({f.stamp}) not kept: a later {path!r} was"
                self.event(student, "superseded", detail)
                continue
            dest = out.joinpath(*f.rel)
            try:
                if f.rel[0] in reserved:  # the kit writes those
                    raise FileExistsError(path)
                dest.parent.mkdir(parents=True, exist_ok=True)
                if dest.exists():
                    raise FileExistsError(path)
                f.staged.rename(dest)
            except OSError:  # a file where a folder is needed, or the other way round
                self.event(student, "refused entry", f"entry {f.name!r}: its path is taken")
                continue
            placed.add(f.rel)
            if student:
                self.event(student, "extra file", f"{f.name!r} copied as {path}, not graded")
        return out

    def _new(self, staging):
        self._made += 1
        return staging / "made" / str(self._made)
