"""A hostile student against the grader's judgement of hidden tests (``hidden.py``).

The student runs any code in the kernel: they can replace what the check displays, forge a
transcript byte by byte, and write the notebook the grader reads the rules from. Each test
here is an attack; the grader must score it 0 (or refuse it, and say so) without spending
more than a transcript's worth of time and memory, and it must keep scoring honest work.
Most run in this process: the kernel's half of a check (its displayed bundle caught), a
tampered or forged bundle, then ``judge_results`` as the grader calls it.
"""

import base64
import inspect
import io
import json
import resource
import zipfile

import IPython.display
import nbformat
import numpy as np
import pytest

import problem_unittests
from pixelschool.checks import recordings
from pixelschool.checks.framework import RESULTS_MIME
from pixelschool_admin.grading.record.hidden import (
    Refused,
    judge_cell,
    judge_notebook,
    judge_results,
    read_transcript,
)
from tests.classroom import cell

# --- forging transcripts by hand ----------------------------------------------------------


def npy(array):
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def npy_header(shape, descr):
    """An .npy member that announces ``shape`` of ``descr`` and holds no data."""
    buffer = io.BytesIO()
    header = {"descr": descr, "fortran_order": False, "shape": shape}
    np.lib.format.write_array_header_1_0(buffer, header)
    return buffer.getvalue()


def tree_member(tree):
    return npy(np.frombuffer(json.dumps(tree).encode(), "u1"))


def archive(members, compression=zipfile.ZIP_DEFLATED):
    """An .npz from ``{name: bytes}``, as a kernel may write one."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buffer.getvalue()


def bundle_of(data, exercise="conv_output_size", seed=646):
    return {"exercise": exercise, "seed": seed, "transcript": base64.b64encode(data).decode()}


def one_result(reference):
    """A transcript tree whose one crossing returned ``reference`` (a tree node)."""
    event = {"dict": {"call": "conv_output_size", "args": "0", "result": reference}}
    functions = {"dict": {"conv_output_size": [["n", 1, False], ["k", 1, False]]}}
    return {"dict": {"format": 1, "functions": functions, "events": [event]}}


ARRAY = {"array": "a0", "scalar": False}


def grown_kib(action):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    action()
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before


# --- the transcript reader ----------------------------------------------------------------


@pytest.mark.parametrize("descr", ["|V0", "|S0", "<U0"])
def test_an_array_of_empty_items_is_refused_before_a_check_touches_it(descr):
    """10**18 items of 0 bytes each: no byte to count against the caps, but copying or
    comparing it takes forever (the grader's replay deep-copies every result)."""
    data = archive({"a0.npy": npy_header((10**18,), descr), "__tree__.npy": tree_member(
        one_result(ARRAY))})  # fmt: skip
    with pytest.raises(ValueError):
        read_transcript(bundle_of(data))


def test_an_array_larger_than_its_data_is_refused_without_allocating_it():
    """The header announces 8 TB: NumPy allocates what a header announces before it reads,
    and the MemoryError escaped the grader (not a ValueError: no refusal, a failed recording)."""
    data = archive({"a0.npy": npy_header((10**12,), "<f8"), "__tree__.npy": tree_member(
        one_result(ARRAY))})  # fmt: skip
    with pytest.raises(ValueError):
        read_transcript(bundle_of(data))
    message = judge_results(bundle_of(data), "conv_output_size", 646)
    assert "could not be read" in message


def tree_bomb(compression):
    """A 200 MB JSON list in a few kilobytes (bzip2) or a few hundred (deflate)."""
    text = b"[" + b"0," * 100_000_000 + b"0]"
    return archive({"__tree__.npy": npy(np.frombuffer(text, "u1"))}, compression)


@pytest.mark.parametrize("compression", [zipfile.ZIP_BZIP2, zipfile.ZIP_DEFLATED])
def test_a_tree_bomb_is_refused_before_it_is_parsed(compression):
    """Parsing the tree cost the grader 5 s and 1 GB for each 12 kB bundle (bzip2), and a
    graded cell's 5 MB of output holds 400 of them."""
    data = tree_bomb(compression)
    assert len(data) < 300_000
    with pytest.raises(ValueError) as refused:
        grown = grown_kib(lambda: read_transcript(bundle_of(data)))
        assert grown < 150_000  # KiB: the 200 MB tree is never unpacked
    said = f"{refused.value} {refused.value.__cause__}"
    assert "tree of more than" in said or "not an array as NumPy writes it" in said


def test_only_the_compression_numpy_writes_is_read():
    """bzip2 and LZMA members expand without a bound on each read."""
    data = archive({"__tree__.npy": tree_member(one_result(3))}, zipfile.ZIP_LZMA)
    with pytest.raises(ValueError):
        read_transcript(bundle_of(data))


def test_thousands_of_tiny_members_are_refused():
    """Each member costs the reader a zip entry and an .npy parse: 25,000 of them in 4 MB
    took 2 s per bundle (an honest transcript holds a few hundred)."""
    members = {f"a{i}.npy": npy(np.zeros(1, "u1")) for i in range(12_000)}
    data = archive({**members, "__tree__.npy": tree_member(one_result(3))})
    with pytest.raises(ValueError, match="members"):
        read_transcript(bundle_of(data))


def test_a_member_that_is_no_array_is_refused():
    data = archive({"a0": b"raw bytes", "__tree__.npy": tree_member(one_result(ARRAY))})
    with pytest.raises(ValueError):
        read_transcript(bundle_of(data))


def kernel_bundle(exercise, fn, seed, monkeypatch):
    """The bundle the kernel's run of ``test_<exercise>(fn, seed=seed)`` displays."""
    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda data, raw=False: shown.append(data))
    try:
        getattr(problem_unittests, f"test_{exercise}")(fn, seed=seed)
    except Exception:  # noqa: BLE001  (the kernel's verdict does not count)
        pass
    [bundle] = [data[RESULTS_MIME] for data in shown if RESULTS_MIME in data]
    return bundle


