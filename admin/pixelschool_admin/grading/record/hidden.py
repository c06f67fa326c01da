"""The grader's judgement of every graded cell, made here, outside the student's kernel.

A graded cell runs ``tests.test_<exercise>(<fn>, seed=<n>)``. In the kernel, the check runs
the student's function on the seed's inputs and displays a transcript of what it answered
(``RESULTS_MIME``, see ``pixelschool/checks/transcript.py``); nothing the kernel concludes
counts. Here, after execution, the same check runs again for each such call, the student's
answers replayed from the transcript, its rules on loops read from the source the notebook
submitted, and its expectations from ``admin/hidden/`` (which never enters a kernel).

A graded cell earns its points only from that judgement: a cell with no call the grader can
judge, a transcript that is missing, unreadable, oversized or does not fit the grader's own
run, or a wrong answer adds an ``AssertionError`` output, so nbgrader scores the cell 0 and
the feedback says why. Then the transcripts are removed from the outputs (the text stays).

Each message is a :class:`Judged` string: beside its text, the exercise and the key of the
mistake it names, decided by the grader's run (``pixelschool/checks/mistakes.py``, and the
keys below for what no check decides). ``JudgeHiddenResults`` notes one ``mistake`` incident
per message; they become events (``reports/events.csv``, kept in the ledger), which
``results/mistakes.py`` counts into ``reports/mistakes.csv``.
"""

import base64
import binascii
import zipfile
from collections import Counter

import nbformat
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Integer, Unicode

from pixelschool.checks import recordings
from pixelschool.checks.framework import CHECKS, RESULTS_MIME, rerun
from pixelschool.checks.mistakes import mistake_of
from pixelschool.checks.transcript import ReplayError
from pixelschool_admin.authoring.notebooks import cell_grade_id, is_test_cell
from pixelschool_admin.authoring.record import HIDDEN_CALL, HIDDEN_DIR
from pixelschool_admin.grading import incidents
from pixelschool_admin.grading.record.definitions import Definitions
from pixelschool_admin.grading.settings import TRANSCRIPT_LIMITS

REFUSED = "results refused"  # the events' kind (events.KINDS)
MISTAKE = "mistake"  # the events' kind of each graded cell's judged mistake
# Keys of what no check decides (words with spaces, as in mistakes.py).
NOT_ANSWERED = "not answered"  # it raises NotImplementedError
RESULTS_REFUSED = "results refused"  # a Refused message: no answer to judge
NO_RESULTS = "no results"  # the kernel stopped before the hidden test handed its results over
NO_HIDDEN_TEST = "no hidden test"  # a graded cell with no call the grader can judge
MESSAGE_LIMIT = 3000  # characters of a check's message in the feedback


# What reading data that is no transcript can raise.
UNREADABLE = (
    ValueError,
    LookupError,
    TypeError,
    AttributeError,
    OSError,
    zipfile.BadZipFile,
    RecursionError,
)


def results_outputs(cell, exercise, seed):
    """The transcripts a cell's run of ``exercise`` with ``seed`` displayed."""
    found = []
    for output in cell.get("outputs", []):
        bundle = output.get("data", {}).get(RESULTS_MIME)
        if isinstance(bundle, dict) and (bundle.get("exercise"), bundle.get("seed")) == (
            exercise,
            seed,
        ):
            found.append(bundle)
    return found


def read_transcript(bundle, limits=TRANSCRIPT_LIMITS):
    """The decoded transcript of a bundle; ``ValueError`` saying why it cannot be read."""
    text = bundle.get("transcript")
    if not isinstance(text, str) or len(text) > limits.stored_bytes * 4 // 3 + 4:
        raise ValueError("missing or larger than the grader reads")
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as error:
        raise ValueError("not base64") from error
    try:
        return recordings.from_bytes(data, limits)
    except recordings.TooLarge as error:
        raise ValueError(str(error)) from error
    except UNREADABLE as error:
        raise ValueError(f"not a transcript ({type(error).__name__})") from error


class Judged(str):
    """A message for the feedback, with the ``exercise`` it judged and the key of the
    ``mistake`` it names (``pixelschool/checks/mistakes.py``)."""

    mistake = None

    def __new__(cls, text, mistake=None, exercise=""):
        judged = super().__new__(cls, text)
        judged.mistake = mistake or cls.mistake
        judged.exercise = exercise
        return judged


