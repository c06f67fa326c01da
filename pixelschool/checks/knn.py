"""Feedback checks for notebook 02, k-nearest neighbours.

The checks compare the student's results on ``inputs(rng)`` with the solution's, recorded by ``make
build``, and name a mistake from its recorded results (the wrong answers of
``pixelschool_admin/answers/knn.py``: keys of the ``*_MESSAGES``), from the expected result alone
(squared, in percent), or as a uint8 failure (right on float64 copies of uint8 rows, wrong on the
rows). No input row is equally far from two others: NumPy's default (unstable) argsort passes.
"""

import numpy as np

from pixelschool.checks.compare import RTOL, close, placeholder, verdict
from pixelschool.checks.framework import (
    UINT8_ADVICE,
    describe,
    expect,
    expect_array,
    feedback_check,
    has_uint8,
    peak_memory,
    same_value,
)
from pixelschool.checks.loops import forbid_loops, loop_depth

EXERCISES = (
    "distance_matrix_two_loops distance_matrix_one_loop distance_matrix distance_matrix_l1 "
    "knn_predict evaluate_knn cross_validate_knn"
).split()
__all__ = [f"test_{name}" for name in EXERCISES]

# --- What every check of this notebook does -----------------------------------------------


def reject_template(results, cases, name):
    """Say so when a result is what an unfinished template returns (its input, [], None)."""
    for result, case in zip(results, cases):
        text = placeholder(result, case)
        if text:
            raise AssertionError(f"{name}: {text}")


def said(prefix, text):
    """``message(result, case)``: ``prefix(result, case)``, then ``text`` (or
    ``text(result, case)``)."""
    return lambda result, case: (
        prefix(result, case) + (text(result, case) if callable(text) else text)
    )


def judge(name, check_result, prefix, messages, pairs=(), *, first=(), otherwise):
    """A judge: ``check_result(result, case)`` (type, shape) on every result, then
    :func:`verdict` with the recorded mistakes' ``messages``, then these relations: a uint8
    failure (when ``messages`` has "uint8_wrap"), the relations ``first``, and ``pairs``
    ``(value(case), text)``: ``text`` when the result is ``value``, computed from the expected
    result alone. Messages start with ``prefix(result, case)``."""
    messages = {key: said(prefix, text) for key, text in messages.items()}

    def known_relation(result, case):
        for value, text in pairs:
            if close(result, value(case)):
                return said(prefix, text)(result, case)
        return None

    def judge_results(results, cases):
        reject_template(results, cases, name)
        for result, case in zip(results, cases):
            check_result(result, case)
        relations = [*first, known_relation]
        if "uint8_wrap" in messages:
            relations.insert(0, uint8_relation(results, cases, messages["uint8_wrap"]))
        verdict(results, cases, name, messages, relations=relations, otherwise=otherwise)

    return judge_results


def uint8_relation(results, cases, message):
    """A relation for :func:`verdict`: ``message(result, case)`` when every wrong result is
    that of uint8 inputs and the float64 copy of one of them (also an input) comes out right.
    """
    right = [case for result, case in zip(results, cases) if close(result, case.expected)]
    wrong = [case for result, case in zip(results, cases) if not close(result, case.expected)]
    as_floats = [
        tuple(a.astype(np.float64) if has_uint8([a]) else a for a in case.args) for case in wrong
    ]
    only_uint8 = all(has_uint8(case.args) for case in wrong) and any(
        same_value(args, case.args) for args in as_floats for case in right
    )
    return lambda result, case: only_uint8 and message(result, case)


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


# --- Distance matrices --------------------------------------------------------------------

FORMULA = {
    "L2": "sqrt(sum((matrix1[i] - matrix2[j]) ** 2))",
    "L1": "sum(|matrix1[i] - matrix2[j]|)",
}
EXPAND = (
    "Expand the square instead: |a - b|^2 = |a|^2 + |b|^2 - 2 a.b, where all the a.b are one "
    "matrix product, matrix1 @ matrix2.T."
)
ROW_BY_ROW = "Loop over the rows of matrix1 instead, so that each step holds an (N2, D) array only."


