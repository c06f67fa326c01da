"""Feedback checks for notebook 05, part 2: training and testing the two-layer network.

train_mlp and test_mlp have one right result for given inputs: it is recorded from the solution
notebook (with the results of the usual mistakes, ``pixelschool_admin/answers/mlp_training.py``) and
the judges compare. run_mlp_training draws its initial weights from a seeded generator, and every
order of draws is right, so its check is all code: it watches the call of the student's train_mlp
(the initial weights' shapes and Xavier statistics, the data and settings passed on) and compares
what it returns with the student's own train_mlp and test_mlp.
"""

import contextlib
import copy
import inspect

import numpy as np

from pixelschool.checks.compare import close, verdict
from pixelschool.checks.framework import (
    call,
    expect,
    expect_array,
    expect_tuple,
    feedback_check,
    observed,
    replacing_global,
)
from pixelschool.checks.mistakes import named
from pixelschool.checks.mlp_common import (
    NAMES,
    SHAPES_HINT,
    judge_part,
    no_placeholder,
    scalar,
    xavier_problem,
)
from pixelschool.checks.mlp_two_layer import two_layer_problem

__all__ = [
    "test_train_mlp",
    "test_test_mlp",
    "test_run_mlp_training",
]


def blobs(rng, n, d_in, classes, spread=1.0):
    """n samples of ``classes`` Gaussian blobs in d_in dimensions; every class present."""
    labels = np.arange(n) % classes
    rng.shuffle(labels)
    centres = rng.normal(0, 1.5, size=(classes, d_in))
    return centres[labels] + rng.normal(0, spread, size=(n, d_in)), labels


# --- train_mlp -----------------------------------------------------------------------


def train_mlp_inputs(rng):
    """(w1, b1, w2, b2, data_train, labels_train, learning_rate, num_epoch): two samples,
    identity w1 and zero w2, all classified right after 3 epochs; then two random problems."""
    two = (np.eye(2), np.zeros((1, 2)), np.zeros((2, 2)), np.zeros((1, 2)))
    cases = [(*two, np.eye(2), np.array([0, 1]), 1.0, 3)]
    for _ in range(2):
        params, _ = two_layer_problem(rng)
        d_in, classes = params[0].shape[0], params[2].shape[1]
        data, labels = blobs(rng, int(rng.integers(12, 20)), d_in, classes)
        cases.append((*params, data, labels, 1.0, int(rng.integers(4, 7))))
    return cases


TRAIN_MESSAGES = {
    "initial_weights": "train_mlp: it returned the initial weights: keep what "
    "learn_once_cross_entropy returns, w1, b1, w2, b2, loss = learn_once_cross_entropy(w1, b1, "
    "w2, b2, ...).",
    "one_step": "train_mlp: the weights are those after one single step: each epoch must start "
    "from the weights of the previous epoch, not from the initial ones.",
    "one_step_too_few": "train_mlp: one step too few: take num_epoch steps, "
    "for epoch in range(num_epoch).",
    "one_step_too_many": "train_mlp: one step too many: take num_epoch steps, "
    "for epoch in range(num_epoch).",
}


def wrong_training(result, case):
    num_epoch = case.args[7]
    return (
        f"train_mlp: the weights after {num_epoch} epochs are not those of {num_epoch} steps of "
        "learn_once_cross_entropy with this learning rate (train_mlp calls your "
        "learn_once_cross_entropy and forward: if their checks pass, look at how the weights "
        "go from one epoch to the next)."
    )


def check_accuracies(accuracies, case):
    """train_accuracies: num_epoch fractions, each after (or, also accepted, before) its
    epoch's step."""
    num_epoch, expected = case.args[7], np.asarray(case.expected[4], dtype=float)
    expect(
        np.ndim(accuracies) == 1,
        "train_accuracies should hold one accuracy per epoch (a list of num_epoch numbers), "
        f"not {type(accuracies).__name__}"
        + (f" of shape {np.shape(accuracies)}." if np.ndim(accuracies) else "."),
        mistake="not_one_per_epoch",
    )
    try:
        accuracies = np.asarray(accuracies, dtype=float)
    except (TypeError, ValueError):
        raise AssertionError("train_accuracies should hold numbers, one per epoch.") from None
    expect(
        len(accuracies) == num_epoch,
        f"train_accuracies holds {len(accuracies)} values for {num_epoch} epochs: one per epoch.",
    )
    expect(
        np.all((accuracies >= 0) & (accuracies <= 1)),
        "the accuracies should be fractions in [0, 1], not percentages: np.mean(predictions "
        "== labels_train).",
        mistake="percentages",
    )
    expect(
        close(accuracies, expected) or close(accuracies[1:], expected[:-1]),
        "train_accuracies[i] should be the accuracy on data_train after epoch i's step: the "
        "fraction of samples whose predicted class forward(...).argmax(axis=1) equals the label.",
        mistake="accuracy_timing",
    )