class Refused(Judged):
    """A message saying that a transcript was refused (unreadable, oversized, not the
    grader's run): worth the instructor's look, not only the student's."""

    mistake = RESULTS_REFUSED


def judge_results(bundle, exercise, seed, source=None, recorded=None, limits=TRANSCRIPT_LIMITS):
    """None when the check, run again here on the bundle's transcript, passes; else the
    :class:`Judged` message that says what is wrong, with the key of the mistake it names (a
    :class:`Refused` one when the transcript is)."""
    try:
        handed_over = read_transcript(bundle, limits)
    except ValueError as error:
        text = f"{exercise}: the hidden test's results could not be read ({error})."
        return Refused(text, exercise=exercise)
    try:
        rerun(exercise, seed, handed_over, source, recorded)
    except AssertionError as wrong:
        text = str(wrong)  # it may quote what the kernel sent: kept short
        text = f"{text[:MESSAGE_LIMIT]}{' …' if len(text) > MESSAGE_LIMIT else ''} (hidden test)"
        return Judged(text, mistake_of(wrong), exercise)
    except NotImplementedError:
        text = f"{exercise}: not answered yet (it raises NotImplementedError)."
        return Judged(text, NOT_ANSWERED, exercise)
    except ReplayError as error:
        text = f"{exercise}: {error}, so the hidden test cannot be graded."
        return Refused(text, exercise=exercise)
    except Exception as error:  # noqa: BLE001  (data from the kernel the check could not use)
        kind = type(error).__name__
        text = f"{exercise}: the hidden test's results could not be judged ({kind})."
        return Refused(text, exercise=exercise)
    return None


def hidden_cases(exercise, seed, hidden_dir=HIDDEN_DIR):
    """The recorded cases of a hidden seed, with their expectations (checks with recordings);
    None for checks that are all code."""
    if CHECKS[exercise].inputs is None:
        return None
    cases = recordings.read(recordings.recording_path(exercise, hidden_dir)).get(seed)
    if cases is None:
        raise FileNotFoundError(
            f"no hidden expectations for {exercise}, seed {seed}, in {hidden_dir}: run `make build`"
        )
    return cases


def judge_cell(cell, definitions, hidden_dir=HIDDEN_DIR, limits=TRANSCRIPT_LIMITS):
    """Messages for what is wrong in one graded cell (empty: every point is earned);
    :class:`Refused` ones where the kernel's answer was refused.

    ``definitions``: {name: source} (or a :class:`Definitions`) of what the notebook defines
    before the cell."""
    calls = HIDDEN_CALL.findall(cell.source)
    if not calls:
        text = "this graded cell runs no hidden test the grader can judge, so it scores 0."
        return [Judged(text, NO_HIDDEN_TEST)]
    import problem_unittests  # noqa: F401  (registers every check)

    failed = any(o.get("output_type") == "error" for o in cell.get("outputs", []))
    messages = []
    wanted = Counter((exercise, int(seed)) for exercise, _, seed in calls)
    for exercise, name, seed in dict.fromkeys(calls):  # a call made twice shows two results
        if exercise not in CHECKS:
            text = f"tests.test_{exercise} is no check the grader knows."
            messages.append(Judged(text, NO_HIDDEN_TEST, exercise))
            continue
        seed = int(seed)
        recorded = hidden_cases(exercise, seed, hidden_dir)
        found = results_outputs(cell, exercise, seed)
        if not found:
            missing = f"{exercise}: the hidden test's results did not reach the grader."
            # without an error in the cell, something in the kernel kept them back
            if failed:
                messages.append(Judged(missing, NO_RESULTS, exercise))
            else:
                messages.append(Refused(missing, exercise=exercise))
        if len(found) > wanted[exercise, seed]:  # an honest kernel shows one per call
            messages.append(
                Refused(
                    f"{exercise}: the cell shows {len(found)} results of the hidden test for "
                    f"{wanted[exercise, seed]} call(s): the kernel displayed results of its "
                    "own, so none is graded.",
                    exercise=exercise,
                )
            )
            continue
        for bundle in found:
            message = judge_results(bundle, exercise, seed, definitions.get(name), recorded, limits)
            if message:
                messages.append(message)
    return messages


