"""End to end, in a real browser (headless Chromium driven by Playwright).

* A student opens notebook 01 in JupyterLab, writes ``one_hot``, runs it and its check, and sees
  the check pass.
* An instructor opens nbgrader's formgrader on an autograded course and finds both students'
  submissions.

Screenshots go to ``$TEST_ARTIFACTS`` (default: ``test-artifacts/browser/`` in the repository,
not committed); their paths are printed.
"""

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

from pixelschool_admin.paths import NOTEBOOKS_DIR, REPO_ROOT, SOLUTIONS_DIR

CHROMIUM = Path("/usr/bin/chromium")
if not os.access(CHROMIUM, os.X_OK) or not CHROMIUM.is_file():  # a file Chromium can run
    pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="Playwright is not installed (pip install playwright)"
)

pytestmark = pytest.mark.xdist_group("browser")  # one worker, one browser

NOTEBOOK = "01_data_preparation"
STUDENTS = ["ana", "Zoë Núñez"]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
BIN = Path(sys.executable).parent  # the environment's own jupyter, beside this Python
WAIT_MS = 60_000  # for the kernel, a cell's output, a page
ACTIVE = re.compile(r"\bjp-mod-active\b")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def read_cells(path):
    return json.loads(Path(path).read_text(encoding="utf-8"))["cells"]


def grade_id(cell):
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def cell_index(cells, wanted):
    """Index of the cell whose nbgrader grade id is ``wanted``."""
    return next(i for i, cell in enumerate(cells) if grade_id(cell) == wanted)


def source(cell):
    text = cell["source"]
    return text if isinstance(text, str) else "".join(text)


def solution_code(name):
    """The solution's cell ``name``, without nbgrader's solution markers."""
    cells = read_cells(SOLUTIONS_DIR / f"{NOTEBOOK}.ipynb")
    lines = source(cells[cell_index(cells, name)]).splitlines()
    return "\n".join(
        line
        for line in lines
        if "### BEGIN SOLUTION" not in line and "### END SOLUTION" not in line
    )


@contextmanager
def jupyter_lab(root, scratch):
    """``jupyter lab`` serving ``root`` (also its working directory); yields (url, token)."""
    port, token = free_port(), secrets.token_hex(16)
    scratch.mkdir(parents=True, exist_ok=True)
    settings = scratch / "user-settings"
    # No "would you like Jupyter news?" toast over the screenshots, and no request for news.
    notification = settings / "@jupyterlab" / "apputils-extension"
    notification.mkdir(parents=True, exist_ok=True)
    (notification / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False})
    )
    env = dict(
        os.environ,
        COURSE_FAST="1",
        COURSE_OFFLINE="1",
        PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        # This server's state stays in the scratch folder: no saved layout from an earlier run.
        JUPYTERLAB_SETTINGS_DIR=str(settings),
        JUPYTERLAB_WORKSPACES_DIR=str(scratch / "workspaces"),
        JUPYTER_RUNTIME_DIR=str(scratch / "runtime"),
    )
    command = [
        str(BIN / "jupyter"),
        "lab",
        "--no-browser",
        f"--port={port}",
        "--ip=127.0.0.1",
        f"--ServerApp.token={token}",
        f"--ServerApp.root_dir={root}",
        "--allow-root",
    ]
    log_path = scratch / "jupyter-lab.log"
    url = f"http://127.0.0.1:{port}"
    with open(log_path, "wb") as log:
        server = subprocess.Popen(
            command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            if server.poll() is not None:
                pytest.fail(f"jupyter lab exited ({server.returncode}):\n{log_path.read_text()}")
            try:
                with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2):
                    break
            except (urllib.error.URLError, OSError):
                if time.monotonic() > deadline:
                    pytest.fail(f"jupyter lab did not answer in 60 s:\n{log_path.read_text()}")
                time.sleep(0.25)
        yield url, token
    finally:
        stop(server)


