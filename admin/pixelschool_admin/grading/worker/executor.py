"""The executor of untrusted notebooks on a grading node.

``SandboxedExecute`` replaces nbgrader's ``Execute`` in the first, parallel pass: kernels run in
the sandbox; a cell that runs past the time limit or kills its kernel gets an error output
(so it scores zero) and the notebook is run again in a fresh kernel without it, within one
time budget for the whole notebook (``caps.TimeBudget``); graded test cells run against a
fresh copy of the checks, in a kernel put back as it started (its IPython hooks, builtins,
modules, tracing: ``pixelschool.pristine``), and what was put back is reported; outputs are
cut to a cap per cell and one per notebook.
"""

from contextlib import ExitStack, contextmanager

from jupyter_core.utils import run_sync
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import NotebookNode
from nbgrader.preprocessors import Execute
from traitlets import Bool, Float, Integer, Unicode

from pixelschool.checks.framework import RESULTS_MIME
from pixelschool_admin.authoring.notebooks import cell_grade_id, is_test_cell
from pixelschool_admin.authoring.record import HIDDEN_CALL
from pixelschool_admin.grading import incidents
from pixelschool_admin.grading.sandbox.kernel_manager import SandboxedKernelManager
from pixelschool_admin.grading.sandbox.watch import check_state
from pixelschool_admin.grading.settings import (
    MAX_CELL_OUTPUT_BYTES,
    MAX_NOTEBOOK_OUTPUT_BYTES,
    MAX_RESTARTS,
    PROVISIONAL_NOTEBOOK_TIMEOUT,
    STATE_CHECK_SECONDS,
)
from pixelschool_admin.grading.worker.caps import TimeBudget

# Run (silently, on one line so tracebacks keep their line numbers) before every graded test
# cell: a student cannot make the hidden tests pass by replacing tests.test_<name>.
PRISTINE_CHECKS = 'tests = __import__("pixelschool.pristine").pristine.checks(); '
ERROR_KEPT = 2000  # characters of an error's value and traceback lines kept past a cap
# A results output the grader reads (settings.TRANSCRIPT_LIMITS: 8 MB, base64) is kept whole.
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

    max_restarts = Integer(MAX_RESTARTS, help="fresh kernels after a timeout or a crash").tag(
        config=True
    )
    max_output_bytes = Integer(MAX_CELL_OUTPUT_BYTES, help="per cell, text and images").tag(
        config=True
    )
    max_notebook_output_bytes = Integer(
        MAX_NOTEBOOK_OUTPUT_BYTES, help="all the outputs of a notebook together"
    ).tag(config=True)
    notebook_timeout = Integer(
        PROVISIONAL_NOTEBOOK_TIMEOUT,
        help="seconds of cell execution for a whole notebook, re-runs included; what is not "
        "run within it scores zero (0: no budget). Autograde sets it from the canary",
    ).tag(config=True)
    pristine_checks = Bool(True, help="fresh checks before graded test cells").tag(config=True)
    state_check = Bool(
        True, help="around graded test cells, put the kernel back as it started and report"
    ).tag(config=True)
    state_check_seconds = Float(
        STATE_CHECK_SECONDS, help="for the kernel's answer to the state check"
    ).tag(config=True)
    incident_log = Unicode(
        "", help="file for what happened (timeouts, dead kernels, tampering...), JSON lines"
    ).tag(config=True)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("kernel_manager_class", SandboxedKernelManager)
        super().__init__(*args, **kwargs)
        # A stuck cell is not interrupted (a student can ignore SIGINT): the kernel is
        # replaced instead, see preprocess().
        self.interrupt_on_timeout = False

    def preprocess(self, nb, resources=None, km=None):
        failed = {}  # cell index -> the error output that stands in for its outputs
        budget = TimeBudget(self.notebook_timeout)
        for _attempt in range(self.max_restarts + 1):
            NotebookClient.__init__(self, nb, km)
            self.reset_execution_trackers()
            self._check_assign_resources(resources)
            self._running, self._capped = None, False
            sizes = {}  # cell index -> bytes of its outputs, this attempt
            try:
                with self._kernel():
                    info = self.wait_for_reply(self.kc.kernel_info())
                    self.nb.metadata["language_info"] = info["content"]["language_info"]
                    for index, cell in enumerate(self.nb.cells):
                        if index in failed:
                            cell.outputs = [failed[index]]
                            continue
                        if budget.spent():
                            return self._out_of_time(index, failed, budget)
                        self._running = index
                        with budget.cell(self):
                            self.preprocess_cell(cell, resources, index)
                        self._cap_notebook_output(cell, index, sizes)
                return self.nb, self.resources
            except Exception as error:
                if self._running is None:
                    raise self._start_error(error) from error
                if budget.spent():
                    return self._out_of_time(self._running, failed, budget)
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

    def _out_of_time(self, index, failed, budget):
        """The notebook's time budget is spent at cell ``index``: that cell and the code cells
        after it (but those that failed already) score zero with a ``TimeBudget`` error."""
        message = (
            f"the notebook used up its time budget ({budget.seconds} s for all its cells, "
            "re-runs after a timeout or a crash included); this cell was not run to its end"
        )
        cells = self.nb.cells
        code = [i for i in range(index, len(cells)) if cells[i].cell_type == "code"]
        for later in code:
            cells[later].outputs = [failed.get(later) or error_output("TimeBudget", message)]
        detail = (
            f"{budget.used:.1f} s of cells run, over the budget of {budget.seconds} s; this "
            f"cell and the {len(code) - 1} code cell(s) after it not run, scored 0"
        )
        self._incident("time budget", index, detail)
        return self.nb, self.resources

    def _cap_notebook_output(self, cell, index, sizes):
        """Cut the cell's outputs to what the notebook's total cap leaves (``sizes``: the
        other cells' bytes, this attempt). A graded test cell's count but are not cut: they
        decide its score (a cut adds a stderr note, which nbgrader scores 0; hidden results)
        and stay under the per-cell cap."""
        sizes[index] = outputs_size(cell)
        if is_test_cell(cell):
            return
        room = self.max_notebook_output_bytes - sum(sizes.values()) + sizes[index]
        if cap_outputs(cell, max(room, 0)):
            sizes[index] = outputs_size(cell)
            if not self._capped:  # one line for the report, at the first cut
                self._capped = True
                detail = (
                    f"the notebook's outputs reached its cap of "
                    f"{self.max_notebook_output_bytes:,} bytes: cut from this cell on"
                )
                self._incident("notebook output cut", index, detail)

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
        cell = self.nb.cells[index] if index is not None else {}
        where = cell_grade_id(cell) if cell else None
        incidents.note(self.incident_log, kind, where or f"cell {index + 1}", detail)

    def _check_state(self, index, when):
        """The state check ``when`` ("before" or "after") graded cell ``index``: the kernel
        put back as it started, and what its watch found changed reported (once a notebook).
        None when the cell's outputs stand, else the error output that replaces them: a
        kernel that cannot be checked, or that was changed while the cell ran."""
        watch = getattr(self.km, "watch", None)
        if not self.state_check or watch is None:
            return None
        found, problem = run_sync(check_state)(self.kc, watch, self.state_check_seconds)
        found = "; ".join(found)
        if problem:
            undone = "this graded cell was not run" if when == "before" else "its outputs dropped"
            self._incident_once("kernel unchecked", index, f"{problem}; {undone}")
            message = f"the grader could not check the kernel {when} this graded cell ({problem})"
            return error_output("StateCheckFailed", f"{message}; {undone}")
        if found and when == "before":
            self._incident_once("kernel tampering", index, f"{found} (put back before this cell)")
        elif found:
            self._incident_once("kernel tampering", index, f"{found} (while this cell ran)")
            message = f"the kernel was changed while this graded cell ran ({found})"
            return error_output("KernelChanged", f"{message}; its outputs were dropped")
        return None

    def _incident_once(self, kind, index, detail):
        said = self.__dict__.setdefault("_said", set())
        if (id(self.nb), kind, detail) not in said:
            said.add((id(self.nb), kind, detail))
            self._incident(kind, index, detail)

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
        if not (is_test_cell(cell) and (self.pristine_checks or self.state_check)):
            cell, resources = super().preprocess_cell(cell, resources, index)
        else:
            refused = self._check_state(index, "before")
            if refused is None:
                source = cell.source
                cell.source = (PRISTINE_CHECKS if self.pristine_checks else "") + source
                try:
                    cell, resources = super().preprocess_cell(cell, resources, index)
                finally:
                    cell.source = source
                refused = self._check_state(index, "after")
            if refused is not None:
                cell.outputs = [refused]
        calls = len(HIDDEN_CALL.findall(cell.source)) if is_test_cell(cell) else 0
        cut = cap_outputs(cell, self.max_output_bytes, calls, RESULT_BYTES)
        if cut:
            self._incident("output cut", index, f"{cut:,} bytes of output, cut to the cap")
        return cell, resources


