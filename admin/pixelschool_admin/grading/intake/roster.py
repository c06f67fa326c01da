"""The class roster, ``admin/roster.csv``: who the students are, and their LMS ids.

Columns: ``id`` (the nbgrader student id, checked by ``names.student_id``: spaces and non-ASCII
letters are fine, ``/``, ``..``, ``+`` and control characters are not),
``first_name``, ``last_name``, ``email``, ``lms_id`` (the participant id the learning
platform puts in its download folder names). See ``admin/roster.example.csv``.
"""

import csv
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from pixelschool_admin.grading.errors import GradingError
from pixelschool_admin.grading.intake.names import RefusedName, student_id
from pixelschool_admin.paths import DEFAULT_ROSTER

COLUMNS = ("id", "first_name", "last_name", "email", "lms_id")


def _normalised(name):
    return " ".join(unicodedata.normalize("NFC", name).casefold().split())


@dataclass
class Roster:
    students: list  # dicts with COLUMNS as keys
    source: str = "roster"  # where the entries come from, for the messages
    lines: list | None = None  # each entry's line in ``source``

    def __post_init__(self):
        """Every id checked (``names.student_id``), once, and none repeated."""
        for index, student in enumerate(self.students):
            where = f"line {self.lines[index]}" if self.lines else f"entry {index + 1}"
            try:
                student["id"] = student_id(student["id"])
            except RefusedName as error:
                raise GradingError(f"{self.source} {where}: {error}") from error
        ids = [s["id"] for s in self.students]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise GradingError(f"{self.source}: repeated student ids: {duplicates}")

    @classmethod
    def read(cls, path=DEFAULT_ROSTER):
        path = Path(path)
        if not path.exists():
            raise GradingError(f"no roster at {path}: copy admin/roster.example.csv and fill it in")
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            missing = [c for c in ("id",) if c not in (reader.fieldnames or [])]
            if missing:
                raise GradingError(f"{path} has no {missing[0]!r} column (columns: {COLUMNS})")
            students, lines = [], []
            for row in reader:
                students.append({c: (row.get(c) or "").strip() for c in COLUMNS})
                lines.append(reader.line_num)
        return cls(students, str(path), lines)

    def write(self, path):
        with open(path, "w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, COLUMNS)
            writer.writeheader()
            writer.writerows(self.students)

    def find(self, lms_id=None, name=None):
        """The id of the student with this LMS id, else with this full name, else None."""
        for student in self.students:
            if lms_id and student["lms_id"] == lms_id:
                return student["id"]
        for student in self.students:
            full = f"{student['first_name']} {student['last_name']}"
            if name and _normalised(full) == _normalised(name):
                return student["id"]
        return None

    def add_to_gradebook(self, course):
        """Create or update every student in nbgrader's gradebook."""
        with course.gradebook() as gb:
            for s in self.students:
                gb.update_or_create_student(
                    s["id"],
                    first_name=s["first_name"] or None,
                    last_name=s["last_name"] or None,
                    email=s["email"] or None,
                    lms_user_id=s["lms_id"] or None,
                )