def conv_output_size(n, k, stride=1, padding=0):
    return (n + 2 * padding - k) // stride + 1


def test_an_honest_transcript_is_still_read(monkeypatch):
    bundle = kernel_bundle("conv_output_size", conv_output_size, 646, monkeypatch)
    assert read_transcript(bundle)["events"]


# --- a graded cell's outputs --------------------------------------------------------------

CONV_CALL = "tests.test_conv_output_size(conv_output_size, seed=646)"


def graded_cell(outputs, source=CONV_CALL):
    graded = cell("test", "test_conv_output_size", source, points=2)
    graded.outputs = [nbformat.v4.new_output("display_data", data=data) for data in outputs]
    return graded


def shown(bundle):
    return {RESULTS_MIME: bundle, "text/plain": "results"}


def test_more_results_than_the_cell_calls_for_are_refused(monkeypatch):
    """Each bundle in a cell was judged: a kernel that displays its results again and again
    (a post_run_cell hook) multiplied the grader's work by as many as the cell's 5 MB of
    output holds. An honest kernel displays one per call."""
    bundle = kernel_bundle("conv_output_size", conv_output_size, 646, monkeypatch)
    assert judge_cell(graded_cell([shown(bundle)]), {}) == []
    judged = []
    import pixelschool_admin.grading.record.hidden as hidden

    real = hidden.judge_results
    monkeypatch.setattr(hidden, "judge_results", lambda *a, **k: judged.append(1) or real(*a, **k))
    messages = judge_cell(graded_cell([shown(bundle)] * 40), {})
    assert len(messages) == 1 and isinstance(messages[0], Refused), messages
    assert "40 results" in messages[0]
    assert not judged  # none is read