def judge_train_mlp(results, cases):
    for result, case in zip(results, cases):
        expect_tuple(result, "train_mlp", 5)
        for what, value, old in zip(NAMES, result, case.args):
            expect_array(value, f"The trained {what}", shape=old.shape)
    judge_part(
        results,
        cases,
        lambda trained: tuple(trained[:4]),
        "train_mlp",
        TRAIN_MESSAGES,
        otherwise=wrong_training,
    )
    for result, case in zip(results, cases):
        check_accuracies(result[4], case)


@feedback_check("train_mlp", inputs=train_mlp_inputs, judge=judge_train_mlp)
def test_train_mlp(train_mlp, cases):
    hint = "train_mlp calls your learn_once_cross_entropy and forward: check them first."
    cases.call_all(train_mlp, hint=hint)


# --- test_mlp ------------------------------------------------------------------------


def test_mlp_inputs(rng):
    """(w1, b1, w2, b2, data_test, labels_test): a network that predicts class 0 for every
    sample (3 of 4 labels are 0: accuracy 0.75), then random networks and labels."""
    one = (np.ones((1, 1)), np.zeros((1, 1)), np.array([[1.0, -1.0]]), np.zeros((1, 2)))
    cases = [(*one, np.ones((4, 1)), np.array([0, 0, 0, 1]))]
    for _ in range(3):
        params, _ = two_layer_problem(rng)
        n, classes = int(rng.integers(8, 14)), params[2].shape[1]
        data = rng.normal(size=(n, params[0].shape[0]))
        cases.append((*params, data, rng.integers(0, classes, size=n)))
    return cases


TEST_MESSAGES = {
    "count": "test_mlp returned the number of correct predictions: divide by the number of "
    "samples (np.mean(predictions == labels_test)).",
    "error_rate": "test_mlp returned the error rate, 1 - accuracy.",
    "percent": "test_mlp should return a fraction in [0, 1], not a percentage.",
}


def judge_test_mlp(results, cases):
    no_placeholder(results, cases, "test_mlp")
    for result, case in zip(results, cases):
        if np.shape(result) == case.args[5].shape:
            raise named(
                "test_mlp returned one value per sample: the accuracy is their mean, one number.",
                "not_one_number",
            )
        scalar(result, "test_mlp's result")
    verdict(
        results,
        cases,
        "test_mlp",
        TEST_MESSAGES,
        otherwise="test_mlp's accuracy is not the fraction of samples whose predicted class "
        "(forward(...).argmax(axis=1), one class per row) equals the label (test_mlp calls your "
        "forward: check it first).",
    )


@feedback_check("test_mlp", inputs=test_mlp_inputs, judge=judge_test_mlp)
def test_test_mlp(test_mlp, cases):
    cases.call_all(test_mlp, hint=SHAPES_HINT)


# --- run_mlp_training ------------------------------------------------------------------


@contextlib.contextmanager
def spying(fn, name):
    """Record the calls ``fn`` makes to the global function ``name`` (which still runs).

    Yields a list of [bound arguments, result] (result None while it runs or if it raised);
    the student's own function is put back afterwards.
    """
    original = getattr(fn, "__globals__", {}).get(name)
    if not callable(original):
        yield []
        return

    def spy(*args, **kwargs):
        try:
            arguments = inspect.signature(original).bind(*args, **kwargs).arguments
            values = list(arguments.values())
        except TypeError:
            values = list(args) + list(kwargs.values())
        calls.append([copy.deepcopy(values), None])
        calls[-1][1] = original(*args, **kwargs)
        return calls[-1][1]

    with observed() as calls, replacing_global(fn, name, spy):
        yield calls


