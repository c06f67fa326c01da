"""nbgrader preprocessors for grading untrusted notebooks.

- ``SandboxedExecute`` replaces nbgrader's ``Execute`` in the first, parallel pass: kernels run
  in the sandbox; a cell that runs past the time limit or kills its kernel gets an error
  output (so it scores zero) and the notebook is run again in a fresh kernel without it;
  graded test cells run against a fresh copy of the checks; oversized outputs are cut.
- ``ReplayExecution`` replaces ``Execute`` in the second, serial pass, which is nbgrader's own
  ``autograde``: it copies the outputs of the first pass into the notebook, so nbgrader
  scores and records exactly what the sandboxed run produced.
"""

import json
from contextlib import ExitStack, contextmanager
from pathlib import Path

from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import NotebookNode
from nbgrader.preprocessors import Execute, NbGraderPreprocessor
from traitlets import Bool, Integer, Unicode

from courseadmin.authoring.notebooks import is_test_cell, nbgrader_meta, read_notebook
from courseadmin.authoring.record import HIDDEN_CALL
from courseadmin.grading.sandbox import SandboxedKernelManager
from coursekit.checks.framework import RESULTS_MIME

# Run (silently, on one line so tracebacks keep their line numbers) before every graded test
# cell: a student cannot make the hidden tests pass by replacing tests.test_<name>.
PRISTINE_CHECKS = 'tests = __import__("coursekit.pristine").pristine.checks(); '
# A results bundle the grader reads (hidden.PAYLOAD_LIMITS: 8 MB, base64) is kept whole.
RESULT_BYTES = 8_000_000 * 4 // 3 + 10_000


class KernelStartError(RuntimeError):
    """The kernel did not start: a fault of the grading environment, not of the student."""


def tail(path, size=3000):
    """The last ``size`` characters of a text file ('' if there is none)."""
    try:
        with open(path, "rb") as f:
            f.seek(0, 2)
            f.seek(max(0, f.tell() - size))
            return f.read().decode("utf-8", "replace").strip()
    except (OSError, TypeError):
        return ""


def error_output(name, message):
    """An nbformat error output; nbgrader gives a graded cell with one zero points."""
    return NotebookNode(
        output_type="error", ename=name, evalue=message, traceback=[f"{name}: {message}"]
    )


class SandboxedExecute(Execute):
    """nbgrader's ``Execute`` with sandboxed kernels, restarts, fresh checks and output caps."""

    max_restarts = Integer(3, help="fresh kernels after a timeout or a crash").tag(config=True)
    max_output_bytes = Integer(5_000_000, help="per cell, text and images").tag(config=True)
    pristine_checks = Bool(True, help="fresh checks before graded test cells").tag(config=True)
    incident_log = Unicode(
        "", help="file for what happened (timeouts, dead kernels, outputs cut), JSON lines"
    ).tag(config=True)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("kernel_manager_class", SandboxedKernelManager)
        super().__init__(*args, **kwargs)
        # A stuck cell is not interrupted (a student can ignore SIGINT): the kernel is
        # replaced instead, see preprocess().
        self.interrupt_on_timeout = False

    def preprocess(self, nb, resources=None, km=None):
        failed = {}  # cell index -> the error output that stands in for its outputs
        for _attempt in range(self.max_restarts + 1):
            NotebookClient.__init__(self, nb, km)
            self.reset_execution_trackers()
            self._check_assign_resources(resources)
            self._running = None
            try:
                with self._kernel():
                    info = self.wait_for_reply(self.kc.kernel_info())
                    self.nb.metadata["language_info"] = info["content"]["language_info"]
                    for index, cell in enumerate(self.nb.cells):
                        if index in failed:
                            cell.outputs = [failed[index]]
                            continue
                        self._running = index
                        self.preprocess_cell(cell, resources, index)
                return self.nb, self.resources
            except Exception as error:
                if self._running is None:
                    raise self._start_error(error) from error
                # Anything else (a forked child garbling the kernel's messages, say) is this
                # cell's failure too: it scores zero and the rest runs in a new kernel.
                kind, summary, failed[self._running] = self._failure(error)
                self._incident(kind, self._running, summary)
                self.log.warning("cell %d: %s; restarting the kernel", self._running, error)
        # Too many failures: whatever did not run scores zero.
        self._incident("kernel died", self._running, "too many restarts; later cells not run")
        for index in range(self._running, len(nb.cells)):
            cell = nb.cells[index]
            if cell.cell_type == "code":
                cell.outputs = [failed.get(index) or error_output("NotRun", "kernel gave up")]
        return nb, resources

    @contextmanager
    def _kernel(self):
        with ExitStack() as stack:
            try:
                stack.enter_context(self.setup_kernel())
            except Exception as error:  # noqa: BLE001  (re-raised with its real cause)
                raise self._start_error(error) from error
            yield

    def _start_error(self, error):
        stderr = tail(self.config.SandboxedKernelManager.get("stderr_log"))
        return KernelStartError(
            f"the kernel did not start ({type(error).__name__}: {error})"
            + (f"; its standard error ends with:\n{stderr}" if stderr else "")
        )

    def _incident(self, kind, index, detail):
        """Note one incident in ``incident_log`` (JSON lines: kind, cell, detail)."""
        if not self.incident_log:
            return
        cell = self.nb.cells[index] if index is not None else {}
        where = nbgrader_meta(cell).get("grade_id") if cell else None
        line = {"kind": kind, "cell": where or f"cell {index + 1}", "detail": detail}
        with open(self.incident_log, "a", encoding="utf-8") as f:
            f.write(json.dumps(line) + "\n")

    def _failure(self, error):
        """(incident kind, one line for the report, the error output that stands in for the
        cell's outputs) for an error that stopped a cell."""
        after = "the cells after it ran in a new kernel"
        if isinstance(error, CellTimeoutError):
            message = (
                f"this cell ran longer than {self.timeout} s and was stopped (an endless loop?)"
            )
            summary = f"stopped after {self.timeout} s; {after}"
            return "timeout", summary, error_output("CellTimeoutError", f"{message}; {after}")
        if isinstance(error, DeadKernelError):
            message = "the Python kernel died running this cell (memory limit, crash or exit)"
            summary = f"the kernel died; {after}"
            return "kernel died", summary, error_output("KernelDied", f"{message}; {after}")
        first = (str(error).strip().splitlines() or [""])[0]
        message = (
            f"the grader could not follow the kernel while it ran this cell "
            f"({type(error).__name__}: {str(error)[:200]}); a process it started may "
            "have written to the kernel's channels"
        )
        summary = f"{type(error).__name__}: {first[:150]}; {after}"
        return "kernel died", summary, error_output("KernelBroken", f"{message}; {after}")

    def preprocess_cell(self, cell, resources, index):
        if not (self.pristine_checks and is_test_cell(cell)):
            cell, resources = super().preprocess_cell(cell, resources, index)
        else:
            source = cell.source
            cell.source = PRISTINE_CHECKS + source
            try:
                cell, resources = super().preprocess_cell(cell, resources, index)
            finally:
                cell.source = source
        calls = len(HIDDEN_CALL.findall(cell.source)) if is_test_cell(cell) else 0
        cut = cap_outputs(cell, self.max_output_bytes, calls, RESULT_BYTES)
        if cut:
            self._incident("output cut", index, f"{cut:,} bytes of output, cut to the cap")
        return cell, resources