def test_a_cell_that_calls_a_check_twice_is_judged_once_per_result(monkeypatch):
    bundle = kernel_bundle("conv_output_size", conv_output_size, 646, monkeypatch)
    twice = graded_cell([shown(bundle)] * 2, source=CONV_CALL + "\n" + CONV_CALL)
    assert judge_cell(twice, {}) == []


def test_a_refused_transcript_reaches_the_report_even_when_the_kernel_said_it_first():
    """The grader adds no message that an error output of the cell already holds, and the
    report heard only of the messages it added: a kernel that prints the refusal it expects
    (an error output of its own) kept its forgery out of the report."""
    forged = bundle_of(b"not a transcript")
    expected = judge_results(forged, "conv_output_size", 646)
    assert isinstance(expected, Refused)
    graded = graded_cell([shown(forged)])
    graded.outputs.append(
        nbformat.v4.new_output("error", ename="Exception", evalue=str(expected), traceback=[])
    )
    nb = nbformat.v4.new_notebook()
    nb.cells = [graded]
    heard = []
    judge_notebook(nb, refused=lambda grade_id, message: heard.append(message))
    assert heard == [expected]


# --- what the check's own helpers compute in the kernel ------------------------------------


def no_step_train_softmax(X, y, learning_rate, reg, epochs=10, batch_size=200, seed=0):
    """Shuffles, minibatches, calls softmax_loss_and_grad and keeps its losses; never takes a
    gradient step."""
    rng = np.random.default_rng(seed)
    n, d = X.shape
    W, b, history = 0.001 * rng.standard_normal((d, int(y.max()) + 1)), 0, []
    b = np.zeros(W.shape[1])
    for _ in range(epochs):
        order = rng.permutation(n)
        for start in range(0, n, batch_size):
            rows = order[start : start + batch_size]
            loss, _, _ = softmax_loss_and_grad(W, b, X[rows], y[rows], reg)  # noqa: F821
            history.append(loss)
    return W, b, history


def test_train_softmax_is_judged_on_gradients_the_grader_computes(monkeypatch):
    """The stand-in for softmax_loss_and_grad ran in the kernel, and its gradients reached the
    grader from the transcript: a kernel that reports zero gradients makes training that never
    steps look right (and passes the kernel's own run by replacing its check_updates)."""
    from pixelschool.checks import softmax_training

    monkeypatch.setattr(softmax_training, "check_updates", lambda *args: None)
    bundle = kernel_bundle("train_softmax", no_step_train_softmax, 304, monkeypatch)
    monkeypatch.undo()
    handed = read_transcript(bundle)
    W0 = handed["events"][0]["logs"][0][0][0]

    def zero_gradients(step):
        shapes = {np.shape(step[0]), np.shape(step[1])}
        return tuple(
            np.zeros_like(v) if i > 1 and isinstance(v, np.ndarray) and v.shape in shapes else v
            for i, v in enumerate(step)
        )

    for event in handed["events"]:
        event["logs"] = [[zero_gradients(step) for step in log] for log in event["logs"]]
    assert W0.shape == handed["events"][0]["logs"][0][0][0].shape
    forged = bundle_of(recordings.to_bytes(handed), "train_softmax", 304)
    message = judge_results(forged, "train_softmax", 304)
    assert message and "W never changes" in message, message


# --- the rule on loops, read from the submitted notebook -----------------------------------

LOOPY = (
    "def distance_matrix(matrix1, matrix2):\n"
    "    a, b = matrix1.astype(np.float64), matrix2.astype(np.float64)\n"
    "    return np.array([[np.sqrt(((x - y) ** 2).sum()) for y in b] for x in a])\n"
)
CLEAN = (
    "def distance_matrix(matrix1, matrix2):\n"
    "    a, b = matrix1.astype(np.float64), matrix2.astype(np.float64)\n"
    "    squared = (a**2).sum(1)[:, None] + (b**2).sum(1)[None, :] - 2 * a @ b.T\n"
    "    return np.sqrt(np.maximum(squared, 0))\n"
)
HELPER = "def _rows(a, b):\n" + LOOPY.split("\n", 1)[1].replace("matrix1", "a").replace(
    "matrix2", "b"
)
STUB = "def distance_matrix(matrix1, matrix2):\n    return matrix1\n"


