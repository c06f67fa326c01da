"""Getting notebooks to students and back: nbgrader's local exchange, and LMS zip files.

- ``release``: nbgrader's ``release_assignment`` into the exchange, and ``lms/<name>.zip``
  with the student notebook, to upload to a learning platform.
- ``collect``: nbgrader's ``collect`` from the exchange, through ``SafeCollect``, which refuses
  (and records) inbound folders with a bad student id, a bad name, a link or an unsafe name
  inside, and forged ones (made by another student's account, or dated in the future), before
  nbgrader copies the others.
- ``submit``: nbgrader's own student-side submit, for the demo class and tests.

LMS zip files are ``lms.py``'s; names from outside go through ``ids`` in both.
"""

import os
import stat
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from fnmatch import fnmatch
from pathlib import Path
from types import SimpleNamespace

from nbgrader.auth import Authenticator
from nbgrader.coursedir import CourseDirectory
from nbgrader.exchange.default import ExchangeCollect, ExchangeSubmit
from nbgrader.utils import capture_log, parse_utc, temp_attrs
from traitlets import Integer

from pixelschool_admin.authoring.build import course_config
from pixelschool_admin.grading import events
from pixelschool_admin.grading.errors import GradingError
from pixelschool_admin.grading.events import Event
from pixelschool_admin.grading.intake.names import RefusedName, file_name, student_id
from pixelschool_admin.grading.settings import CLOCK_SKEW

try:
    import pwd
except ImportError:  # Windows: no owners to check (nbgrader's own check is off there too)
    pwd = None

STAMP = "%Y-%m-%d %H:%M:%S.%f"
FORGED = "forged submission"
REFUSED = ("refused entry", "refused id", FORGED)
TIMESTAMP_FILE = "timestamp.txt"


@dataclass
class Collected:
    """What one collect did."""

    collected: list  # student ids whose submission is new or replaced by this collect
    unmatched: list = field(default_factory=list)  # LMS folders matching nobody on the roster
    events: list = field(default_factory=list)  # Event, as recorded in reports/events.csv

    @property
    def refused(self):
        return [e.detail for e in self.events if e.kind in REFUSED]

    @property
    def superseded(self):
        return [e.detail for e in self.events if e.kind == "superseded"]


def release(course, assignment):
    """Release ``assignment`` to the exchange and as ``lms/<assignment>.zip``; return the zip."""
    assignment = file_name(assignment)
    released = course.path("release", ".", assignment)
    if not released.exists():
        course.add_assignment(assignment)
    result = course.api.release_assignment(assignment)
    if not result["success"] and "already exists" not in (result.get("log") or ""):
        raise GradingError(f"nbgrader could not release {assignment}: {result.get('log')}")
    lms = course.root / "lms"
    lms.mkdir(exist_ok=True)
    archive = lms / f"{assignment}.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        for path in sorted(released.rglob("*")):
            if path.is_file():
                out.write(path, path.relative_to(released))
    return archive


def submit(exchange_root, course_id, student, assignment_folder):
    """Submit ``assignment_folder`` (named after the assignment) as ``student``, with nbgrader."""
    student = student_id(student)  # before nbgrader writes anything
    folder = Path(assignment_folder).resolve()
    file_name(folder.name)
    config = course_config(folder.parent)
    config.CourseDirectory.course_id = course_id
    config.CourseDirectory.student_id = student
    config.Exchange.root = str(exchange_root)
    config.Exchange.assignment_dir = str(folder.parent)
    config.ExchangeSubmit.cache = str(folder.parent / ".nbgrader-cache")
    coursedir = CourseDirectory(config=config)
    coursedir.assignment_id = folder.name
    ExchangeSubmit(
        coursedir=coursedir, authenticator=Authenticator(config=config), config=config
    ).start()


