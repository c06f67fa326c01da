"""An nbgrader course directory, set up from ``solutions/``: one assignment per notebook.

The folders are nbgrader's own (``source``, ``release``, ``submitted``, ``autograded``,
``feedback``, ``gradebook.db``, and ``exchange`` for the local exchange); the kit adds
``lms`` (release zips for a learning platform) and ``reports``.
"""

import shutil
import warnings
from pathlib import Path

from nbgrader.api import Gradebook
from nbgrader.apps import NbGraderAPI
from nbgrader.coursedir import CourseDirectory
from sqlalchemy.exc import SAWarning
from traitlets.config import PyFileConfigLoader

from pixelschool_admin.authoring.build import course_config, put_scripts_on_path
from pixelschool_admin.authoring.notebooks import NotebookError, read_notebook
from pixelschool_admin.grading.errors import GradingError
from pixelschool_admin.grading.intake.names import RefusedName, student_id
from pixelschool_admin.grading.record import speedups
from pixelschool_admin.grading.settings import EXECUTE, autograde_chain
from pixelschool_admin.paths import ADMIN_DIR, DEFAULT_COURSE, SOLUTIONS_DIR

# Every file the kit writes under <course>/reports/, and what it holds.
REPORTS = "reports"
REPORT_FILES = {
    "events.csv": "what the instructor must be told, from every step (events.py)",
    "autograde.csv": "the latest run of each submission: graded, seconds, problems, node",
    "sandbox.csv": "the protections in force on the workers at the last autograde",
    "ledger.sqlite": "what is graded already, by content hash (record/ledger.py)",
    "logs": "logs/<assignment>/<student>.log: the kernels' standard error and watch",
    "grades.csv": "the grades, for the instructor (results/export.py)",
    "grades-moodle.csv": "the grades, for Moodle's grade import",
    "grades-canvas.csv": "the grades, for Canvas' gradebook import",
    "mistakes.csv": "per exercise, the mistakes the graded cells named and who made them "
    "(results/mistakes.py)",
    "report.html": "the report (results/report.py), with questions.csv, attention.csv and "
    "scores_by_notebook.png, scores_by_question.png",
    "similarity.csv": "pairs of students whose answers share much code, for a look by hand "
    "(results/similarity.py)",
}

# nbgrader's gradebook code trips SQLAlchemy's autoflush warnings on every autograde: noise
# for an instructor, and nothing the course can act on.
warnings.filterwarnings("ignore", category=SAWarning)


# nbgrader's own autograde (and the formgrader's): the grader's judge and the sanitiser too.
NBGRADER_AUTOGRADE = autograde_chain(EXECUTE)

# The course folder's ``nbgrader_config.py`` is the instructor's: made once, never rewritten.
# The kit's own settings live beside it in ``kit_config.py``, which it loads first.
KIT_CONFIG = "kit_config.py"
LOAD_KIT_CONFIG = f"load_subconfig({KIT_CONFIG!r})  # noqa: F821  the kit's settings, first"
COURSE_CONFIG = f"""\
# nbgrader settings for this course: yours. The kit's own settings (this folder, the
# exchange, the safe collect, the grader's judge, sanitised pages) are in {KIT_CONFIG},
# which every command of the kit rewrites; the lines below it win. Every course shares
# the settings of admin/nbgrader_config.py.
c = get_config()  # noqa: F821
{LOAD_KIT_CONFIG}

# c.ClusterGrading.jobs = 2
"""


def report_path(root, name):
    """``<root>/reports/<name>`` for a name of ``REPORT_FILES``, its folder made."""
    if name not in REPORT_FILES:
        raise ValueError(f"{name!r} is not one of the course's reports ({list(REPORT_FILES)})")
    folder = Path(root) / REPORTS
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name


def kit_config_text(root, exchange):
    """``kit_config.py``: the repository's course settings, this root, the kit's classes."""
    return (
        "# Written by the course kit on every command: edit nbgrader_config.py instead.\n"
        "c = get_config()  # noqa: F821\n"
        f"load_subconfig({str(ADMIN_DIR / 'nbgrader_config.py')!r})  # noqa: F821\n"
        f"c.CourseDirectory.root = {str(root)!r}\n"
        f"c.Exchange.root = {str(exchange)!r}\n"
        "# nbgrader's own collect (and the formgrader's) refuses unsafe inbound folders too\n"
        'c.ExchangeFactory.collect = "pixelschool_admin.grading.intake.exchange.SafeCollect"\n'
        "# and nbgrader's own autograde judges the hidden tests' results (hidden.py)\n"
        f"c.Autograde.autograde_preprocessors = {NBGRADER_AUTOGRADE!r}\n"
        "# and every page made from a notebook (formgrader, feedback) shows it sanitised\n"
        "from pixelschool_admin.grading.results.sanitise import page_config  # noqa: E402\n"
        "c.merge(page_config())  # noqa: F821\n"
    )


def written_by_an_earlier_kit(text):
    """Whether a course's ``nbgrader_config.py`` is one the kit wrote whole (before
    ``kit_config.py``): every line one of its own, none the instructor's."""
    own = ("c = get_config()", "load_subconfig(", "c.CourseDirectory.root =", "c.Exchange.root =",
           "c.ExchangeFactory.collect =", "c.Autograde.autograde_preprocessors =",
           "# nbgrader's own", "# and ", "c.merge(page_config())",
           # page_config's module, before and after grading/ was grouped by stage
           "from pixelschool_admin.grading.sanitise import",
           "from pixelschool_admin.grading.results.sanitise import")  # fmt: skip
    lines = [line for line in text.splitlines() if line.strip()]
    return bool(lines) and all(line.startswith(own) for line in lines) and KIT_CONFIG not in text


