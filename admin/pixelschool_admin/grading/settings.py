"""Every grading setting: its default, its unit and where it acts, in one place.

A setting is given in one of two ways:

- **per run**, as ``pixelschool-admin autograde`` options or ``autograde(settings=...)``:
  ``Settings``, sent with every task to the workers, where ``Settings.nbgrader_config``
  hands it to nbgrader's configurable classes (``SandboxedExecute``,
  ``SandboxedKernelManager``). The ledger's key holds it: a changed setting regrades.
- **per course**, in the course's ``nbgrader_config.py``: where submissions run
  (``ClusterGrading``), and the traits whose defaults are the constants below
  (``c.SafeCollect.clock_skew``, ``c.SandboxedExecute.max_restarts``, ...).

nbgrader's autograde is one chain of preprocessors (``autograde_chain``), run three ways:
by nbgrader's own ``autograde`` and the formgrader (``Execute``), on a worker (``SandboxedExecute``,
nothing judged or scored) and by the recorder (``ReplayExecution``, then judged and scored).

Not here, as rules rather than settings: what a page may show (``results/sanitise.py``'s
allow-list and Content-Security-Policy) and the names accepted from outside
(``intake/names.py``).
"""

from dataclasses import dataclass, field

from traitlets import Dict, Float, Integer
from traitlets.config import Configurable

from pixelschool.checks import recordings

GIB = 2**30
MIB = 2**20

# Execution, per cell and per notebook (worker/executor.py)
CELL_TIMEOUT = 120  # seconds per cell; a cell past it scores 0 and the rest runs again
MAX_RESTARTS = 3  # fresh kernels after a timeout or a crash, per notebook
MAX_CELL_OUTPUT_BYTES = 5_000_000  # text and images of one cell, beyond which they are cut
MAX_NOTEBOOK_OUTPUT_BYTES = 20_000_000  # all the outputs of a notebook together
STATE_CHECK_SECONDS = 10  # for the kernel's answer to the state check around graded cells
# Seconds of cell execution for a whole notebook, re-runs included: the canary's own budget,
# and that of students sent before their assignment's canary finished (worker/caps.py).
PROVISIONAL_NOTEBOOK_TIMEOUT = 600
# A submission's notebook budget: its assignment's canary seconds times this, plus the margin.
BUDGET_FACTOR, BUDGET_MARGIN = 10, 60

# Submissions set aside unread and graded 0 (worker/caps.py)
MAX_CELLS = 1000
MAX_NOTEBOOK_BYTES = 128 * MIB  # submitted, or once executed

# What one transcript handed over by a student's kernel may hold (record/hidden.py).
TRANSCRIPT_LIMITS = recordings.Limits(
    stored_bytes=8_000_000,  # the compressed .npz (the cell's output cap is 5 MB)
    array_bytes=256_000_000,  # every array reference counted: no bomb of shared arrays
    nodes=200_000,  # values in the JSON tree
    depth=64,
)

# Intake (intake/exchange.py): an inbound folder dated later than now plus this is refused.
CLOCK_SKEW = 300

# The report (results/report.py): "slow" is this many times the class median, and this much more.
SLOW_FACTOR, SLOW_MARGIN = 5, 10


@dataclass(frozen=True)
class Limits:
    """Resource limits for one kernel (bytes, seconds, counts), set by ``sandbox/launch.py``."""

    memory: int = 4 * GIB  # address space: TensorFlow alone maps about 2.5 GiB
    file_size: int = 256 * MIB
    disk: int = 512 * MIB  # each writable folder (working folder, /tmp); needs bubblewrap
    open_files: int = 1024
    cpu_seconds: int = 1800
    processes: int = 256  # processes and threads together (TensorFlow starts dozens)


# Variables of the instructor's environment that change how notebooks run: sent with tasks.
SENT_ENVIRONMENT = ("COURSE_FAST", "KERAS_BACKEND")


def sent_environment():
    import os

    return tuple((name, os.environ[name]) for name in SENT_ENVIRONMENT if name in os.environ)