class SafeCollect(ExchangeCollect):
    """nbgrader's collect, minus the inbound folders the kit refuses (recorded, never copied):
    a name not ``{id}+{assignment}+{time}[+random]``, a bad id or time, a link, a non-regular
    file or a bad name inside, a folder over ``max_dir_size``, and forged folders. Events:
    step "collect exchange".

    Forged: a folder counts only for the student who made it. Whoever runs nbgrader's submit
    owns what it writes, and only that account (or root) can own files, so every file of an
    inbound folder must belong to the account named by its student id (on a JupyterHub, the
    hub user who submitted) or to the account collecting (the instructor's own submissions,
    the only owner on an instructor's own machine). Any other owner, or a time in the folder's
    name or its ``timestamp.txt`` later than ``clock_skew`` seconds from now, and the folder is
    refused as a ``FORGED`` event; the student's own latest folder is collected instead.
    nbgrader's ``check_owner = False`` turns the owner check off (an exchange where every
    account is one uid, as in some containers), not the time check.
    """

    clock_skew = Integer(
        CLOCK_SKEW, help="seconds an inbound time may be ahead of this machine's clock"
    ).tag(config=True)

    def init_src(self):
        self.events, self.collected, self._copied = [], [], set()
        self._refused, self._valid, self._too_big = set(), {}, defaultdict(list)
        inbound = Path(self.root) / self.coursedir.course_id / "inbound"
        if inbound.is_dir():
            for entry in sorted(os.scandir(inbound), key=lambda e: e.name):
                self._check_inbound(Path(entry.path))
        super().init_src()
        self.src_records = [r for r in self.src_records if r["filename"] not in self._refused]
        chosen = {r["username"]: r["filename"] for r in self.src_records}
        for name, (student, _) in sorted(self._valid.items()):
            if name != chosen.get(student):
                detail = f"inbound {name!r} not collected: {chosen.get(student)!r} is the one taken"
                self._event(student, "superseded", detail)
        for record in self.src_records:
            for detail in self._too_big[record["filename"]]:
                self._event(record["username"], "refused entry", detail)

    def _event(self, student, kind, detail):
        assignment = self.coursedir.assignment_id
        self.events.append(Event("collect exchange", assignment, student, kind, detail))

    def _check_inbound(self, path):
        """Record ``path`` as valid, refused or not this assignment's."""
        name, assignment = path.name, self.coursedir.assignment_id
        parts = name.split("+")
        wanted = self.coursedir.student_id or "*"
        if not (fnmatch(name, f"{wanted}+{assignment}+*") or parts[1:2] == [assignment]):
            return
        if wanted != "*" and parts[0] != wanted:
            return
        student, kind = "", "refused entry"
        try:
            if len(parts) not in (3, 4) or parts[1] != assignment:
                raise RefusedName("name is not {id}+{assignment}+{time}[+random]")
            kind = "refused id"
            student = student_id(parts[0])
            kind = "refused entry"
            try:
                stamp = parse_utc(parts[2])
            except (ValueError, OverflowError) as error:
                raise RefusedName(f"unreadable time {parts[2]!r}") from error
            owners = self._check_contents(path, name)
        except RefusedName as error:
            self._refused.add(name)
            self._event(
                student if kind == "refused entry" else "", kind, f"inbound {name!r}: {error}"
            )
            return
        forged = [self._foreign_owners(owners, student), self._future(path, stamp)]
        if any(forged):
            self._refused.add(name)
            detail = "; ".join(why for why in forged if why)
            self._event(student, FORGED, f"inbound {name!r}: {detail}; not collected")
            return
        self._valid[name] = (student, stamp)

    def _future(self, path, stamp):
        """Why the folder's time is forged: its name's ``stamp`` or its ``timestamp.txt``
        (naive UTC, as nbgrader's) beyond ``clock_skew`` from now; or ''."""
        limit = datetime.now(timezone.utc).replace(tzinfo=None) + timedelta(seconds=self.clock_skew)
        times = {"its name": stamp, TIMESTAMP_FILE: self._written_time(path)}
        ahead = {where: when for where, when in times.items() if when and when > limit}
        if not ahead:
            return ""
        return (
            f"dated in the future, {max(ahead.values()):%Y-%m-%d %H:%M} UTC in "
            f"{' and '.join(ahead)} (more than {self.clock_skew} s ahead of this machine's clock)"
        )

    def _written_time(self, path):
        """The time in the folder's ``timestamp.txt`` (None if none or unreadable: nbgrader
        then uses the name's). Read without following links, and only its first bytes."""
        try:
            fd = os.open(path / TIMESTAMP_FILE, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            return None
        with os.fdopen(fd, "rb") as file:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return None
            text = file.read(200).decode("utf-8", "replace").strip()
        try:
            return parse_utc(text)
        except (ValueError, OverflowError):
            return None

    def _foreign_owners(self, owners, student):
        """Who else made the folder: the uids in ``owners`` that are neither the student's
        account nor the collector's (as a line for the report), or ''."""
        if not self.check_owner or pwd is None:
            return ""
        mine = os.geteuid()
        try:
            theirs = {pwd.getpwnam(student).pw_uid}
        except KeyError:  # no account of that name: only the instructor submits for it
            theirs = set()
        others = sorted(owners - theirs - {mine})
        if not others:
            return ""
        return (
            f"made by {', '.join(map(account, others))}: neither the account named {student!r} "
            f"nor the one collecting ({account(mine)})"
        )

    def _check_contents(self, path, name):
        """Refuse links, odd files and names inside ``path``; return the uids owning it."""
        if path.is_symlink() or not path.is_dir():
            raise RefusedName("a link or not a folder")
        owners = {path.lstat().st_uid}
        file_cap = 1000 * self.coursedir.max_file_size
        for folder, dirs, files in os.walk(path):
            dirs[:] = [d for d in dirs if not self._ignored(d)]
            for part in dirs + files:
                full = Path(folder, part)
                rel = str(full.relative_to(path))
                info = full.lstat()
                mode = info.st_mode
                if self._ignored(part):
                    continue
                owners.add(info.st_uid)
                if stat.S_ISLNK(mode):
                    raise RefusedName(f"{rel!r} is a symbolic link")
                if not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)):
                    raise RefusedName(f"{rel!r} is not a regular file")
                file_name(part)
                if stat.S_ISREG(mode) and full.lstat().st_size > file_cap:
                    self._too_big[name].append(
                        f"inbound {name!r}: {rel!r} is over {file_cap} bytes "
                        "(CourseDirectory.max_file_size); nbgrader leaves it out"
                    )
        size = self.get_size(str(path))
        if size > 1000 * self.coursedir.max_dir_size:
            raise RefusedName(f"{size} bytes in all, over CourseDirectory.max_dir_size")
        return owners

    def _ignored(self, part):
        return any(fnmatch(part, pattern) for pattern in self.coursedir.ignore)

    def _path_to_record(self, path):
        name = os.path.basename(path)
        if name not in self._valid:  # refused: a stand-alone record, dropped after init_src
            return {"username": "\0" + name, "filename": name, "timestamp": datetime.min}
        record = super()._path_to_record(path)
        record["username"] = self._valid[name][0]  # NFC, so NFD and NFC folders are one student
        return record

    def do_copy(self, src, dest, log=None):
        super().do_copy(src, dest, log)
        self._copied.add(Path(dest))

    def copy_files(self):
        try:
            super().copy_files()
        finally:
            self._after_copy()

    def _after_copy(self):
        """What was copied now, what was not and why; then record the events."""
        for record in self.src_records:
            student = record["username"]
            dest = self.coursedir.format_path(
                self.coursedir.submitted_directory, student, self.coursedir.assignment_id
            )
            if Path(dest) in self._copied:
                self.collected.append(student)
                continue
            try:
                existing = self.coursedir.get_existing_timestamp(dest)
            except Exception:  # nbgrader's fail() on an unreadable timestamp.txt
                existing = None
            if existing != record["timestamp"]:
                detail = f"inbound {record['filename']!r} not collected: kept the one of {existing}"
                self._event(student, "superseded", detail)
        # events.replace needs only the course folder
        course = SimpleNamespace(root=Path(self.coursedir.root))
        events.replace(course, "collect exchange", self.coursedir.assignment_id, self.events)


def account(uid):
    """'name (uid N)' of a system account, or 'uid N' when it has no name here."""
    try:
        return f"{pwd.getpwuid(uid).pw_name} (uid {uid})"
    except KeyError:
        return f"uid {uid}"


def collect(course, assignment):
    """Collect ``assignment`` from the exchange into ``submitted/`` with ``SafeCollect``."""
    assignment = file_name(assignment)
    app = SafeCollect(
        coursedir=course.coursedir,
        authenticator=Authenticator(config=course.config),
        config=course.config,
    )
    app.update = True
    with temp_attrs(course.coursedir, assignment_id=assignment):
        result = capture_log(app)
    if not result["success"]:
        raise GradingError(
            f"nbgrader could not collect {assignment}: {result.get('log') or result.get('error')}"
        )
    return Collected(sorted(app.collected), [], app.events)
