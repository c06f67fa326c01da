"""Feedback checks for notebook 05, part 4b: ``train_network``.

Judged against the solution's recorded results (one batch of all the samples: the shuffle's
order does not count), its usual mistakes named from the recorded results of the wrong answers
in ``pixelschool_admin/answers/mlp_network_training.py``; its batches and seeds are checked by
their properties.
"""

import math

import numpy as np

from pixelschool.checks.compare import close, verdict
from pixelschool.checks.framework import expect, expect_tuple, feedback_check
from pixelschool.checks.gradient_checks import (
    call_passing,
    flat,
    random_layers,
)

__all__ = ["test_train_network"]


# --- train_network ------------------------------------------------------------------------

TRAIN_RTOL = 1e-5  # three steps of Adam amplify rounding differences a little
TRAIN_HINT = (
    "train_network calls your minibatches, relu_network_loss_and_grads, the regularisations, "
    "decayed_learning_rate and the optimiser steps: check them first."
)
# train_network's parameters after (layers, data, labels, num_epoch, batch_size, learning_rate)
TRAIN_DEFAULTS = dict(
    optimizer="momentum", beta=0.9, decay=0.0, reg_l2=0.0, reg_l1=0.0, keep_prob=1.0, seed=0
)
TRAIN_SETTINGS = [
    dict(optimizer="sgd", learning_rate=0.5),
    dict(optimizer="momentum", learning_rate=0.2, beta=0.8, decay=0.3),
    dict(optimizer="adam", learning_rate=0.05, beta=0.85, reg_l2=0.02, reg_l1=0.01),
]
TRAIN_MESSAGES = {
    "cost_without_penalties": "train_network: each cost should include the penalties: loss + "
    "L2 penalty + L1 penalty.",
    "no_penalty_gradients": "train_network: add the gradients of the L2 and L1 penalties to "
    "the loss's gradients before the update.",
    "no_decay": "train_network: the learning rate must decay, decayed_learning_rate("
    "learning_rate, t, decay) with t the number of steps taken.",
    "decay_from_one": "train_network: t counts the steps taken before this one, 0 for the "
    "first batch.",
    "ignores_optimizer": lambda result, case: (
        f"train_network ignores optimizer={case.args[6]!r}: it took plain gradient steps."
    ),
}


def train_arguments(num_epoch, batch_size, learning_rate, **settings):
    """train_network's arguments after (layers, data, labels), all positional, in order (so
    that a student's function whose keywords are misspelt still runs)."""
    return (num_epoch, batch_size, learning_rate, *{**TRAIN_DEFAULTS, **settings}.values())


def train_inputs(rng):
    """(layers, data (N, 4) of 3 Gaussian blobs, labels, 3 epochs, one batch of all the samples,
    ...): the same network trained with sgd, with momentum and decay, with Adam and penalties."""
    n = int(rng.integers(24, 31))
    labels = rng.permutation(np.arange(n) % 3)
    data = rng.normal(0, 1.5, size=(3, 4))[labels] + rng.normal(size=(n, 4))
    layers = random_layers(rng, [4, 6, 3], scale=0.6)
    return [(layers, data, labels, *train_arguments(3, n + 5, **s)) for s in TRAIN_SETTINGS]


def same_training(result, expected):
    """Same trained layers and costs, up to TRAIN_RTOL."""
    return close(
        [tuple(pair) for pair in result[0]], [tuple(pair) for pair in expected[0]], TRAIN_RTOL
    ) and close(list(result[1]), list(expected[1]), TRAIN_RTOL)


def initial_layers(result, case):
    """A relation: the layers it was given, returned."""
    if close([tuple(pair) for pair in result[0]], [tuple(pair) for pair in case.args[0]]):
        return "train_network returned the initial layers: return the updated parameters."
    return None