@dataclass(frozen=True)
class Settings:
    """How submissions are executed, for one autograde run."""

    timeout: int = CELL_TIMEOUT
    limits: Limits = Limits()
    keras_home: str | None = None  # datasets the sandbox may read; None: the Keras cache
    environment: tuple = field(default_factory=sent_environment)
    allow_unprotected: bool = False  # grade on a node without bubblewrap (a remote one)
    warm_kernels: bool = True  # fork kernels from a zygote with the imports done (warm.py)
    # Seconds of cell execution per notebook, re-runs included. None: each assignment's from
    # its canary (BUDGET_FACTOR, BUDGET_MARGIN); PROVISIONAL_NOTEBOOK_TIMEOUT until then.
    notebook_timeout: int | None = None
    max_notebook_output_bytes: int = MAX_NOTEBOOK_OUTPUT_BYTES
    max_cells: int = MAX_CELLS
    max_notebook_bytes: int = MAX_NOTEBOOK_BYTES

    def nbgrader_config(self):
        """These settings as traitlets config sections for the worker's scratch course."""
        limits = self.limits
        manager = {
            "memory": limits.memory,
            "cpu_seconds": limits.cpu_seconds,
            "processes": limits.processes,
            "disk": limits.disk,
        }
        if self.keras_home is not None:
            manager["keras_home"] = self.keras_home
        execute = {"max_notebook_output_bytes": self.max_notebook_output_bytes}
        if self.notebook_timeout is not None:
            execute["notebook_timeout"] = self.notebook_timeout
        return {
            "Execute": {"timeout": self.timeout},
            "SandboxedExecute": execute,
            "SandboxedKernelManager": manager,
        }


class ClusterGrading(Configurable):
    """Where and how autograde runs submissions (``c.ClusterGrading.<name>`` in the config)."""

    jobqueue = Dict(
        help="keyword arguments of the dask-jobqueue cluster for --cluster slurm (pbs, ...): "
        "queue, account, cores, processes, memory, walltime, job_script_prologue, ..."
    ).tag(config=True)
    jobs = Integer(1, help="batch jobs to start for --cluster slurm (pbs, ...)").tag(config=True)
    attempts = Integer(
        3, help="workers a submission may kill before it is graded 0 (the scheduler's "
        "allowed-failures + 1)"
    ).tag(config=True)  # fmt: skip
    connect_timeout = Float(30, help="seconds to reach the scheduler").tag(config=True)
    worker_timeout = Float(600, help="seconds to wait for a first worker").tag(config=True)


GRADING = "pixelschool_admin.grading"
EXECUTE = "nbgrader.preprocessors.Execute"
SANDBOXED_EXECUTE = f"{GRADING}.worker.executor.SandboxedExecute"
REPLAY_EXECUTION = f"{GRADING}.record.replay.ReplayExecution"
# After execution: the grader's judgement of graded cells, made outside the student's kernel,
# then the sanitiser, which must come after the judge (it reads the kernel's results).
JUDGED = (
    f"{GRADING}.record.hidden.JudgeHiddenResults",
    f"{GRADING}.results.sanitise.SanitiseNotebook",
)


def autograde_chain(execute, judged=True, scoring=True):
    """nbgrader's autograde preprocessors (as class names) with ``execute`` in the place of
    its ``Execute``: ``judged`` adds the grader's judge and the sanitiser after it,
    ``scoring`` nbgrader's scores and late penalties (the worker's pass has neither: its
    scratch gradebook is thrown away, and the recorder judges and scores)."""
    return [
        execute,
        *(JUDGED if judged else ()),
        "nbgrader.preprocessors.IgnorePattern",
        "nbconvert.preprocessors.ClearMetadataPreprocessor",
        "nbgrader.preprocessors.LimitOutput",
        *(
            ("nbgrader.preprocessors.SaveAutoGrades", "nbgrader.preprocessors.AssignLatePenalties")
            if scoring
            else ()
        ),
        "nbgrader.preprocessors.CheckCellMetadata",
    ]
