"""Build the student notebooks in notebooks/ from solutions/ with nbgrader's API.

Each solution notebook is one nbgrader assignment named after the notebook. The
build runs ``generate_assignment`` in a temporary course directory, so it never
touches an instructor's gradebook, and copies the release versions out.
"""

import os
import shutil
import sysconfig
import tempfile
import time
from pathlib import Path

from nbgrader.apps import NbGraderAPI
from nbgrader.coursedir import CourseDirectory
from nbgrader.utils import compute_checksum
from traitlets.config import Config, PyFileConfigLoader

from pixelschool_admin.authoring.notebooks import NotebookError, nbgrader_meta, read_notebook
from pixelschool_admin.paths import ADMIN_DIR, NOTEBOOKS_DIR, SOLUTIONS_DIR


def put_scripts_on_path():
    """Let nbgrader find the ``alembic`` command it runs, also from a venv that is not activated."""
    scripts = sysconfig.get_path("scripts")
    if scripts not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = os.pathsep.join([scripts, os.environ.get("PATH", "")])


def course_config(root):
    """The course's nbgrader config (admin/nbgrader_config.py) with its root set to ``root``."""
    config = Config()
    loader = PyFileConfigLoader("nbgrader_config.py", path=str(ADMIN_DIR))
    config.merge(loader.load_config())
    config.CourseDirectory.root = str(root)
    config.Exchange.root = str(Path(root) / "exchange")
    return config


def generate_student_versions(solutions_dir=SOLUTIONS_DIR, out_dir=NOTEBOOKS_DIR, only=None):
    """Write the student version of every notebook in ``solutions_dir`` into ``out_dir``.

    ``only``: names (stems) of the notebooks to build, all when None.
    Returns the paths written. Raises ``NotebookError`` naming the notebook when a
    source is corrupt or nbgrader refuses it; nothing in ``out_dir`` is changed then.
    """
    sources = sorted(Path(solutions_dir).glob("*.ipynb"))
    if only:
        sources = [source for source in sources if source.stem in only]
    put_scripts_on_path()
    with tempfile.TemporaryDirectory(prefix="pixelschool-build-") as root:
        config = course_config(root)
        Path(config.Exchange.root).mkdir()  # nbgrader's API insists on an exchange folder
        api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
        built = []
        for source in sources:
            read_notebook(source)  # a clear error for a corrupt source, before nbgrader's
            assignment = source.stem
            (Path(root) / "source" / assignment).mkdir(parents=True)
            shutil.copy(source, Path(root) / "source" / assignment / source.name)
            result = api.generate_assignment(assignment)
            if not result["success"]:
                raise NotebookError(
                    f"nbgrader could not build {source}:\n"
                    f"{result.get('error') or result.get('log')}"
                )
            built.append(Path(root) / "release" / assignment / source.name)
        Path(out_dir).mkdir(parents=True, exist_ok=True)
        for path in built:
            keep_student_work(Path(out_dir) / path.name)
        return [Path(shutil.copy(path, Path(out_dir) / path.name)) for path in built]


def holds_student_work(path):
    """True when a student notebook was run or has an answer that is no longer the stub."""
    try:
        nb = read_notebook(path)
    except NotebookError:
        return True  # unreadable, but perhaps someone's work: keep it
    for cell in nb.cells:
        meta = nbgrader_meta(cell)
        if cell.get("outputs"):
            return True
        if meta.get("solution") and meta.get("checksum") != compute_checksum(cell):
            return True
    return False


def keep_student_work(path):
    """Before ``path`` is overwritten, copy it aside if a student worked in it."""
    if path.exists() and holds_student_work(path):
        backup = path.with_name(f"{path.stem}.{time.strftime('%Y%m%d-%H%M%S')}.ipynb.bak")
        shutil.copy(path, backup)
        print(f"{path} held your work: saved a copy as {backup.name}")
