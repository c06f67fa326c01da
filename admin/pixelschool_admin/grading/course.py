"""An nbgrader course directory, set up from ``solutions/``: one assignment per notebook.

The folders are nbgrader's own (``source``, ``release``, ``submitted``, ``autograded``,
``feedback``, ``gradebook.db``, and ``exchange`` for the local exchange); the kit adds
``lms`` (release zips for a learning platform) and ``reports``.
"""

import json
import shutil
import warnings
from pathlib import Path

import jsonschema
import nbgrader.api
import nbgrader.nbgraderformat.common
import sqlalchemy
from nbgrader.api import Gradebook
from nbgrader.apps import NbGraderAPI
from nbgrader.coursedir import CourseDirectory
from sqlalchemy.exc import SAWarning

from pixelschool_admin.authoring.build import course_config, put_scripts_on_path
from pixelschool_admin.authoring.notebooks import NotebookError, read_notebook
from pixelschool_admin.grading.sanitise import page_config
from pixelschool_admin.paths import ADMIN_DIR, REPO_ROOT, SOLUTIONS_DIR

DEFAULT_ROOT = REPO_ROOT / "course"

# nbgrader's gradebook code trips SQLAlchemy's autoflush warnings on every autograde: noise
# for an instructor, and nothing the course can act on.
warnings.filterwarnings("ignore", category=SAWarning)


class SchemaCheckedOnce:
    """``jsonschema`` as nbgrader's cell metadata validator uses it, with its schema checked
    once: ``jsonschema.validate`` checks the schema against the meta-schema again for every
    cell, a third of the time it takes to record a submission. Same validation, same errors."""

    validators = {}  # the schema as JSON -> its validator (nbgrader loads it for each use)

    @classmethod
    def validate(cls, instance, schema):
        key = json.dumps(schema, sort_keys=True)
        if key not in cls.validators:
            kind = jsonschema.validators.validator_for(schema)
            kind.check_schema(schema)
            cls.validators[key] = kind(schema)
        error = jsonschema.exceptions.best_match(cls.validators[key].iter_errors(instance))
        if error is not None:
            raise error


nbgrader.nbgraderformat.common.jsonschema = SchemaCheckedOnce


class OneEnginePerDatabase:
    """``create_engine`` as nbgrader's ``Gradebook`` uses it, with one SQLAlchemy engine per
    database: nbgrader opens a gradebook about eleven times to record one submission, each
    with an engine of its own that compiles every SQL statement again (a quarter of the
    recording time). A shared engine keeps its compiled statements; ``Gradebook.close()``
    still closes its connections (``dispose``), so nothing stays open between uses."""

    engines = {}  # (url, options) -> engine

    @classmethod
    def create_engine(cls, url, **options):
        key = (str(url), tuple(sorted(options.items())))
        if key not in cls.engines:
            cls.engines[key] = sqlalchemy.create_engine(url, **options)
        return cls.engines[key]


nbgrader.api.create_engine = OneEnginePerDatabase.create_engine


# nbgrader's own autograde preprocessors, with the hidden tests' judge after execution and
# the sanitiser after the judge (which reads the hidden tests' results from outputs).
NBGRADER_AUTOGRADE = [
    "nbgrader.preprocessors.Execute",
    "pixelschool_admin.grading.hidden.JudgeHiddenResults",
    "pixelschool_admin.grading.sanitise.SanitiseNotebook",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]


class GradingError(Exception):
    """A step of the grading pipeline could not be done; the message says why."""


class Course:
    """The course directory at ``root`` and nbgrader's API on it."""

    def __init__(self, root=DEFAULT_ROOT, **overrides):
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        put_scripts_on_path()
        self.config = course_config(self.root)
        self.config.merge(page_config())
        for section, values in overrides.items():
            for name, value in values.items():
                setattr(self.config[section], name, value)
        self.exchange.mkdir(exist_ok=True)
        self.write_config()
        self.coursedir = CourseDirectory(config=self.config)
        self.api = NbGraderAPI(coursedir=self.coursedir, config=self.config)

    def write_config(self):
        """``nbgrader_config.py`` in the course folder, for nbgrader's own commands and the
        formgrader started there: the course's settings from ``admin/``, this root."""
        text = (
            "c = get_config()  # noqa: F821\n"
            f"load_subconfig({str(ADMIN_DIR / 'nbgrader_config.py')!r})  # noqa: F821\n"
            f"c.CourseDirectory.root = {str(self.root)!r}\n"
            f"c.Exchange.root = {str(self.exchange)!r}\n"
            "# nbgrader's own collect (and the formgrader's) refuses unsafe inbound folders too\n"
            'c.ExchangeFactory.collect = "pixelschool_admin.grading.exchange.SafeCollect"\n'
            "# and nbgrader's own autograde judges the hidden tests' results (hidden.py)\n"
            f"c.Autograde.autograde_preprocessors = {NBGRADER_AUTOGRADE!r}\n"
            "# and every page made from a notebook (formgrader, feedback) shows it sanitised\n"
            "from pixelschool_admin.grading.sanitise import page_config  # noqa: E402\n"
            "c.merge(page_config())  # noqa: F821\n"
        )
        path = self.root / "nbgrader_config.py"
        if not path.exists() or path.read_text() != text:
            path.write_text(text)

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
        # A folder put there by hand under a name collect would refuse is not graded;
        # autograde reports it from ``refused_folders``.
        return [name for name, refusal in self._submitted(assignment) if refusal is None]

    def refused_folders(self, assignment):
        """[(name, why)] of ``submitted/<name>/<assignment>`` folders whose name is no id."""
        return [(name, refusal) for name, refusal in self._submitted(assignment) if refusal]

    def _submitted(self, assignment):
        """[(folder name, None or why it is no valid student id)] under ``submitted/``."""
        from pixelschool_admin.grading.ids import RefusedName, student_id

        found = []
        for path in sorted((self.root / "submitted").glob(f"*/{assignment}")):
            if not path.is_dir():
                continue
            try:
                student_id(path.parent.name)
                found.append((path.parent.name, None))
            except RefusedName as error:
                found.append((path.parent.name, str(error)))
        return found

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