def distance_inputs(rng):
    """(matrix1 (N1, D), matrix2 (N2, D)) pairs: worked cases (ints, and uint8 where 0 - 255
    wraps to 1), float rows with a repeated row (distance 0, where rounding can go below 0),
    uint8 images and their float64 copies. N1 != N2 but once, so swapped axes show."""
    points = np.array([[0, 0], [3, 4]])
    cases = [
        (points, np.array([[0, 0]])),
        (points, np.array([[0, 0], [6, 8]])),
        (np.array([[0, 0]], np.uint8), np.array([[255, 255]], np.uint8)),
        (np.array([[3]], np.uint8), np.array([[5]], np.uint8)),
    ]
    n1 = int(rng.integers(3, 7))
    n2 = n1 + int(rng.integers(2, 6))
    d = int(rng.integers(5, 12))
    matrix1, matrix2 = rng.normal(0, 3, size=(n1, d)), rng.normal(0, 3, size=(n2, d))
    matrix2[1] = matrix1[0]
    d = int(rng.integers(20, 50))
    images1 = rng.integers(0, 256, size=(n2, d), dtype=np.uint8)
    images2 = rng.integers(0, 256, size=(n1 + 1, d), dtype=np.uint8)
    images2[0, :4] = images1[0, :4] + 1  # differences of -1: 255 where uint8 wraps
    floats = (images1.astype(np.float64), images2.astype(np.float64))
    return cases + [(matrix1, matrix2), (images1, images2), floats]


DISTANCE_MESSAGES = {  # after "<name> "
    "L2": {
        "uint8_wrap": "gives the right distances for float inputs but not for uint8 images. "
        + UINT8_ADVICE,
        "l1_instead": "returned L1 distances (sums of absolute differences); the Euclidean (L2) "
        f"distance sums the squared differences and takes the square root: {FORMULA['L2']}.",
    },
    "L1": {
        "uint8_wrap": "gives the right distances for float inputs but not for uint8 images. "
        f"np.abs(np.uint8(3) - np.uint8(5)) is 254, not 2, so {FORMULA['L1']} comes out wrong. "
        + UINT8_ADVICE,
        "l2_instead": "returned Euclidean (L2) distances; the L1 distance is the sum of the "
        f"absolute differences, {FORMULA['L1']}, with no squares and no square root.",
        "signed_differences": "sums the signed differences: take the absolute value of each "
        f"difference (np.abs) before summing, {FORMULA['L1']}, or positive and negative "
        "differences cancel out.",
    },
}
SQUARED = "returned squared distances: take the square root (np.sqrt) at the end."
SQUARE_ROOT = f"takes a square root: the L1 distance is the plain sum, {FORMULA['L1']}."
NAN = (
    "returned NaN: rounding makes |a|^2 + |b|^2 - 2 a.b slightly negative when two rows are "
    "equal, and np.sqrt of a negative number is NaN. Clip at 0 with np.maximum(..., 0) before "
    "the square root."
)


def check_distance_array(result, case, name, metric):
    """Type, shape and dtype of one distance matrix: (N1, N2) float64."""
    matrix1, matrix2 = case.args
    n1, n2 = len(matrix1), len(matrix2)
    expect_array(result, f"{name}'s result")
    expect(
        n1 == n2 or result.shape != (n2, n1),
        f"rows and columns are swapped: {name}(matrix1, matrix2) has one row per row of "
        f"matrix1 and one column per row of matrix2, shape (N1, N2) = ({n1}, {n2}); you "
        f"returned {result.shape}.",
    )
    expect(
        result.shape == (n1, n2),
        f"{name} returned shape {result.shape} for matrix1 {matrix1.shape} and matrix2 "
        f"{matrix2.shape}; expected (N1, N2) = ({n1}, {n2}), one distance per pair of rows.",
    )
    expect(
        result.dtype.kind == "f",
        f"{name} returned {result.dtype} values: distances are real numbers, return float64 "
        "(np.zeros((N1, N2)) is float64, but np.zeros_like(matrix1) takes the integer dtype "
        "of integer images and cuts off the decimals).",
    )
    why = (
        "as the exercise asks: convert both matrices with .astype(np.float64) first."
        if metric == "L1"
        else "the distances come out of |a|^2 + |b|^2 - 2 a.b, a difference of large numbers "
        "(up to 3072 * 255^2 = 2 * 10^8 for CIFAR-10 images) that needs float64's 16 digits."
    )
    expect(result.dtype == np.float64, f"Return float64 (you returned {result.dtype}): {why}")


