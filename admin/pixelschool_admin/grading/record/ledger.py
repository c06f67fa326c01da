"""What is graded already: a ledger of recorded submissions, keyed by a content hash.

A submission's key hashes everything its grade depends on: its files, the assignment's
``source/`` files, the kit (its code, the checks' recordings, the hidden expectations, the
versions of nbgrader and the kit), the grading settings and the assignment's due date. A
rerun grades only submissions whose key changed (``--force``: all); since each submission is
entered as soon as it is recorded, a run stopped by Ctrl-C or a crash resumes where it
stopped. The ledger (``reports/ledger.sqlite``) also keeps each outcome (problems, events,
node), so the reports of a resumed run cover the whole class. Only the recorder writes it.
"""

import hashlib
import json
import sqlite3
import time
from dataclasses import asdict, fields
from functools import cache
from importlib.metadata import version
from pathlib import Path

import pixelschool
import pixelschool_admin
from pixelschool_admin.authoring.record import HIDDEN_DIR
from pixelschool_admin.grading.events import Event
from pixelschool_admin.grading.worker.task import Outcome

SCHEMA = """CREATE TABLE IF NOT EXISTS graded (
    assignment TEXT, student TEXT, key TEXT, ok INTEGER, seconds REAL, problems TEXT,
    events TEXT, host TEXT, recorded REAL, PRIMARY KEY (assignment, student))"""


def _update(digest, files):
    for name in sorted(files):
        data = files[name]
        digest.update(f"{name}\0{len(data)}\0".encode())
        digest.update(data)


# The instructor's code a grade is computed with, under pixelschool_admin/: the stages that
# run, judge and score a submission, and what they read. Intake, the engine, the results and
# the reports are not in it: editing them regrades nobody.
GRADE_CODE = (
    "grading/worker",
    "grading/sandbox",
    "grading/record",
    "grading/results/sanitise.py",  # runs before nbgrader scores
    "grading/settings.py",
    "grading/course.py",
    "grading/incidents.py",
    "authoring/notebooks.py",
    "authoring/record.py",
)


def grade_code_files():
    """The files ``kit_fingerprint`` hashes: the student runtime (every kernel imports it, and
    its checks decide) and ``GRADE_CODE``."""
    admin = Path(pixelschool_admin.__file__).parent
    roots = [Path(pixelschool.__file__).parent] + [admin / part for part in GRADE_CODE]
    found = []
    for root in roots:
        paths = sorted(root.rglob("*")) if root.is_dir() else [root]
        found += [p for p in paths if p.is_file() and p.suffix in (".py", ".npz", ".css")]
    return found


@cache
def kit_fingerprint():
    """A hash of the grading kit: the code a grade is computed with, the hidden expectations
    and nbgrader's version."""
    digest = hashlib.sha256()
    digest.update(f"nbgrader {version('nbgrader')}\0".encode())
    top = Path(pixelschool.__file__).parent.parent
    for path in grade_code_files():
        name = path.relative_to(top) if path.is_relative_to(top) else path
        digest.update(f"{Path(name).as_posix()}\0".encode())
        digest.update(path.read_bytes())
    for path in sorted(Path(HIDDEN_DIR).glob("*.npz")):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()


def settings_fingerprint(settings):
    """The settings that change a grade (not where or how safely it runs)."""
    shown = {
        "timeout": settings.timeout,
        "limits": asdict(settings.limits),
        "keras_home": settings.keras_home,
        "environment": sorted(settings.environment),
        "caps": [
            settings.notebook_timeout,
            settings.max_notebook_output_bytes,
            settings.max_cells,
            settings.max_notebook_bytes,
        ],
    }
    return json.dumps(shown, sort_keys=True)


def key(files, source, settings, duedate=None):
    """The content hash of one submission's grading (``files``, ``source``: name -> bytes)."""
    digest = hashlib.sha256()
    _update(digest, files)
    digest.update(b"\0source\0")
    _update(digest, source)
    digest.update(f"\0{kit_fingerprint()}\0{settings_fingerprint(settings)}\0{duedate}".encode())
    return digest.hexdigest()


class Ledger:
    """``reports/ledger.sqlite`` of a course: {(assignment, student): key and outcome}."""

    def __init__(self, course):
        self.path = course.report_path("ledger.sqlite")
        self._db = None

    def _connect(self, create):
        if self._db is None and (create or self.path.exists()):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path)
            self._db.execute(SCHEMA)
        return self._db

    def keys(self, assignment):
        """{student: key} recorded for ``assignment``."""
        db = self._connect(create=False)
        if db is None:
            return {}
        rows = db.execute("SELECT student, key FROM graded WHERE assignment = ?", (assignment,))
        return dict(rows.fetchall())

    def enter(self, outcome, key):
        """Note ``outcome`` as recorded under ``key`` (committed at once)."""
        db = self._connect(create=True)
        events = [asdict(e) for e in outcome.events]
        db.execute(
            "INSERT OR REPLACE INTO graded VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                outcome.assignment,
                outcome.student,
                key,
                int(outcome.ok),
                outcome.seconds,
                json.dumps(outcome.problems),
                json.dumps(events),
                outcome.host,
                time.time(),
            ),
        )
        db.commit()

    def outcome(self, assignment, student):
        """The recorded ``Outcome`` (marked ``skipped``), or None."""
        db = self._connect(create=False)
        row = (
            db
            and db.execute(
                "SELECT ok, seconds, problems, events, host FROM graded "
                "WHERE assignment = ? AND student = ?",
                (assignment, student),
            ).fetchone()
        )
        if not row:
            return None
        ok, seconds, problems, found, host = row
        names = {f.name for f in fields(Event)}
        found = [Event(**{k: v for k, v in e.items() if k in names}) for e in json.loads(found)]
        return Outcome(
            assignment,
            student,
            ok=bool(ok),
            seconds=seconds,
            problems=json.loads(problems),
            events=found,
            host=host,
            skipped=True,
        )

    def close(self):
        if self._db is not None:
            self._db.close()
            self._db = None