def indented(text, by="    "):
    return "".join(by + line + "\n" for line in text.splitlines())


# The function that runs loops; what the grader may read is loop-free.
HIDDEN_LOOPS = {
    "a later definition that never runs": [LOOPY + "if False:\n" + indented(STUB)],
    "a later definition in an except block": [
        LOOPY + "try:\n    pass\nexcept ImportError:\n" + indented(STUB)
    ],
    "a later definition in a loop over nothing": [LOOPY + "for _ in []:\n" + indented(STUB)],
    "a later definition after a statement that raises": [LOOPY + "1 / 0\n" + STUB],
    "a later definition after an import that fails": [LOOPY, "import no_such_module\n" + STUB],
    "a later definition after a dotted import": [LOOPY, "import os.no_such\n" + STUB],
    "a later definition whose default raises": [
        LOOPY,
        STUB.replace("matrix2)", "matrix2, _=1 / 0)"),
    ],
    "a definition made inside a function": [
        "def _define():\n    global distance_matrix\n" + indented(LOOPY) + "_define()\n"
    ],
    "a definition through globals()": [
        HELPER + "globals()['distance_matrix'] = lambda m1, m2: _rows(m1, m2)\n"
    ],
    "a definition through exec": [f"exec({LOOPY!r})\n"],
    "a decorator that returns another function": [
        HELPER + "def _swap(f):\n    return lambda m1, m2: _rows(m1, m2)\n" + "@_swap\n" + STUB
    ],
    "an import from a file the notebook wrote": [
        "%%writefile dm.py\nimport numpy as np\n" + LOOPY,
        "from dm import distance_matrix\n",
    ],
    "an alias of a function with loops": [
        LOOPY.replace("def distance_matrix", "def _loops") + "distance_matrix = _loops\n"
    ],
    "a function built by a call": [HELPER + "distance_matrix = (lambda f: f)(_rows)\n"],
    "a loop variable": [HELPER + STUB + "for distance_matrix in [_rows]:\n    pass\n"],
    "an assignment expression": [HELPER + STUB + "(distance_matrix := _rows)\n"],
    "a star import": [STUB + "from dm import *\n"],
    "a %run of a script": [STUB + "%run dm.py\n"],
    "a definition in a %%time cell": ["%%time\n" + LOOPY],
}


def notebook_of(cells):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    return nb


def loops_judged(cells, monkeypatch):
    """The grader's judgement of distance_matrix's hidden test: a function with loops ran in
    the kernel (its answers right), and the notebook ``cells`` came before the graded cell."""
    from pixelschool_admin.grading.record.definitions import definitions_before
    from pixelschool_admin.grading.record.hidden import hidden_cases

    namespace = {"np": np}
    exec(LOOPY, namespace)  # no file: the kernel's own look at the source finds nothing
    bundle = kernel_bundle("distance_matrix", namespace["distance_matrix"], 203, monkeypatch)
    source = definitions_before(notebook_of(cells), len(cells)).get("distance_matrix")
    return judge_results(
        bundle, "distance_matrix", 203, source, hidden_cases("distance_matrix", 203)
    )


@pytest.mark.parametrize("cells", HIDDEN_LOOPS.values(), ids=HIDDEN_LOOPS)
def test_loops_hidden_from_the_graders_reading_score_zero(cells, monkeypatch):
    message = loops_judged(cells, monkeypatch)
    assert message and "distance_matrix" in message, message
    assert "loop" in message or "comprehension" in message or "def" in message, message