def distance_judge(name, metric):
    """The judge of a distance matrix exercise, ``metric`` "L1" or "L2"."""

    def first_wrong_entry(result, case):
        expected = case.expected
        atol = RTOL * (1 + np.abs(expected).max(initial=0))
        i, j = np.argwhere(~np.isclose(result, expected, rtol=RTOL, atol=atol))[0]
        return (
            f"{name}: dists[{i}, {j}] should be the {metric} distance {FORMULA[metric]} "
            f"between matrix1[{i}] and matrix2[{j}], {expected[i, j]:.6g}; yours is "
            f"{result[i, j]:.6g}."
        )

    def nan(result, case):
        return metric == "L2" and np.isnan(result).any() and f"{name} {NAN}"

    return judge(
        name,
        lambda result, case: check_distance_array(result, case, name, metric),
        lambda result, case: f"{name} ",
        DISTANCE_MESSAGES[metric],
        [(lambda c: c.expected**2, SQUARED)]
        if metric == "L2"
        else [(lambda c: np.sqrt(c.expected), SQUARE_ROOT)],
        first=[nan],
        otherwise=first_wrong_entry,
    )


def loops(wanted, at_most=False):
    """A property check: the function nests exactly ``wanted`` loops (or at most)."""

    def check(fn, name, rng):
        depth = loop_depth(fn)
        if depth is None or depth == wanted or (at_most and depth < wanted):
            return
        if wanted == 2:
            raise AssertionError(
                f"{name} should use two nested loops (you have {depth}): over the rows of "
                "matrix1 and, inside, over the rows of matrix2, computing one distance per "
                "step. It is the slow version the others are timed against."
            )
        if depth > wanted:
            raise AssertionError(
                f"{name} uses {depth} nested loops; use one loop, over the rows of matrix1, and "
                "compute a whole row of distances per step: matrix2 - matrix1[i] broadcasts to "
                "(N2, D)."
            )
        raise AssertionError(
            f"{name} uses no loop: this exercise asks for one loop over the rows of matrix1 "
            "(the loop-free version is distance_matrix), so that you can time the three "
            "versions."
        )

    return check


def no_cube(advice):
    """A property check: the function builds no (N1, N2, D) array.

    On 40 x 50 rows of 3072 values that array takes 47 MiB; the inputs take 2 MiB.
    """

    def check(fn, name, rng):
        n1, n2, d = 40, 50, 3072
        peak = peak_memory(fn, rng.normal(size=(n1, d)), rng.normal(size=(n2, d)))
        expect(
            isinstance(peak, int | float) and not isinstance(peak, bool),
            f"{name}: the memory it used was not measured in your kernel.",
        )
        expect(
            peak < n1 * n2 * d * 8 / 2,
            f"{name} builds an array as large as (N1, N2, D): for {n1} x {n2} rows of {d} "
            f"values it used {peak / 2**20:.0f} MiB (the inputs take "
            f"{(n1 + n2) * d * 8 / 2**20:.0f} MiB), and for 500 test and 5000 training "
            f"CIFAR-10 images it would need 61 GB. {advice}",
        )

    return check


def distance_check(name, metric, *properties):
    """``test_<name>``: the recorded distances, then ``properties`` (``check(fn, name, rng)``)
    on the student's function."""

    @feedback_check(name, inputs=distance_inputs, judge=distance_judge(name, metric))
    def check(fn, cases):
        cases.call_all(fn)
        for check_property in properties:
            check_property(fn, name, cases.rng)

    check.__name__ = check.__qualname__ = f"test_{name}"
    return check


test_distance_matrix_two_loops = distance_check("distance_matrix_two_loops", "L2", loops(2))
test_distance_matrix_one_loop = distance_check("distance_matrix_one_loop", "L2", loops(1))
test_distance_matrix = distance_check(
    "distance_matrix", "L2", lambda fn, name, rng: forbid_loops(fn), no_cube(EXPAND)
)
test_distance_matrix_l1 = distance_check(
    "distance_matrix_l1", "L1", loops(1, at_most=True), no_cube(ROW_BY_ROW)
)

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
    )
    expect(
        shape != wanted[:1],
        f"{where(result, case)}returned one number per k: return every fold's accuracy, shape "
        f"{wanted}; the notebook averages them itself.",
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
