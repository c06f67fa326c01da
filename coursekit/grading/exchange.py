"""Getting notebooks to students and back: nbgrader's local exchange, and LMS zip files.

- ``release``: nbgrader's ``release_assignment`` into the exchange, and ``lms/<name>.zip``
  with the student notebook, to upload to a learning platform.
- ``collect``: nbgrader's ``collect`` from the exchange.
- ``collect_lms_zip``: a platform's "download all submissions" zip, Moodle's layout
  (``<Full Name>_<participant id>_assignsubmission_file_/<file>``), with each folder mapped
  to a student id through the roster. Folders that match no student are kept under
  ``unmatched/`` and reported, never dropped.
- ``submit``: nbgrader's own student-side submit, for the demo class and tests.
"""

import re
import shutil
import zipfile
from datetime import datetime
from pathlib import Path

from nbgrader.auth import Authenticator
from nbgrader.coursedir import CourseDirectory
from nbgrader.exchange.default import ExchangeSubmit

from coursekit.authoring.build import course_config
from coursekit.grading.course import GradingError
from coursekit.grading.roster import Roster

MOODLE_FOLDER = re.compile(r"^(?P<name>.+?)_(?P<lms_id>\d+)_assignsubmission_\w*$")


def release(course, assignment):
    """Release ``assignment`` to the exchange and as ``lms/<assignment>.zip``; return the zip."""
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


def collect(course, assignment):
    """Collect ``assignment`` from the exchange into ``submitted/``; return the student ids."""
    result = course.api.collect(assignment)
    if not result["success"]:
        raise GradingError(f"nbgrader could not collect {assignment}: {result.get('log')}")
    return course.students(assignment)


def submit(exchange_root, course_id, student, assignment_folder):
    """Submit ``assignment_folder`` (named after the assignment) as ``student``, with nbgrader."""
    folder = Path(assignment_folder).resolve()
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


def collect_lms_zip(course, archive, assignment, roster):
    """Unpack a Moodle-style submissions zip into ``submitted/<id>/<assignment>/``.

    Returns ``(collected ids, unmatched folder names)``. Each notebook keeps its name; the
    zip entry's date becomes nbgrader's ``timestamp.txt``.
    """
    if not isinstance(roster, Roster):
        roster = Roster.read(roster)
    collected, unmatched = set(), set()
    try:
        zipped = zipfile.ZipFile(archive)
    except (OSError, zipfile.BadZipFile) as error:
        raise GradingError(f"{archive} is not a zip file: {error}") from error
    with zipped:
        for entry in zipped.infolist():
            parts = Path(entry.filename).parts
            if entry.is_dir() or len(parts) < 2 or parts[-1].startswith("."):
                continue
            folder = parts[0]
            match = MOODLE_FOLDER.match(folder)
            student = match and roster.find(lms_id=match["lms_id"], name=match["name"])
            if student is None:
                unmatched.add(folder)
                target = course.root / "unmatched" / assignment / Path(*parts)
            else:
                collected.add(student)
                folder = course.path("submitted", student, assignment)
                folder.mkdir(parents=True, exist_ok=True)
                stamp = datetime(*entry.date_time).strftime("%Y-%m-%d %H:%M:%S.%f")
                (folder / "timestamp.txt").write_text(stamp)
                target = folder / Path(*parts[1:])
            target.parent.mkdir(parents=True, exist_ok=True)
            with zipped.open(entry) as source, open(target, "wb") as out:
                shutil.copyfileobj(source, out)
    return sorted(collected), sorted(unmatched)