HONEST = {
    "one definition": [CLEAN],
    "a definition with loops replaced in a later cell": [LOOPY, CLEAN],
    "a %%time cell": ["%%time\n" + CLEAN],
    "imports first": ["import numpy as np\n" + CLEAN],
    "a first try with loops, then an answer cell with an import and a helper first": [
        LOOPY,
        '"""My answer."""\nimport numpy as np\n\n\ndef _unused(x):\n    return x\n\n\n' + CLEAN,
    ],
}


@pytest.mark.parametrize("cells", HONEST.values(), ids=HONEST)
def test_the_rule_reads_honest_definitions(cells, monkeypatch):
    from pixelschool_admin.grading.record.definitions import definitions_before

    source = definitions_before(notebook_of(cells), len(cells)).get("distance_matrix")
    assert source and "(a**2).sum(1)" in source and "for" not in source, source


@pytest.mark.xfail(
    strict=True,
    reason="out of the grader's reach: code that rebinds a name through globals() or exec "
    "after a plain def; the grader reads the def (instructor notes)",
)
def test_a_plain_definition_rebound_through_globals_scores_zero(monkeypatch):
    cells = [CLEAN + HELPER + "globals()['distance_matrix'] = _rows\n"]
    assert loops_judged(cells, monkeypatch)


@pytest.mark.xfail(
    strict=True,
    reason="not a rule yet, in the kernel or the grader: the loop rules read the exercise's "
    "own function, not the notebook's functions it calls",
)
def test_loops_in_a_helper_score_zero(monkeypatch):
    cells = [
        HELPER + "def distance_matrix(matrix1, matrix2):\n    return _rows(matrix1, matrix2)\n"
    ]
    assert loops_judged(cells, monkeypatch)


# --- what only the kernel can see: the grader takes its word -------------------------------


def tampered(bundle, change):
    handed = read_transcript(bundle)
    for event in handed["events"]:
        change(event)
    return {**bundle, "transcript": base64.b64encode(recordings.to_bytes(handed)).decode()}


def normalise_in_place(images):
    result = (images / 255).astype(np.float32)
    images[...] = 0  # the caller's images are gone
    return result


def cube_distances(matrix1, matrix2):
    a, b = matrix1.astype(np.float64), matrix2.astype(np.float64)
    return np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(axis=2))


KERNEL_WORD = {
    "an input changed in place": (
        "normalise_images",
        normalise_in_place,
        404,
        lambda event: event.update(changed={}) if "changed" in event else None,
        "changed its argument",
    ),
    "the peak memory of a (N1, N2, D) array": (
        "distance_matrix",
        cube_distances,
        203,
        lambda event: event.update(measured=0) if "measured" in event else None,
        "builds an array as large as",
    ),
}


@pytest.mark.xfail(
    strict=True,
    reason="what the student's code does in the kernel besides answering (its inputs "
    "changed, its peak memory) is the kernel's report: the grader cannot see it",
)
@pytest.mark.parametrize("case", KERNEL_WORD.values(), ids=KERNEL_WORD)
def test_a_rule_on_what_happens_in_the_kernel_is_judged_by_the_grader(case, monkeypatch):
    from pixelschool_admin.grading.record.hidden import hidden_cases

    exercise, fn, seed, change, said = case
    bundle = kernel_bundle(exercise, fn, seed, monkeypatch)
    source = inspect.getsource(fn)  # the rule on loops reads it
    recorded = hidden_cases(exercise, seed)
    honest = judge_results(bundle, exercise, seed, source, recorded)
    assert honest and said in honest, honest  # the kernel's report is judged
    assert judge_results(tampered(bundle, change), exercise, seed, source, recorded)