def output_size(output):
    """Bytes of text and data in one output."""
    text = output.get("text", "")
    data = output.get("data", {})
    return len(text) + sum(len(str(value)) for value in data.values())


def cap_outputs(cell, max_bytes, results=0, result_bytes=0):
    """Cut a cell's outputs to ``max_bytes``, saying so in a last stream output.

    Errors are kept, and so are the first ``results`` results bundles of hidden tests
    (``RESULTS_MIME``) no larger than ``result_bytes`` each, the others cut first: what the
    student's code prints must not push the grader's input out. Returns the size before the
    cut, or 0 when nothing was cut."""
    outputs = cell.get("outputs", [])
    total = sum(output_size(output) for output in outputs)
    if total <= max_bytes:
        return 0
    handed_over = [
        index
        for index, output in enumerate(outputs)
        if RESULTS_MIME in (output.get("data") or {}) and output_size(output) <= result_bytes
    ][:results]
    budget = max_bytes - sum(output_size(outputs[index]) for index in handed_over)
    kept, used = [], 0
    for index, output in enumerate(outputs):
        size = output_size(output)
        if index in handed_over:
            kept.append(output)
        elif output.get("output_type") == "error" or used + size <= budget:
            kept.append(output)
            used += size
        elif output.get("output_type") == "stream" and used < budget:
            kept.append(NotebookNode({**output, "text": output.text[: budget - used]}))
            used = budget
    note = f"\n[output cut: {total:,} bytes, more than the {max_bytes:,} kept]\n"
    kept.append(NotebookNode(output_type="stream", name="stderr", text=note))
    cell.outputs = kept
    return total


class ReplayExecution(NbGraderPreprocessor):
    """Put the outputs of an earlier execution into the notebook instead of executing it.

    ``executed_root``: a folder with ``<student>/<assignment>/<notebook>.ipynb`` executed
    notebooks (nbgrader's autograded layout). Cells are matched by position and must have the
    same source and grade id; a notebook that does not match is an error, never a guess.
    """

    executed_root = Unicode("", help="where the executed notebooks are").tag(config=True)

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        path = (
            Path(self.executed_root)
            / info["student"]
            / info["assignment"]
            / f"{info['notebook']}.ipynb"
        )
        executed = read_notebook(path)
        if len(executed.cells) != len(nb.cells):
            raise ValueError(f"{path} has {len(executed.cells)} cells, not {len(nb.cells)}")
        for cell, done in zip(nb.cells, executed.cells, strict=True):
            same_id = nbgrader_meta(cell).get("grade_id") == nbgrader_meta(done).get("grade_id")
            if cell.source != done.source or not same_id:
                raise ValueError(f"{path}: cell {nbgrader_meta(cell).get('grade_id')} differs")
            if cell.cell_type == "code":
                cell.outputs = done.outputs
                cell.execution_count = done.get("execution_count")
        nb.metadata["language_info"] = executed.metadata.get("language_info", {})
        return nb, resources
