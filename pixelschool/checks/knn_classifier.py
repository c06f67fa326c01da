"""Feedback checks for notebook 02, part 2: the vote (``knn_predict``), the accuracy
(``evaluate_knn``) and cross-validation (``cross_validate_knn``).

Each result is judged against the solution's recorded one (``knn_common.judge``), the usual
mistakes named from the recorded results of the wrong answers in
``pixelschool_admin/answers/knn_classifier.py``. No input row is equally far from two others:
NumPy's default (unstable) argsort passes.
"""

import numpy as np

from pixelschool.checks.framework import (
    UINT8_ADVICE,
    describe,
    expect,
    expect_array,
    feedback_check,
)
from pixelschool.checks.knn_common import judge

__all__ = ["test_knn_predict", "test_evaluate_knn", "test_cross_validate_knn"]


def distinct_distances(rows):
    """True when no row of ``rows`` (N, D), integers, is equally far from two rows (itself
    included): every sort then orders each row's neighbours the same way."""
    rows = rows.astype(np.int64)
    squared = ((rows[:, None, :] - rows[None, :, :]) ** 2).sum(axis=2)  # exact in int64
    return all(len(np.unique(row)) == len(row) for row in squared)


def uint8_classes(rng, n, num_classes=3, d=8):
    """(n, d) uint8 rows around one centre per class (kNN gets about 70% right), and their
    labels (n,): drawn again until no row is equally far from two others."""
    while True:
        centres = rng.integers(30, 226, size=(num_classes, d))
        labels = rng.integers(0, num_classes, size=n)
        noisy = centres[labels] + rng.normal(0, 70, size=(n, d))
        rows = np.clip(np.rint(noisy), 0, 255).astype(np.uint8)
        if distinct_distances(rows):
            return rows, labels


# --- The vote -----------------------------------------------------------------------------


def random_votes(rng, k):
    """Float distances (no two equal) and labels: a plain case for k neighbours."""
    n_test, n_train = int(rng.integers(10, 16)), int(rng.integers(25, 35))
    dists = rng.uniform(0, 10, size=(n_test, n_train))
    labels = rng.integers(0, int(rng.integers(3, 6)), size=n_train)
    return dists, labels, k


def tied_votes(rng):
    """k = 6 neighbours in three classes, two each: every row's vote is a three-way tie, the
    nearest neighbour in the middle class (smallest, largest, nearest class all differ)."""
    n_test, n_train, num_classes = 8, 30, 5
    labels = rng.permutation(np.arange(n_train) % num_classes)
    dists = rng.uniform(5, 10, size=(n_test, n_train))
    for row in dists:
        small, middle, large = np.sort(rng.choice(num_classes, size=3, replace=False))
        picks = [
            rng.choice(np.flatnonzero(labels == c), size=2, replace=False)
            for c in (middle, small, large)
        ]
        near = np.concatenate(picks)  # nearest first: middle, middle, small, small, large, large
        row[near] = np.sort(rng.uniform(0, 4, size=6))
    return dists, labels, 6


def knn_inputs(rng):
    """(dists (N_test, N_train), labels_train (N_train,), k): a worked case for k = 1, 2
    (a tie between two labels) and 3, random distances for k = 1, rows whose votes tie
    three ways, random ones for k = 3..7."""
    dists = np.array([[0.1, 0.2, 0.3, 0.9], [0.9, 0.8, 0.1, 0.2]])
    labels = np.array([2, 1, 1, 0])
    worked = [(dists, labels, k) for k in (1, 2, 3)]
    return worked + [
        random_votes(rng, 1),
        tied_votes(rng),
        random_votes(rng, int(rng.integers(3, 8))),
    ]


TIE_RULE = (
    "the tie rule: when several classes have the most votes, predict the smallest of those "
    "labels (np.bincount(votes).argmax() does it); "
)
KNN_MESSAGES = {
    "axis_0": "you sorted dists along axis 0, over the test images. Each row of dists holds "
    "one test image's distances to the training images: sort the rows, axis=1.",
    "skips_nearest": "you skipped the nearest neighbour ([:, 1:k + 1]): the test images are "
    "not in the training set, so the nearest one counts. Take the first k: [:, :k] (k is off "
    "by one).",
    "k_plus_one": "k is off by one: you used k + 1 neighbours. The k nearest are "
    "np.argsort(dists, axis=1, kind='stable')[:, :k].",
    "tie_nearest": TIE_RULE + "you picked the class of the nearest neighbour among them (as "
    "Counter.most_common does).",
    "tie_largest": TIE_RULE + "you picked the largest.",
}
KNN_HINT = (
    "dists has shape (N_test, N_train): np.argsort(dists, axis=1, kind='stable')[:, :k] gives "
    "the indices (N_test, k) of each test image's k nearest training images (np.sort would give "
    "their distances, not their indices), and labels_train[indices] their labels."
)