def judge_notebook(
    nb, hidden_dir=HIDDEN_DIR, limits=TRANSCRIPT_LIMITS, refused=None, mistaken=None
):
    """Judge every graded cell of an executed notebook: an error output where a point is not
    earned; then the transcripts leave the outputs. ``refused(grade_id, message)`` hears of
    each refused transcript, ``mistaken(grade_id, message)`` of every message (a
    :class:`Judged`, with its exercise and mistake)."""
    definitions = Definitions()  # of the cells before the one judged: read once
    for cell in nb.cells:
        if cell.cell_type == "code" and is_test_cell(cell):
            cell.outputs = [shown_only(output) for output in cell.get("outputs", [])]
            messages = judge_cell(cell, definitions, hidden_dir, limits)
            for message in messages:  # all of them: the kernel may have said one already
                if refused is not None and isinstance(message, Refused):
                    refused(cell_grade_id(cell), str(message))
                if mistaken is not None:
                    mistaken(cell_grade_id(cell), message)
            shown = " ".join(
                str(o.get("evalue", "")) for o in cell.outputs if o.get("output_type") == "error"
            )
            messages = [m for m in messages if m not in shown]
            if messages:
                cell.outputs.append(
                    nbformat.v4.new_output(
                        "error",
                        ename="AssertionError",
                        evalue="\n".join(messages),
                        traceback=["AssertionError: " + "\n".join(messages)],
                    ),
                )
        definitions.read(cell)
        for output in cell.get("outputs", []):
            output.get("data", {}).pop(RESULTS_MIME, None)
    return nb


def shown_only(output):
    """An ``execute_result`` as a plain display: nbgrader would read a number in one as the
    cell's partial credit, and a graded cell's points are the grader's alone."""
    if output.get("output_type") != "execute_result":
        return output
    return nbformat.v4.new_output(
        "display_data", data=output.get("data", {}), metadata=output.get("metadata", {})
    )


class JudgeHiddenResults(NbGraderPreprocessor):
    """nbgrader preprocessor: :func:`judge_notebook`, after the execution pass."""

    hidden_dir = Unicode(str(HIDDEN_DIR), help="the hidden tests' recordings").tag(config=True)
    max_transcript_bytes = Integer(
        TRANSCRIPT_LIMITS.stored_bytes, help="largest transcript a kernel may hand over"
    ).tag(config=True)
    incident_log = Unicode(
        "", help="file for the refused transcripts, JSON lines (kind, cell, detail)"
    ).tag(config=True)

    def preprocess(self, nb, resources):
        limits = TRANSCRIPT_LIMITS._replace(stored_bytes=self.max_transcript_bytes)
        judged = judge_notebook(nb, self.hidden_dir, limits, self._refused, self._mistaken)
        return judged, resources

    def _refused(self, grade_id, message):
        incidents.note(self.incident_log, REFUSED, grade_id, message)

    def _mistaken(self, grade_id, message):
        incidents.note(self.incident_log, MISTAKE, grade_id, mistake_detail(message))


MISTAKE_TEXT_CHARS = 300  # of the message kept in its event


def mistake_detail(message):
    """A ``mistake`` event's detail: ``<exercise>: <key>: <text>`` (:func:`read_mistake_detail`),
    the text the grader's own message (``Judged``): its first two lines, one line, cut to
    ``MISTAKE_TEXT_CHARS``, the report's example of the key in words."""
    lines = [line.strip() for line in str(message).splitlines() if line.strip()]
    text = " ".join(lines[:2])[:MISTAKE_TEXT_CHARS]
    exercise = getattr(message, "exercise", "")
    return f"{exercise}: {getattr(message, 'mistake', None) or '?'}: {text}"


def read_mistake_detail(detail):
    """(grade id, exercise, key, text) from a ``mistake`` event's detail, as
    ``incident_events`` writes it: ``<grade id>: <exercise>: <key>: <text>`` (a key may hold
    ``:``, never ``': '``; details written before the text came have none)."""
    grade_id, _, rest = detail.partition(": ")
    exercise, _, rest = rest.partition(": ")
    key, _, text = rest.partition(": ")
    return grade_id, exercise, key, text
