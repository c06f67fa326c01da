"""Feedback checks for notebook 05, part 2: training and testing the two-layer network."""

import contextlib
import copy
import inspect

import numpy as np

from coursekit.checks.framework import (
    call,
    expect,
    expect_array,
    expect_tuple,
    feedback_check,
    replacing_global,
)
from coursekit.checks.mlp_common import (
    NAMES,
    SHAPES_HINT,
    all_close,
    close,
    one_hot,
    scalar,
)
from coursekit.checks.mlp_two_layer import two_layer_forward, two_layer_grads, two_layer_problem

__all__ = [
    "test_train_mlp",
    "test_test_mlp",
    "test_run_mlp_training",
]


def cross_entropy_step(params, data, labels, learning_rate):
    grads = two_layer_grads(params, data, one_hot(labels, params[2].shape[1]), "ce")
    return [p - learning_rate * g for p, g in zip(params, grads)]


def accuracy(params, data, labels):
    return np.mean(two_layer_forward(params, data).argmax(axis=1) == labels)


def blobs(rng, n, d_in, classes, spread=1.0):
    """n samples of ``classes`` Gaussian blobs in d_in dimensions; every class present."""
    labels = np.arange(n) % classes
    rng.shuffle(labels)
    centres = rng.normal(0, 1.5, size=(classes, d_in))
    return centres[labels] + rng.normal(0, spread, size=(n, d_in)), labels


@feedback_check("train_mlp")
def test_train_mlp(train_mlp, rng):
    params, _ = two_layer_problem(rng)
    d_in, d_out = params[0].shape[0], params[2].shape[1]
    data, labels = blobs(rng, int(rng.integers(12, 20)), d_in, d_out)
    learning_rate, num_epoch = 1.0, int(rng.integers(4, 7))
    result = call(
        train_mlp,
        *params,
        data,
        labels,
        learning_rate,
        num_epoch,
        hint="train_mlp calls your learn_once_cross_entropy and forward: check them first.",
    )
    expect_tuple(result, "train_mlp", 5)
    trajectory = [params]
    for _ in range(num_epoch + 1):
        trajectory.append(cross_entropy_step(trajectory[-1], data, labels, learning_rate))
    new = list(result[:4])
    for what, value, old in zip(NAMES, new, params):
        expect_array(value, f"The trained {what}", shape=old.shape)
    if not all_close(new, trajectory[num_epoch]):
        known = [
            (
                0,
                "it returned the initial weights: keep what learn_once_cross_entropy "
                "returns, w1, b1, w2, b2, loss = learn_once_cross_entropy(w1, b1, w2, b2, ...).",
            ),
            (
                1,
                "the weights are those after one single step: each epoch must start from the "
                "weights of the previous epoch, not from the initial ones.",
            ),
            (
                num_epoch - 1,
                "one step too few: take num_epoch steps, for epoch in range(num_epoch).",
            ),
            (
                num_epoch + 1,
                "one step too many: take num_epoch steps, for epoch in range(num_epoch).",
            ),
        ]
        for steps, message in known:
            expect(not all_close(new, trajectory[steps]), f"train_mlp: {message}")
        raise AssertionError(
            f"train_mlp: the weights after {num_epoch} epochs are not those of {num_epoch} "
            "steps of learn_once_cross_entropy with this learning rate (if that check passes, "
            "look at how the weights go from one epoch to the next)."
        )
    accuracies = result[4]
    expect(
        np.ndim(accuracies) == 1,
        "train_accuracies should hold one accuracy per epoch (a list of num_epoch numbers), "
        f"not {type(accuracies).__name__}"
        + (f" of shape {np.shape(accuracies)}." if np.ndim(accuracies) else "."),
    )
    accuracies = np.asarray(accuracies, dtype=float)
    expect(
        len(accuracies) == num_epoch,
        f"train_accuracies holds {len(accuracies)} values for {num_epoch} epochs: one per epoch.",
    )
    expect(
        np.all((accuracies >= 0) & (accuracies <= 1)),
        "the accuracies should be fractions in [0, 1], not percentages: np.mean(predictions "
        "== labels_train).",
    )
    after = [accuracy(trajectory[k + 1], data, labels) for k in range(num_epoch)]
    before = [accuracy(trajectory[k], data, labels) for k in range(num_epoch)]
    expect(
        close(accuracies, after) or close(accuracies, before),
        "train_accuracies[i] should be the accuracy on data_train after epoch i's step: the "
        "fraction of samples whose predicted class forward(...).argmax(axis=1) equals the label.",
    )