def training_otherwise(result, case):
    settings = dict(zip(TRAIN_DEFAULTS, case.args[6:]))
    changed = [f"{k}={v!r}" for k, v in settings.items() if v != TRAIN_DEFAULTS[k]]
    what = f"train_network ({', '.join([f'learning_rate={case.args[5]}', *changed])}; one batch"
    what += f" of all samples, {case.args[3]} epochs)"
    if not close(list(result[1]), list(case.expected[1]), TRAIN_RTOL):
        return f"{what}: the costs are not the loss plus penalties of each step, before its update."
    return f"{what}: the trained parameters are not those of these steps of this optimiser."


def judge_training(results, cases):
    for (trained, costs), case in zip(map(trained_and_costs, results), cases):
        layers, count = case.args[0], len(case.expected[1])
        expect(
            isinstance(trained, (list, tuple))
            and len(trained) == len(layers)
            and all(isinstance(pair, (list, tuple)) and len(pair) == 2 for pair in trained)
            and all(np.shape(a) == np.shape(b) for a, b in zip(flat(trained), flat(layers))),
            "train_network should return the trained layers as a list of (w, b) pairs shaped "
            "like the layers it was given.",
        )
        expect(
            len(costs) == count,
            f"train_network should return one cost per batch: {count} epochs of one batch "
            f"give {count} costs, not {len(costs)}.",
        )
    verdict(
        results,
        cases,
        "train_network",
        TRAIN_MESSAGES,
        same=same_training,
        relations=[initial_layers],
        otherwise=training_otherwise,
    )


def trained_and_costs(result):
    """train_network's (layers, costs); costs a 1-D list of numbers, or an AssertionError."""
    expect_tuple(result, "train_network", 2)
    costs = result[1]
    expect(
        np.ndim(costs) == 1 and all(np.ndim(c) == 0 for c in costs),
        f"train_network's costs should be a list of numbers, one per batch, not {costs!r:.60}.",
    )
    return result[0], costs


def check_batches_and_seeds(train_network, cases):
    """Costs one per batch, drawn from rng = np.random.default_rng(seed), keep_prob used."""
    layers, data, labels = next(iter(cases)).args[:3]
    n, rng = len(data), cases.rng
    batch_size, seed = int(rng.choice([5, 7])), int(rng.integers(1000))

    def costs_of(layers, data, labels, *arguments):
        arguments = (layers, data, labels, *arguments)
        result = call_passing(train_network, *arguments, hint=TRAIN_HINT, watch=False)
        return np.asarray(trained_and_costs(result)[1], dtype=float)

    def two_epochs(**settings):
        return costs_of(layers, data, labels, *train_arguments(2, batch_size, 0.1, **settings))

    costs = two_epochs(seed=seed)
    two_samples = [(np.zeros((2, 2)), np.zeros((1, 2)))], np.eye(2), np.array([0, 1])
    one_each = costs_of(*two_samples, *train_arguments(3, 1, 0.1, optimizer="sgd"))
    for samples, size, epochs, found in [(n, batch_size, 2, costs), (2, 1, 3, one_each)]:
        count = epochs * math.ceil(samples / size)
        expect(
            len(found) == count,
            f"with {samples} samples, batch_size={size} and {epochs} epochs, train_network "
            f"should return {count} costs, one per batch, not {len(found)}.",
            mistake="cost_per_batch",
        )
    expect(
        close(two_epochs(seed=seed), costs, 1e-9),
        "train_network gives other costs for the same seed: make every random choice with "
        "rng = np.random.default_rng(seed), created once at the start.",
        mistake="not_reproducible",
    )
    expect(
        not close(two_epochs(seed=seed + 1), costs, 1e-9),
        "train_network gives the same costs whatever the seed: shuffle with rng = "
        "np.random.default_rng(seed), passed to minibatches.",
    )
    expect(
        not close(two_epochs(seed=seed, keep_prob=0.5), costs, 1e-9),
        "train_network ignores keep_prob: pass it (and rng) to relu_network_loss_and_grads.",
        mistake="keep_prob_ignored",
    )


@feedback_check("train_network", inputs=train_inputs, judge=judge_training)
def test_train_network(train_network, cases):
    for case in cases:
        cases.call(train_network, case, hint=TRAIN_HINT)
    check_batches_and_seeds(train_network, cases)