def test_memory_already_traced_in_the_kernel_still_counts(monkeypatch):
    """One line in any cell, tracemalloc.start(), and the check's measurement gave up
    ("someone else is measuring here"): the kernel reported None, and the check crashed on
    it (TypeError) in the kernel and in the grader, which refused the results of a right
    answer. A report of no figure is no pass either."""
    import tracemalloc

    from pixelschool_admin.grading.record.hidden import hidden_cases

    namespace = {"np": np}
    exec(CLEAN, namespace)
    recorded = hidden_cases("distance_matrix", 203)
    tracemalloc.start()
    try:
        right = kernel_bundle("distance_matrix", namespace["distance_matrix"], 203, monkeypatch)
        cube = kernel_bundle("distance_matrix", cube_distances, 203, monkeypatch)
    finally:
        tracemalloc.stop()
    assert judge_results(right, "distance_matrix", 203, CLEAN, recorded) is None
    source = inspect.getsource(cube_distances)
    message = judge_results(cube, "distance_matrix", 203, source, recorded)
    assert message and "builds an array as large as" in message, message
    no_figure = tampered(cube, lambda e: e.update(measured=None) if "measured" in e else None)
    message = judge_results(no_figure, "distance_matrix", 203, source, recorded)
    assert message and "not measured" in message, message


def test_reading_the_definitions_is_linear_in_the_notebook(monkeypatch):
    """Each definition's source was cut from the whole cell's text, again for each graded
    cell: a cell of 10,000 one-line functions (300 kB) kept the grader busy for minutes."""
    import time

    from pixelschool_admin.grading.record.definitions import definitions_before

    cells = ["".join(f"def f{i}(): pass\n" for i in range(10_000)) + CLEAN]
    start = time.perf_counter()
    assert "np.maximum" in definitions_before(notebook_of(cells), 1)["distance_matrix"]
    assert time.perf_counter() - start < 20


DEEP = {
    "a 200,000-term sum": "x = " + "+".join(["1"] * 200_000) + "\n",  # too deep to parse here
    "9 nested %%time": "%%time\n" * 9 + LOOPY,  # runs in the kernel
    "2,000 nested %%time": "%%time\n" * 2_000 + LOOPY,
}


@pytest.mark.parametrize("source", DEEP.values(), ids=DEEP)
def test_a_cell_too_deep_for_the_grader_may_define_anything(source):
    """Neither stops the grader (RecursionError); and as a kernel with a higher recursion
    limit may run what the grader cannot parse, such a cell may have defined anything."""
    from pixelschool_admin.grading.record.definitions import definitions_before

    assert definitions_before(notebook_of([CLEAN, source]), 2)["distance_matrix"] is None
    assert definitions_before(notebook_of([source, CLEAN]), 2)["distance_matrix"] == CLEAN.strip()


# --- an honest student's points ------------------------------------------------------------


def test_prints_do_not_push_the_results_out_of_a_graded_cell(monkeypatch):
    """The outputs of a cell are cut to 5 MB in order: a right answer that printed 5 MB
    (arrays printed in full while debugging) lost its results bundle, and its points."""
    from pixelschool_admin.grading.worker.executor import (
        RESULT_BYTES,
        SandboxedExecute,
        cap_outputs,
    )

    bundle = kernel_bundle("conv_output_size", conv_output_size, 646, monkeypatch)
    graded = graded_cell([shown(bundle)])
    cap = SandboxedExecute.max_output_bytes.default_value
    printed = nbformat.v4.new_output("stream", name="stdout", text="0." * cap)
    graded.outputs.insert(0, printed)
    assert cap_outputs(graded, cap, 1, RESULT_BYTES)
    assert judge_cell(graded, {}) == []
    assert sum(len(o.get("text", "")) for o in graded.outputs) < cap


def test_only_as_many_results_as_calls_escape_the_cap(monkeypatch):
    from pixelschool_admin.grading.worker.executor import RESULT_BYTES, cap_outputs

    bundle = kernel_bundle("conv_output_size", conv_output_size, 646, monkeypatch)
    graded = graded_cell([shown(bundle)] * 10)
    size = len(str(shown(bundle)))
    cap_outputs(graded, 3 * size, 1, RESULT_BYTES)
    assert sum(RESULTS_MIME in o.get("data", {}) for o in graded.outputs) <= 3


