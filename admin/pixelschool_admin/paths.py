"""The instructor's folders: the repository this package is run from."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS_DIR = REPO_ROOT / "solutions"
NOTEBOOKS_DIR = REPO_ROOT / "notebooks"
ADMIN_DIR = REPO_ROOT / "admin"
DEFAULT_COURSE = REPO_ROOT / "course"  # the nbgrader course folder of the commands
DEFAULT_ROSTER = ADMIN_DIR / "roster.csv"  # who the students are (intake/roster.py)
