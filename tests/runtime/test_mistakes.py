"""The grader knows which mistake a wrong answer makes: every failure of a check carries a
key (``pixelschool/checks/mistakes.py``), decided by the grader's own run of the check
(``judge_results``), never by the kernel. The message a student reads stays the same."""

import inspect

import IPython.display
import numpy as np
import pytest

import problem_unittests
from pixelschool.checks import framework, mistakes
from pixelschool.checks.framework import CHECKS, RESULTS_MIME
from pixelschool_admin.answers import import_all
from pixelschool_admin.answers.registry import REFERENCES, WRONG_ANSWERS
from pixelschool_admin.authoring.record import HIDDEN_DIR, hidden_seeds
from pixelschool_admin.grading.record import hidden
from pixelschool_admin.grading.record.hidden import Judged, hidden_cases, judge_results

import_all()
HIDDEN_SEEDS = hidden_seeds()
NAMED = [
    (answer, seed)
    for answers in WRONG_ANSWERS.values()
    for answer in answers
    if answer.mistake
    for seed in HIDDEN_SEEDS.get(answer.exercise, [])
]


# Recorded mistakes that the grader names by another key, on purpose (MISTAKES.md): their
# results are another mistake's on the part judged, or not finite, which no recording
# matches, so a relation names them. Any other difference fails.
KEYED_OTHERWISE = {
    ("convnet_loss", "not_divided"): "summed",  # the same gradients: the first key wins
    ("relu_network_loss_and_grads", "unshifted"): "loss_overflowed",  # NaN: the relation's
}


def judged(exercise, fn, seed, monkeypatch):
    """The grader's message (a ``Judged``, or None) for ``fn`` on the hidden ``seed``: the
    kernel's part of ``test_<exercise>(fn, seed)``, then ``judge_results`` on its transcript."""
    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda data, raw=False: shown.append(data))
    try:
        getattr(problem_unittests, f"test_{exercise}")(fn, seed=seed)
    except (AssertionError, NotImplementedError):
        pass  # the kernel's word: it counts for nothing
    [bundle] = [data[RESULTS_MIME] for data in shown if RESULTS_MIME in data]
    recorded = hidden_cases(exercise, seed, HIDDEN_DIR) if CHECKS[exercise].judge else None
    try:
        source = inspect.getsource(fn)
    except (OSError, TypeError):
        source = None
    return judge_results(bundle, exercise, seed, source, recorded)


def test_every_named_wrong_answer_is_judged():
    assert len(NAMED) > 50  # the answers modules' mistakes, on their graded cells' seeds


@pytest.mark.parametrize("answer, seed", NAMED, ids=[f"{a.id}-{s}" for a, s in NAMED])
def test_a_recorded_mistake_is_judged_with_its_key(answer, seed, monkeypatch):
    message = judged(answer.exercise, answer.fn, seed, monkeypatch)
    assert isinstance(message, Judged) and answer.says in message
    key = KEYED_OTHERWISE.get((answer.exercise, answer.mistake), answer.mistake)
    assert (message.exercise, message.mistake) == (answer.exercise, key)


def hidden_seed(exercise):
    return HIDDEN_SEEDS[exercise][0]


def test_an_unrecognised_wrong_answer_is_no_named_mistake(monkeypatch):
    def normalise_images(images):  # wrong values that no recorded mistake or relation explains
        return (images.astype(np.float32) + 1) / 257

    message = judged(
        "normalise_images", normalise_images, hidden_seed("normalise_images"), monkeypatch
    )
    assert "the values are not pixel / 255" in message
    assert message.mistake == mistakes.NO_NAMED_MISTAKE


def test_a_default_otherwise_message_is_no_named_mistake(monkeypatch):
    def relu(x):
        return np.maximum(0, x) + 0.5

    message = judged("relu", relu, hidden_seed("relu"), monkeypatch)
    assert message.mistake == mistakes.NO_NAMED_MISTAKE