def output_size(output):
    """Characters of text, data and metadata in one output, or of an error's text."""
    size = len(output.get("text", "")) + sum(len(str(v)) for v in output.get("data", {}).values())
    if output.get("metadata"):
        size += len(str(output["metadata"]))
    if output.get("output_type") == "error":
        size += len(str(output.get("ename", ""))) + len(str(output.get("evalue", "")))
        size += sum(len(str(line)) for line in output.get("traceback", []))
    return size


def outputs_size(cell):
    return sum(output_size(output) for output in cell.get("outputs", []))


def cut_error(output):
    """An error output with its value cut to ``ERROR_KEPT`` characters and its traceback to
    as many (its last 10 lines): a cell with an error output scores zero, so it stays."""
    lines = output.get("traceback", [])[-10:]
    return NotebookNode(
        {
            **output,
            "evalue": str(output.get("evalue", ""))[:ERROR_KEPT],
            "traceback": [str(line)[: ERROR_KEPT // 10] for line in lines],
        }
    )


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
        elif output.get("output_type") == "error":
            output = output if used + size <= budget else cut_error(output)
            kept.append(output)
            used += output_size(output)
        elif used + size <= budget:
            kept.append(output)
            used += size
        elif output.get("output_type") == "stream" and used < budget:
            kept.append(NotebookNode({**output, "text": output.text[: budget - used]}))
            used = budget
    note = f"\n[output cut: {total:,} bytes, more than the {max_bytes:,} kept]\n"
    # nbgrader scores a graded cell with any stderr 0: there, the grader's judgement decides
    stream = "stdout" if results else "stderr"
    kept.append(NotebookNode(output_type="stream", name=stream, text=note))
    cell.outputs = kept
    return total