def with_k(result, case):
    return f"knn_predict with k = {case.args[2]}: "


def wrong_predictions(result, case):
    wrong = np.flatnonzero(result != case.expected)
    return (
        f"{with_k(result, case)}wrong predictions for test images {wrong[:5].tolist()} (of "
        f"{len(result)}). Take the labels of the k nearest training images of each row and "
        "predict the label they hold most often (ties: the smallest label)."
    )


def check_predictions(result, case):
    """Type and shape of one result: (N_test,) integers."""
    dists = case.args[0]
    expect_array(result, "knn_predict's result")
    expect(
        result.shape == (len(dists),),
        f"knn_predict returned shape {result.shape} for dists of shape {dists.shape}; expected "
        f"one label per test image, ({len(dists)},). Each row of dists is one test image: sort "
        "along axis=1 and vote once per row.",
        mistake="swapped",
    )
    expect_array(result, "knn_predict's result", kind="iu")


judge_knn_predict = judge(
    "knn_predict", check_predictions, with_k, KNN_MESSAGES, otherwise=wrong_predictions
)


@feedback_check("knn_predict", inputs=knn_inputs, judge=judge_knn_predict)
def test_knn_predict(knn_predict, cases):
    cases.call_all(knn_predict, hint=KNN_HINT)


# --- Accuracy -----------------------------------------------------------------------------


def evaluate_inputs(rng):
    """(data_train, labels_train, data_test, labels_test, k): worked cases on 1-D points,
    then uint8 rows around three class centres, as the notebook's images: as many test as
    training rows for k = 1 and k = 4, more training rows for k = 5, and float64 copies of
    the k = 4 rows. No test row is equally far from two training rows."""
    line, line_labels = np.array([[0.0], [1.0], [10.0], [11.0]]), np.array([0, 0, 1, 1])
    cases = [
        (line, line_labels, np.array([[0.4], [10.6], [9.0]]), np.array([0, 1, 0]), 1),
        (line, line_labels, np.array([[0.2]]), np.array([0]), 3),
    ]
    n = int(rng.integers(14, 20))
    for n_train, n_test, k in [(n, n, 1), (n, n, 4), (int(rng.integers(25, 35)), 12, 5)]:
        rows, labels = uint8_classes(rng, n_train + n_test)
        cases.append((rows[:n_train], labels[:n_train], rows[n_train:], labels[n_train:], k))
    data_train, labels_train, data_test, labels_test, k = cases[3]
    as_floats = (data_train.astype(np.float64), data_test.astype(np.float64))
    return cases + [(as_floats[0], labels_train, as_floats[1], labels_test, k)]


EVALUATE_HINT = (
    "evaluate_knn should call distance_matrix(data_test, data_train) (one row per test image; "
    "distance_matrix(data_train, data_test) is the wrong way round), knn_predict(dists, "
    "labels_train, k), and compare the predictions with labels_test (not labels_train)."
)
EVALUATE_MESSAGES = {
    "training_images": "the accuracy on the training images: classify data_test, the images "
    "the classifier has not seen (on its own training images 1-NN is always right).",
    "k_ignored": lambda result, case: (
        f"the accuracy for k = 1, not k = {case.args[4]}: pass k on to knn_predict."
    ),
    "train_denominator": "the number of correct predictions divided by the number of training "
    "images: the accuracy is the share of the test images that are right, "
    "np.mean(predictions == labels_test).",
    "uint8_wrap": "right for float rows but wrong for uint8 images, the rows the notebook "
    "passes (x_train, x_test): the distances it uses wrap around. Check the distance function "
    f"that evaluate_knn calls. {UINT8_ADVICE}",
}
EVALUATE_RELATIONS = [  # computed from the accuracy alone
    (lambda c: 100 * c.expected, "a percentage: return the fraction that is right, in [0, 1]."),
    (
        lambda c: c.expected * len(c.args[3]),
        "the number of correct predictions: divide by len(labels_test).",
    ),
    (lambda c: 1 - c.expected, "the error rate (1 - accuracy): return the share that is right."),
]


def returned(result, case):
    return f"evaluate_knn returned {float(result):.4g}, "


def check_accuracy(result, case):
    expect(
        np.ndim(result) == 0 and np.asarray(result).dtype.kind in "fiu",
        f"evaluate_knn should return one number, the accuracy (a float), not {describe(result)}.",
        mistake="not_one_number",
    )


