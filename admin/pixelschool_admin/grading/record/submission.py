"""One submission as autograde plans it: read once from ``submitted/``, then carried on its task.

Its files are read once, before anything else: the ledger's key, the notebooks that will
not be read, and the bytes a worker gets all come from that one read, so what is graded is
what was keyed, even if the folder changes during the run. Submissions nbgrader cannot read
(not JSON, not a notebook) or too big to grade (``caps.oversized``) are kept beside
themselves as ``<name>.ipynb.unreadable`` and graded as missing: zero, as nbgrader grades a
missing file.
"""

from dataclasses import dataclass, field
from pathlib import Path

from pixelschool_admin.grading.record.ledger import key
from pixelschool_admin.grading.worker.caps import unreadable
from pixelschool_admin.grading.worker.task import read_files

UNREADABLE_SUFFIX = ".unreadable"


@dataclass
class Submission:
    """One student's submission of one assignment."""

    assignment: str
    student: str
    folder: Path  # submitted/<student>/<assignment>
    files: dict  # name -> bytes, as read
    key: str = ""  # the ledger's key of its grading
    unreadable: dict = field(default_factory=dict)  # notebook -> why it is not read

    @classmethod
    def read(cls, course, assignment, student):
        folder = course.path("submitted", student, assignment)
        return cls(assignment, student, folder, read_files(folder))

    def plan(self, source, settings, duedate):
        """Its ledger key, for the assignment's ``source`` files (name -> bytes), ``settings``
        and due date."""
        self.key = key(key_files(self.files), source, settings, duedate)

    def check(self, settings):
        """Find the notebooks nbformat cannot read, or too big for ``settings``."""
        self.unreadable = unreadable(self.files, settings)

    def worker_files(self):
        """What a worker gets: the unreadable notebooks under the name they are set aside as,
        so that nothing in the course folder is renamed before the canaries pass."""
        bad = self.unreadable
        return {
            name + UNREADABLE_SUFFIX if name in bad else name: data
            for name, data in self.files.items()
        }

    def problems(self):
        """One line for each notebook graded as missing because it is not read: found now,
        or set aside by an earlier run (unless one came since)."""
        suffix = ".ipynb" + UNREADABLE_SUFFIX
        kept = [n.removesuffix(UNREADABLE_SUFFIX) for n in self.files if n.endswith(suffix)]
        kept = [name for name in kept if "/" not in name]
        earlier = "set aside by an earlier run (not a readable notebook, or too big)"
        why = {name: earlier for name in kept if name not in self.files} | self.unreadable
        return [f"{name}: {why[name]}, graded as missing" for name in sorted(why)]

    def set_aside(self):
        """Rename the unreadable notebooks to ``<name>.ipynb.unreadable`` in ``submitted/``."""
        for name in self.unreadable:
            Path(self.folder, name).replace(Path(self.folder, name + UNREADABLE_SUFFIX))

    def release(self):
        """Drop the bytes, once its outcome is recorded."""
        self.files = {}


def key_files(files):
    """``files`` (name -> bytes) with ``x.ipynb.unreadable`` named ``x.ipynb`` (unless both
    are there): the ledger's key of a submission does not change when a file is set aside."""
    plain = {}
    for name, data in sorted(files.items()):
        original = name.removesuffix(UNREADABLE_SUFFIX)
        plain[original if original not in plain else name] = data
    return plain