# --- handing the work to the notebook's own version with loops -----------------------------

SEED_FAST = 606  # a hidden seed of conv_forward_fast (solutions/06_convolution.ipynb)
LOOP_CONV = (
    "def conv_forward(x, w, b, conv_param):\n"
    "    s, p = conv_param['stride'], conv_param['pad']\n"
    "    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))\n"
    "    f, _, hh, ww = w.shape\n"
    "    h_out = (xp.shape[2] - hh) // s + 1\n"
    "    w_out = (xp.shape[3] - ww) // s + 1\n"
    "    out = np.zeros((x.shape[0], f, h_out, w_out))\n"
    "    for i in range(h_out):\n"
    "        for j in range(w_out):\n"
    "            window = xp[:, None, :, i * s : i * s + hh, j * s : j * s + ww]\n"
    "            out[:, :, i, j] = (window * w).sum(axis=(2, 3, 4)) + b\n"
    "    return out, (x, w, b, conv_param)\n"
)
HANDING_OVER = {
    "conv_forward_fast": (
        LOOP_CONV,
        "def conv_forward_fast(x, w, b, conv_param):\n"
        "    return conv_forward(x, w, b, conv_param)\n",
        SEED_FAST,
    ),
    "distance_matrix": (
        LOOPY.replace("def distance_matrix", "def distance_matrix_two_loops"),
        "def distance_matrix(matrix1, matrix2):\n"
        "    slow = distance_matrix_two_loops\n"
        "    return slow(matrix1, matrix2)\n",
        203,
    ),
}


@pytest.mark.parametrize("exercise", HANDING_OVER)
def test_handing_the_work_to_the_version_with_loops_scores_zero(exercise, monkeypatch):
    """conv_forward_fast (06) that returns conv_forward(...), the loop version the notebook
    asked for first, has no loop of its own: the rule on loops, which reads the exercise's
    own source, let its right answers earn the points of the exercise without loops."""
    from pixelschool_admin.grading.record.definitions import definitions_before
    from pixelschool_admin.grading.record.hidden import hidden_cases

    loops, fast, seed = HANDING_OVER[exercise]
    namespace = {"np": np}
    exec(loops + fast, namespace)  # no file: the kernel's own look at the source finds nothing
    bundle = kernel_bundle(exercise, namespace[exercise], seed, monkeypatch)
    source = definitions_before(notebook_of([loops, fast]), 2)[exercise]
    message = judge_results(bundle, exercise, seed, source, hidden_cases(exercise, seed))
    assert message and "your version with loops" in message, message


def test_the_version_without_loops_still_passes(monkeypatch):
    from pixelschool_admin.grading.record.hidden import hidden_cases

    namespace = {"np": np}
    exec(CLEAN, namespace)
    bundle = kernel_bundle("distance_matrix", namespace["distance_matrix"], 203, monkeypatch)
    recorded = hidden_cases("distance_matrix", 203)
    assert judge_results(bundle, "distance_matrix", 203, CLEAN, recorded) is None


@pytest.mark.parametrize("position", ["x", "-1", "9", "\u0661"])
def test_a_changed_argument_at_no_position_refuses_the_transcript(position, monkeypatch):
    """A changed argument recorded under "x" made the grader's int() raise inside the replayed
    call, which it then blamed on the student's function ("raised ValueError"), not on the
    transcript the kernel forged."""
    bundle = kernel_bundle("conv_output_size", conv_output_size, 646, monkeypatch)
    forged = tampered(bundle, lambda event: event.update(changed={position: 1}))
    from pixelschool_admin.grading.record.hidden import hidden_cases

    recorded = hidden_cases("conv_output_size", 646)
    message = judge_results(forged, "conv_output_size", 646, None, recorded)
    assert isinstance(message, Refused) and "incomplete" in message, message