judge_evaluate_knn = judge(
    "evaluate_knn",
    check_accuracy,
    returned,
    EVALUATE_MESSAGES,
    EVALUATE_RELATIONS,
    otherwise=lambda result, case: (
        f"evaluate_knn with k = {case.args[4]} on {len(case.args[3])} test images returned "
        f"{float(result):.4g}, not the test accuracy. {EVALUATE_HINT}"
    ),
)


@feedback_check("evaluate_knn", inputs=evaluate_inputs, judge=judge_evaluate_knn)
def test_evaluate_knn(evaluate_knn, cases):
    cases.call_all(evaluate_knn, hint=EVALUATE_HINT)


# --- Cross-validation ---------------------------------------------------------------------


def cross_validation_inputs(rng):
    """(data (N, D), labels (N,), ks, num_folds): a worked case on 1-D points (k = 2 ties on
    fold 1), then uint8 rows around three class centres, N not a multiple of num_folds, and
    float64 copies of the first. No row is equally far from two others."""
    line = np.array([[0.0], [0.1], [5.0], [5.1], [0.25], [5.3]])
    cases = [(line, np.array([0, 0, 1, 1, 0, 1]), [1, 2], 3)]
    for num_folds in rng.choice([3, 4, 5], size=2, replace=False):
        num_folds = int(num_folds)
        n = int(rng.integers(5, 8)) * num_folds + int(rng.integers(1, num_folds))
        data, labels = uint8_classes(rng, n)
        ks = sorted(int(k) for k in rng.choice(np.arange(1, 9), size=6, replace=False))
        cases.append((data, labels, ks, num_folds))
    data, labels, ks, num_folds = cases[1]
    return cases + [(data.astype(np.float64), labels, ks, num_folds)]


CROSS_VALIDATION_HINT = (
    "Split data and labels with np.array_split(array, num_folds): N need not be a multiple of "
    "num_folds, so np.split or a reshape fails."
)
CROSS_VALIDATION_MESSAGES = {
    "validation_in_training": "the validation fold is also in the training set, so each "
    "validation image finds itself at distance 0 (k = 1 scores 100%). Train on the other "
    "folds only.",
    "interleaved": "your folds take every num_folds-th sample; make consecutive folds with "
    "np.array_split(data, num_folds).",
    "swapped_roles": "you trained on fold i and validated on the others: the reverse. Fold i "
    "is the validation set, the other folds together the training set.",
    "uint8_wrap": "the accuracies are right for float rows but wrong for uint8 images, the rows "
    f"the notebook passes (x_train): the distances wrap around. {UINT8_ADVICE}",
}


def where(result, case):
    data, _, ks, num_folds = case.args
    return f"cross_validate_knn(data {data.shape}, labels, ks={ks}, num_folds={num_folds}): "


def check_accuracies_array(result, case):
    """Type and shape of one result: (len(ks), num_folds)."""
    _, _, ks, num_folds = case.args
    shape, wanted = getattr(result, "shape", None), (len(ks), num_folds)
    expect_array(result, f"{where(result, case)}the result")
    expect(
        len(ks) == num_folds or shape != wanted[::-1],
        f"{where(result, case)}returned shape {shape}: rows and columns are swapped. Return one "
        f"row per k and one column per fold: {wanted}.",
        mistake="swapped",
    )
    expect(
        shape != wanted[:1],
        f"{where(result, case)}returned one number per k: return every fold's accuracy, shape "
        f"{wanted}; the notebook averages them itself.",
        mistake="one_number_per_k",
    )
    expect(
        shape == wanted,
        f"{where(result, case)}returned shape {shape}, expected (len(ks), num_folds) = {wanted}.",
    )


def first_wrong_accuracy(result, case):
    ks, expected = case.args[2], case.expected
    j, i = np.argwhere(~np.isclose(result, expected))[0]
    return (
        f"{where(result, case)}accuracies[{j}, {i}] should be the accuracy of k = {ks[j]} with "
        f"fold {i} of np.array_split as validation set and the other folds as training set: "
        f"{expected[j, i]:.4g}; yours is {result[j, i]:.4g}."
    )


judge_cross_validate_knn = judge(
    "cross_validate_knn",
    check_accuracies_array,
    where,
    CROSS_VALIDATION_MESSAGES,
    [(lambda c: 100 * c.expected, "accuracies in percent: return fractions in [0, 1].")],
    otherwise=first_wrong_accuracy,
)


@feedback_check(
    "cross_validate_knn", inputs=cross_validation_inputs, judge=judge_cross_validate_knn
)
def test_cross_validate_knn(cross_validate_knn, cases):
    cases.call_all(cross_validate_knn, hint=CROSS_VALIDATION_HINT)