def stop(server):
    """Stop the server (it shuts its kernels down), then anything left in its process group."""
    if server.poll() is None:
        server.terminate()  # SIGTERM: jupyter server shuts its kernels down and exits
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
    try:
        os.killpg(server.pid, signal.SIGKILL)  # its own group (start_new_session): kernels
    except ProcessLookupError:
        pass


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="en-US")
    context.set_default_timeout(WAIT_MS)
    sync_api.expect.set_options(timeout=WAIT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def artifacts():
    folder = Path(os.environ.get("TEST_ARTIFACTS") or REPO_ROOT / "test-artifacts" / "browser")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def screenshot(page, folder, name):
    path = folder / name
    page.screenshot(path=str(path))
    print(f"screenshot: {path}")
    return path


def test_student_fills_in_one_hot_and_its_check_passes(tmp_path, page, artifacts):
    expect = sync_api.expect
    work = tmp_path / "student"
    work.mkdir()
    shutil.copy(NOTEBOOKS_DIR / f"{NOTEBOOK}.ipynb", work)
    cells = read_cells(work / f"{NOTEBOOK}.ipynb")
    setup, answer = cell_index(cells, "setup"), cell_index(cells, "one_hot")
    check = answer + 1
    assert "raise NotImplementedError()" in source(cells[answer])
    assert source(cells[check]).strip() == "tests.test_one_hot(one_hot)"
    code = solution_code("one_hot")
    assert "return np.eye(number_classes, dtype=np.float32)[vector]" in code

    with jupyter_lab(work, tmp_path / "lab") as (url, token):
        page.goto(f"{url}/lab/tree/{NOTEBOOK}.ipynb?token={token}")
        panel = page.locator(".jp-NotebookPanel").filter(has_text="01 · Data preparation")
        notebook_cells = panel.locator(".jp-Notebook .jp-Notebook-cell")
        expect(notebook_cells).to_have_count(len(cells))
        # The kernel has started: the status bar names it and says it is idle.
        status_bar = page.locator("#jp-main-statusbar")
        expect(status_bar.get_by_text(re.compile(r"Python 3.*\| Idle"))).to_be_visible()
        expect(panel.locator(".jp-Notebook-ExecutionIndicator")).to_have_attribute(
            "data-status", "idle"
        )
        screenshot(page, artifacts, "student-notebook.png")

        def run(index):
            cell = notebook_cells.nth(index)
            cell.scroll_into_view_if_needed()
            cell.locator(".cm-content").click()
            expect(cell).to_have_class(ACTIVE)
            page.keyboard.press("Shift+Enter")

        run(setup)

        editor = notebook_cells.nth(answer).locator(".cm-content")
        editor.scroll_into_view_if_needed()
        editor.click()
        expect(notebook_cells.nth(answer)).to_have_class(ACTIVE)
        page.keyboard.press("ControlOrMeta+A")
        page.keyboard.press("Delete")
        page.keyboard.insert_text(code)  # as a paste: no auto-closed brackets or quotes
        expect(editor).to_have_text(code.replace("\n", ""), use_inner_text=False)
        page.keyboard.press("Shift+Enter")

        run(check)
        output = notebook_cells.nth(check).locator(".jp-OutputArea")
        passed = output.get_by_text("✔ one_hot: all tests passed.")
        expect(passed).to_be_visible()
        expect(output).not_to_contain_text("Error")
        # The setup and the answer ran too, without an error.
        for index in (setup, answer):
            prompt = notebook_cells.nth(index).locator(".jp-InputArea-prompt")
            expect(prompt).to_have_text(re.compile(r"\[\d+\]:"))
            expect(notebook_cells.nth(index).locator(".jp-OutputArea")).not_to_contain_text("Error")
        # The answer at the top of the view, its check and the passed line below it.
        notebook_cells.nth(answer).evaluate("cell => cell.scrollIntoView({block: 'start'})")
        expect(passed).to_be_in_viewport()
        screenshot(page, artifacts, "check-passed.png")


def test_formgrader_lists_the_autograded_submissions(tmp_path, page, artifacts):
    from pixelschool_admin.grading.course import Course
    from pixelschool_admin.grading.record.autograde import autograde
    from pixelschool_admin.grading.settings import Settings

    expect = sync_api.expect
    course = Course(tmp_path / "course")
    course.add_assignment(NOTEBOOK)
    released = course.path("release", ".", NOTEBOOK) / f"{NOTEBOOK}.ipynb"
    for student in STUDENTS:
        nb = json.loads(released.read_text(encoding="utf-8"))
        if student == "ana":  # ana solves one_hot, so her score is not zero
            nb["cells"][cell_index(nb["cells"], "one_hot")]["source"] = solution_code("one_hot")
        folder = course.path("submitted", student, NOTEBOOK)
        folder.mkdir(parents=True)
        (folder / f"{NOTEBOOK}.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    outcomes = autograde(course, jobs=2, settings=Settings(timeout=60))
    assert sorted(o.student for o in outcomes if o.ok) == sorted(STUDENTS), outcomes
    assert (course.root / "nbgrader_config.py").exists()

    with jupyter_lab(course.root, tmp_path / "lab") as (url, token):
        page.goto(f"{url}/formgrader?token={token}")  # redirects to manage_assignments
        expect(page.get_by_role("heading", name="Manage Assignments")).to_be_visible()
        row = page.locator("#main-table tr").filter(has_text=NOTEBOOK)
        submissions = row.locator("td.num-submissions")
        expect(submissions).to_have_text(str(len(STUDENTS)))
        submissions.get_by_role("link").click()

        expect(page).to_have_url(re.compile(rf"/formgrader/manage_submissions/{NOTEBOOK}$"))
        expect(page.get_by_role("heading", name="Manage Submissions")).to_be_visible()
        rows = page.locator("#main-table tr")
        expect(rows).to_have_count(len(STUDENTS))
        row = {
            student: rows.filter(has=page.locator("td.student-id").get_by_text(student, exact=True))
            for student in STUDENTS
        }
        for student in STUDENTS:
            expect(row[student]).to_have_count(1)
            expect(row[student].locator("td.status")).to_have_text("graded")
        expect(row["ana"].locator("td.score")).not_to_have_text(re.compile(r"^\s*0 /"))
        screenshot(page, artifacts, "formgrader.png")