@feedback_check("test_mlp")
def test_test_mlp(test_mlp, rng):
    params, _ = two_layer_problem(rng)
    n, d_out = int(rng.integers(8, 14)), params[2].shape[1]
    data = rng.normal(size=(n, params[0].shape[0]))
    predicted = two_layer_forward(params, data).argmax(axis=1)
    correct = int(rng.choice([k for k in range(2, n - 1) if 2 * k != n]))
    labels = (predicted + rng.integers(1, d_out, size=n)) % d_out  # all wrong...
    right = rng.choice(n, size=correct, replace=False)
    labels[right] = predicted[right]  # ... but `correct` of them
    result = call(test_mlp, *params, data, labels, hint=SHAPES_HINT)
    if np.shape(result) == (n,):
        raise AssertionError(
            "test_mlp returned one value per sample: the accuracy is their mean, one number."
        )
    value = scalar(result, "test_mlp's result")
    expected = correct / n
    if np.isclose(value, correct):
        raise AssertionError(
            "test_mlp returned the number of correct predictions: divide by the number of "
            "samples (np.mean(predictions == labels_test))."
        )
    expect(not np.isclose(value, 1 - expected), "test_mlp returned the error rate, 1 - accuracy.")
    expect(
        not np.isclose(value, 100 * expected),
        "test_mlp should return a fraction in [0, 1], not a percentage.",
    )
    expect(
        np.isclose(value, expected),
        "test_mlp's accuracy is not the fraction of samples whose predicted class "
        "(forward(...).argmax(axis=1), one class per row) equals the label.",
    )


@contextlib.contextmanager
def spying(fn, name):
    """Record the calls ``fn`` makes to the global function ``name`` (which still runs).

    Yields a list of [bound arguments, result] (result None while it runs or if it raised);
    the student's own function is put back afterwards.
    """
    original = getattr(fn, "__globals__", {}).get(name)
    calls = []
    if not callable(original):
        yield calls
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

    with replacing_global(fn, name, spy):
        yield calls


def xavier_mistake(w, fan_in, fan_out, what):
    """Name what is wrong with initial weights ``w`` (fan_in, fan_out), or None."""
    limit = np.sqrt(6 / (fan_in + fan_out))
    if w.shape == (fan_out, fan_in) and fan_in != fan_out:
        return (
            f"{what} has shape {w.shape}: rows and columns are swapped, a layer from "
            f"{fan_in} to {fan_out} units has weights of shape ({fan_in}, {fan_out})."
        )
    if w.shape != (fan_in, fan_out):
        return f"{what} has shape {w.shape}, expected ({fan_in}, {fan_out})."
    if np.all(w == w.flat[0]):
        return (
            f"all values of {what} are equal: every hidden unit would compute the same "
            "thing, get the same gradient and stay identical. Draw them at random."
        )
    if w.min() >= 0:
        return (
            f"{what} is not centred on 0 (all values are positive): rng.random and "
            "np.random.rand draw from [0, 1). Use rng.uniform(-limit, limit, size=...)."
        )
    if np.abs(w).max() > limit * (1 + 1e-9):
        return (
            f"some values of {what} lie outside Xavier's range: for a layer from {fan_in} to "
            f"{fan_out} units, draw uniformly from [-limit, limit] with limit = "
            "sqrt(6 / (n_in + n_out)), rng.uniform(-limit, limit, size=...)."
        )
    if w.size >= 40 and abs(w.mean()) > 0.35 * limit:
        return f"{what} is not centred on 0: draw from [-limit, limit]."
    if w.std() < 0.5 * limit / np.sqrt(3):
        return (
            f"the values of {what} are much smaller than Xavier's: draw uniformly from "
            "[-limit, limit] with limit = sqrt(6 / (n_in + n_out))."
        )
    return None


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
        raise AssertionError(
            f"w2 has shape {np.shape(w2)}: the network needs one output per class, "
            "d_out = labels_train.max() + 1 (3 classes in this check, 10 for Fashion-MNIST)."
        )
    for what, value, fan_in, fan_out in [("w1", w1, d_in, d_h), ("w2", w2, d_h, classes)]:
        expect_array(value, f"The initial {what}")
        mistake = xavier_mistake(value, fan_in, fan_out, f"the initial {what}")
        expect(mistake is None, f"run_mlp_training: {mistake}")
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
    )
    train_accuracies, test_accuracy = result
    expect(
        close(np.asarray(train_accuracies, dtype=float), np.asarray(trained[4], dtype=float)),
        "run_mlp_training should return the train_accuracies that train_mlp returned.",
    )
    test_accuracy = scalar(test_accuracy, "test_accuracy (second value)")
    trained_params = list(trained[:4])
    expected = accuracy(trained_params, data_test, labels_test)
    if not np.isclose(test_accuracy, expected) and np.isclose(
        test_accuracy, accuracy(trained_params, data_train, labels_train)
    ):
        raise AssertionError(
            "test_accuracy was measured on the training data: use test_mlp on data_test."
        )
    expect(
        np.isclose(test_accuracy, expected),
        "test_accuracy should be test_mlp of the trained network on data_test and labels_test.",
    )