def check_train_mlp_arguments(passed, arguments, d_in, classes):
    """Check what run_mlp_training passed to train_mlp: data, settings, initial weights."""
    data_train, labels_train, _, _, d_h, learning_rate, num_epoch = arguments
    expect(
        len(passed) >= 8,
        "run_mlp_training should call train_mlp(w1, b1, w2, b2, data_train, labels_train, "
        "learning_rate, num_epoch).",
    )
    w1, b1, w2, b2, given_data, given_labels, given_rate, given_epochs = passed[:8]
    expect(
        close(given_data, data_train) and close(given_labels, labels_train),
        "run_mlp_training should train on data_train and labels_train.",
    )
    expect(
        given_rate == learning_rate and given_epochs == num_epoch,
        "run_mlp_training should pass its learning_rate and num_epoch on to train_mlp.",
    )
    if np.ndim(w2) == 2 and classes not in np.shape(w2):
        raise named(
            f"w2 has shape {np.shape(w2)}: the network needs one output per class, "
            "d_out = labels_train.max() + 1 (3 classes in this check, 10 for Fashion-MNIST).",
            "output_size",
        )
    for what, value, fan_in, fan_out in [("w1", w1, d_in, d_h), ("w2", w2, d_h, classes)]:
        expect_array(value, f"The initial {what}")
        mistake = xavier_problem(value, fan_in, fan_out, f"the initial {what}")
        expect(mistake is None, f"run_mlp_training: {mistake}", mistake="not_xavier")
    for what, value, width in [("b1", b1, d_h), ("b2", b2, classes)]:
        expect(
            np.shape(value) == (1, width),
            f"the initial {what} has shape {np.shape(value)}, expected (1, {width}).",
        )


@feedback_check("run_mlp_training")
def test_run_mlp_training(run_mlp_training, rng):
    d_in, d_h, classes = int(rng.integers(8, 12)), int(rng.integers(6, 10)), 3
    data, labels = blobs(rng, 37, d_in, classes, spread=1.5)
    data_train, labels_train, data_test, labels_test = (
        data[:30],
        labels[:30],
        data[30:],
        labels[30:],
    )
    learning_rate, num_epoch = 0.5, 3
    arguments = (data_train, labels_train, data_test, labels_test, d_h, learning_rate, num_epoch)
    with spying(run_mlp_training, "train_mlp") as calls:
        try:
            result = call(run_mlp_training, *arguments)
        except AssertionError:
            if calls:  # train_mlp failed: first say what is wrong with what it was given
                check_train_mlp_arguments(calls[0][0], arguments, d_in, classes)
            raise
        call(run_mlp_training, *arguments)  # a second run, to compare its initial weights
    expect_tuple(result, "run_mlp_training", 2)
    expect(
        len(calls) == 2,
        "run_mlp_training should initialise the network and train it with one call of your "
        f"train_mlp (two runs called it {len(calls)} times).",
    )
    (passed, trained), (passed_again, _) = calls
    check_train_mlp_arguments(passed, arguments, d_in, classes)
    expect(
        all(close(a, b, 0) for a, b in zip(passed[:4], passed_again[:4])),
        "run_mlp_training starts from different weights at every call: fix the seed, "
        "rng = np.random.default_rng(0), so that results are reproducible.",
        mistake="not_reproducible",
    )
    train_accuracies, test_accuracy = result
    expect(
        close(np.asarray(train_accuracies, dtype=float), np.asarray(trained[4], dtype=float)),
        "run_mlp_training should return the train_accuracies that train_mlp returned.",
    )
    check_test_accuracy(run_mlp_training, trained[:4], test_accuracy, arguments)


def check_test_accuracy(run_mlp_training, weights, test_accuracy, arguments):
    """test_accuracy: what the student's own test_mlp says of the trained ``weights`` on
    data_test (not on data_train)."""
    data_train, labels_train, data_test, labels_test = arguments[:4]
    test_accuracy = scalar(test_accuracy, "test_accuracy (second value)")
    own_test = getattr(run_mlp_training, "__globals__", {}).get("test_mlp")
    expect(
        callable(own_test),
        "run_mlp_training tests the trained network with your test_mlp: define it first.",
    )
    hint = "run_mlp_training calls your test_mlp: check it first."
    on_test = scalar(call(own_test, *weights, data_test, labels_test, hint=hint), "test_mlp")
    if not np.isclose(test_accuracy, on_test):
        on_train = call(own_test, *weights, data_train, labels_train, hint=hint)
        expect(
            not np.isclose(test_accuracy, scalar(on_train, "test_mlp")),
            "test_accuracy was measured on the training data: use test_mlp on data_test.",
            mistake="tested_on_training_data",
        )
        raise AssertionError(
            "test_accuracy should be test_mlp of the trained network on data_test and labels_test."
        )