def test_a_relation_is_judged_with_its_name(monkeypatch):
    def normalise_images(images):  # integer division: only zeros and ones
        return (images // 255).astype(np.float32)

    message = judged(
        "normalise_images", normalise_images, hidden_seed("normalise_images"), monkeypatch
    )
    assert "only zeros and ones" in message and message.mistake == "only_zeros_and_ones"


def test_what_the_framework_decides_has_its_own_key(monkeypatch):
    seed = hidden_seed("normalise_images")

    def unanswered(images):
        raise NotImplementedError

    def template(images):
        return None

    def crashes(images):
        return images[100, 100, 100, 100]

    def in_place(images):
        images[...] = 0
        return images.astype(np.float32) / 255

    def a_list(images):
        return (images / 255).astype(np.float32).tolist()

    for fn, key in [
        (unanswered, hidden.NOT_ANSWERED),
        (template, mistakes.PLACEHOLDER),
        (crashes, mistakes.RAISED),
        (in_place, mistakes.CHANGED_INPUT),
        (a_list, mistakes.NOT_AN_ARRAY),
    ]:
        assert judged("normalise_images", fn, seed, monkeypatch).mistake == key, fn.__name__


def test_a_rule_of_a_checks_code_is_keyed_by_where_it_is():
    """A rule not given a name (a plain ``expect`` or ``AssertionError`` in a check's
    module; every rule a wrong answer trips has one) is keyed by its site."""
    source = (
        "def check(value):\n"
        "    if value < 0:\n"
        "        raise AssertionError('negative')\n"
        "    expect(value < 10, 'too large')\n"
    )
    module = {"__name__": "pixelschool.checks.made_up", "expect": framework.expect}
    exec(compile(source, "made_up.py", "exec"), module)
    keys = []
    for value in (-1, 11, -2):
        with pytest.raises(AssertionError) as raised:
            module["check"](value)
        keys.append(mistakes.mistake_of(raised.value))
    assert keys == ["code:made_up.check+2", "code:made_up.check+3", "code:made_up.check+2"]


def test_a_named_rule_of_a_checks_code_is_keyed_by_its_name(monkeypatch):
    def one_hot(vector, number_classes):  # rows and columns swapped
        return np.eye(number_classes)[vector].T

    for seed in (505, 7):  # the same rule on other inputs
        swapped = judged("one_hot", one_hot, seed, monkeypatch)
        assert "rows and columns are swapped" in swapped and swapped.mistake == "swapped"


# Wrong answers keyed by a code site (a rule of a check with no name), on purpose.
CODE_KEYED = {}


def test_no_wrong_answer_is_keyed_by_a_code_site(monkeypatch):
    """Every rule a wrong answer of the answers modules trips has a name (``expect(...,
    mistake=)``, ``named``), so the report's rows read as words and keys stay put when a
    check is edited."""
    code_keyed = {}
    for answers in WRONG_ANSWERS.values():
        for answer in answers:
            if answer.exercise not in HIDDEN_SEEDS:
                continue  # no graded cell runs it
            message = judged(answer.exercise, answer.fn, hidden_seed(answer.exercise), monkeypatch)
            assert isinstance(message, Judged), answer.id
            if message.mistake.startswith(f"{mistakes.UNKNOWN}:"):
                code_keyed[answer.id] = message.mistake
    assert code_keyed == CODE_KEYED


def test_the_key_comes_from_the_grader_not_from_what_the_kernel_sends(monkeypatch):
    """A kernel can only send results: the key is the grader's, whatever the error said."""
    error = AssertionError("text")
    error.mistake = "forged"
    assert mistakes.mistake_of(error) == "forged"  # an attribute of the grader's own exception
    assert mistakes.mistake_of(AssertionError("raised outside the checks")) == mistakes.UNKNOWN


def test_the_mistake_detail_reads_back():
    message = Judged("one: two\n\nthree\nfour", "code:data_preparation.test_one_hot+17", "one_hot")
    detail = f"test_one_hot: {hidden.mistake_detail(message)}"  # as incident_events writes it
    assert hidden.read_mistake_detail(detail) == (
        "test_one_hot",
        "one_hot",
        "code:data_preparation.test_one_hot+17",
        "one: two three",  # the first two lines, as one
    )
    assert hidden.read_mistake_detail("g: one_hot: swapped") == ("g", "one_hot", "swapped", "")


def test_every_reference_exercise_is_keyed():
    assert set(REFERENCES) <= set(CHECKS)