class Course:
    """The course directory at ``root`` and nbgrader's API on it."""

    def __init__(self, root=DEFAULT_COURSE, **overrides):
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        put_scripts_on_path()
        speedups.install()
        self.config = course_config(self.root)
        self.write_config()
        self.config.merge(self.read_config())
        self.config.CourseDirectory.root = str(self.root)  # --course, wherever the folder is
        for section, values in overrides.items():
            for name, value in values.items():
                setattr(self.config[section], name, value)
        self.exchange.mkdir(exist_ok=True)
        self.coursedir = CourseDirectory(config=self.config)
        self.api = NbGraderAPI(coursedir=self.coursedir, config=self.config)

    def write_config(self):
        """The kit's settings for this root in ``kit_config.py``, rewritten; the course's
        ``nbgrader_config.py`` (the instructor's) made once, or given the line that loads
        them. Both nbgrader's own commands and the formgrader started there read them."""
        kit = self.root / KIT_CONFIG
        text = kit_config_text(self.root, self.exchange)
        if not kit.exists() or kit.read_text() != text:
            kit.write_text(text)
        course = self.root / "nbgrader_config.py"
        if not course.exists() or written_by_an_earlier_kit(course.read_text()):
            course.write_text(COURSE_CONFIG)
        elif LOAD_KIT_CONFIG not in course.read_text().splitlines():
            # the instructor's lines stay as they are, after the kit's
            lines = course.read_text().splitlines(keepends=True)
            at = next((i + 1 for i, line in enumerate(lines) if "get_config()" in line), 0)
            load = ("" if at else "c = get_config()  # noqa: F821\n") + LOAD_KIT_CONFIG + "\n"
            course.write_text("".join(lines[:at] + [load] + lines[at:]))
            print(f"{course}: added the line that loads the kit's settings ({KIT_CONFIG})")

    def read_config(self):
        """The course's ``nbgrader_config.py`` as nbgrader reads it: the kit's settings, then
        the instructor's lines."""
        try:
            return PyFileConfigLoader("nbgrader_config.py", path=str(self.root)).load_config()
        except Exception as error:  # the instructor's Python: say where it went wrong
            raise GradingError(f"{self.root / 'nbgrader_config.py'}: {error}") from error

    @property
    def course_id(self):
        return self.config.CourseDirectory.course_id

    @property
    def exchange(self):
        return Path(self.config.Exchange.root)

    @property
    def db_path(self):
        return self.root / "gradebook.db"

    @property
    def db_url(self):
        return self.coursedir.db_url

    @property
    def reports(self):
        """``<root>/reports``: what the kit writes for the instructor (``REPORT_FILES``)."""
        return self.root / REPORTS

    def report_path(self, name):
        """``reports/<name>`` for a name of ``REPORT_FILES``, its folder made."""
        return report_path(self.root, name)

    def gradebook(self):
        """nbgrader's gradebook, as a context manager."""
        return Gradebook(self.db_url, self.course_id)

    def path(self, folder, student=".", assignment=""):
        """nbgrader's ``<root>/<folder>/<student>/<assignment>``."""
        return Path(self.coursedir.format_path(folder, student, assignment))

    def assignments(self):
        """The names of the assignments in ``source/``, sorted."""
        source = self.root / "source"
        return sorted(p.name for p in source.iterdir() if p.is_dir()) if source.exists() else []

    def students(self, assignment):
        """Ids of the students with a submission of ``assignment`` in ``submitted/``."""
        return self.submitted(assignment)[0]

    def submitted(self, assignment):
        """([student id], [(folder name, why it is no id)]) of the ``submitted/<name>/
        <assignment>`` folders: a folder put there by hand under a name collect would refuse
        is not graded, and autograde reports it."""
        students, refused = [], []
        for path in sorted((self.root / "submitted").glob(f"*/{assignment}")):
            if not path.is_dir():
                continue
            try:
                student_id(path.parent.name)
                students.append(path.parent.name)
            except RefusedName as error:
                refused.append((path.parent.name, str(error)))
        return students, refused

    def add_assignment(self, notebook, solutions_dir=SOLUTIONS_DIR):
        """Copy ``solutions/<notebook>.ipynb`` into ``source/`` and generate its release.

        This also records the assignment, its notebook and its graded cells in the
        gradebook. Re-running it after a change to the solution updates both.
        """
        solution = Path(solutions_dir) / f"{notebook}.ipynb"
        if not solution.exists():
            known = ", ".join(p.stem for p in sorted(Path(solutions_dir).glob("*.ipynb")))
            raise GradingError(f"no notebook {notebook!r} in {solutions_dir} (there are: {known})")
        try:
            read_notebook(solution)
        except NotebookError as error:
            raise GradingError(str(error)) from error
        source = self.root / "source" / notebook
        source.mkdir(parents=True, exist_ok=True)
        shutil.copy(solution, source / solution.name)
        result = self.api.generate_assignment(notebook, force=True)
        if not result["success"]:
            raise GradingError(f"nbgrader could not generate {notebook}:\n{result['log']}")
        return self.root / "release" / notebook
