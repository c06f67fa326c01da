"""Judge the hidden tests' results in the instructor's process, outside the student's kernel.

A graded cell runs ``tests.test_<exercise>(<fn>, seed=<n>)``: in the kernel the check runs
its property checks and the student's function on the seed's inputs, and displays the
results (``RESULTS_MIME``); the expected results are not in the kernel's reach. Here, after
execution, each such cell's results are judged against ``admin/hidden/<exercise>.npz``
with the check's own judge. A wrong result, results that are missing, or inputs that are
not the recorded ones add an ``AssertionError`` output to the cell, so nbgrader scores it
0 and the feedback says why.
"""

import base64

import nbformat
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode

from courseadmin.authoring.notebooks import is_test_cell
from courseadmin.authoring.record import HIDDEN_CALL, HIDDEN_DIR
from coursekit.checks import recordings
from coursekit.checks.framework import CHECKS, RESULTS_MIME


def bundles(cell, exercise, seed):
    """The results a cell's run of ``exercise`` with ``seed`` displayed."""
    found = []
    for output in cell.get("outputs", []):
        bundle = output.get("data", {}).get(RESULTS_MIME)
        if isinstance(bundle, dict) and (bundle.get("exercise"), bundle.get("seed")) == (
            exercise,
            seed,
        ):
            found.append(bundle)
    return found


def judge_bundle(bundle, cases, check):
    """None when every result is right, else the message that names what is wrong."""
    if bundle.get("inputs") != recordings.digest([case.args for case in cases]):
        return (
            f"{check.name}: the hidden test ran on other inputs than the recorded ones "
            "(was NumPy's random generator replaced?), so it cannot be graded."
        )
    try:
        results = recordings.from_bytes(base64.b64decode(bundle["results"]))
    except Exception:  # noqa: BLE001  (whatever came out of the kernel, it is not ours)
        return f"{check.name}: the hidden test's results could not be read."
    if not isinstance(results, dict) or any(str(i) not in results for i in range(len(cases))):
        return f"{check.name} was not called on every hidden input."
    try:
        check.judge([results[str(i)] for i in range(len(cases))], cases)
    except AssertionError as wrong:
        return f"{wrong} (hidden test)"
    return None


def judge_cell(cell, hidden_dir=HIDDEN_DIR):
    """Messages for what is wrong in one graded cell's hidden results (empty: all right)."""
    if any(output.get("output_type") == "error" for output in cell.get("outputs", [])):
        return []  # the cell failed in the kernel already: nbgrader scores it 0
    import problem_unittests  # noqa: F401  (registers every check and its judge)

    messages = []
    for exercise, seed in HIDDEN_CALL.findall(cell.source):
        check, seed = CHECKS.get(exercise), int(seed)
        if check is None or check.judge is None or seed == recordings.VISIBLE_SEED:
            continue
        cases = recordings.read(recordings.recording_path(exercise, hidden_dir)).get(seed)
        if cases is None:
            raise FileNotFoundError(
                f"no hidden expectations for {exercise}, seed {seed}, in {hidden_dir}: "
                "run `make build`"
            )
        found = bundles(cell, exercise, seed)
        if not found:
            messages.append(f"{exercise}: the hidden test's results did not reach the grader.")
        messages += [m for bundle in found if (m := judge_bundle(bundle, cases, check))]
    return messages


def judge_notebook(nb, hidden_dir=HIDDEN_DIR):
    """Judge every graded cell of an executed notebook; add an error output where wrong."""
    for cell in nb.cells:
        if cell.cell_type == "code" and is_test_cell(cell):
            messages = judge_cell(cell, hidden_dir)
            if messages:
                cell.outputs.append(
                    nbformat.v4.new_output(
                        "error",
                        ename="AssertionError",
                        evalue="\n".join(messages),
                        traceback=["AssertionError: " + "\n".join(messages)],
                    )
                )
    return nb


class JudgeHiddenResults(NbGraderPreprocessor):
    """nbgrader preprocessor: :func:`judge_notebook`, after the execution pass."""

    hidden_dir = Unicode(str(HIDDEN_DIR), help="the hidden tests' recordings").tag(config=True)

    def preprocess(self, nb, resources):
        return judge_notebook(nb, self.hidden_dir), resources
