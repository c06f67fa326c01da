"""Feedback checks for notebook 02, k-nearest neighbours.

Each ``test_<name>(fn, seed=0)`` calls the student's function on fresh random inputs
(uint8 images among them, whose arithmetic wraps around) and names the mistake when the
answer is wrong. The expected answers are computed here, by the plainest code possible.
"""

import numpy as np

from coursekit.checks.framework import (
    call,
    describe,
    expect,
    expect_array,
    feedback_check,
    forbid_loops,
    loop_depth,
    peak_memory,
)

__all__ = [
    "test_distance_matrix_two_loops",
    "test_distance_matrix_one_loop",
    "test_distance_matrix",
    "test_distance_matrix_l1",
    "test_knn_predict",
    "test_evaluate_knn",
    "test_cross_validate_knn",
]

# --------------------------------------------------------------------------------------
# Expected answers, computed the slow and obvious way
# --------------------------------------------------------------------------------------


def differences(matrix1, matrix2):
    """(N1, N2, D) float64 differences between every row of matrix1 and of matrix2."""
    return matrix1.astype(np.float64)[:, None, :] - matrix2.astype(np.float64)[None, :, :]


def euclidean(matrix1, matrix2):
    """(N1, N2) L2 distances."""
    return np.sqrt(np.sum(differences(matrix1, matrix2) ** 2, axis=2))


def manhattan(matrix1, matrix2):
    """(N1, N2) L1 distances."""
    return np.sum(np.abs(differences(matrix1, matrix2)), axis=2)


def vote(neighbour_labels, tie="smallest"):
    """Majority label of each row of neighbour_labels (N, k), nearest neighbour first.

    tie: which of the labels with the most votes wins: "smallest" (the course's rule),
    "largest", or "nearest" (the one whose nearest member comes first).
    """
    predictions = []
    for row in neighbour_labels:
        counts = np.bincount(row)
        tied = np.flatnonzero(counts == counts.max())
        if tie == "smallest":
            predictions.append(tied[0])
        elif tie == "largest":
            predictions.append(tied[-1])
        else:
            predictions.append(next(label for label in row if label in tied))
    return np.array(predictions, dtype=np.int64)


def predict(dists, labels_train, k, *, start=0, tie="smallest", axis=1):
    """Predictions of kNN, or of one of its usual mistakes.

    start: index of the first neighbour used (1 skips the nearest); axis=0 sorts the
    columns of dists instead of its rows.
    """
    order = np.argsort(dists, axis=axis, kind="stable")[:, start : start + k]
    return vote(labels_train[order], tie)


def accuracy(data_train, labels_train, data_test, labels_test, k):
    """Test accuracy of kNN with L2 distances."""
    predictions = predict(euclidean(data_test, data_train), labels_train, k)
    return float(np.mean(predictions == labels_test))


def folds_accuracies(data, labels, ks, num_folds, *, split=np.array_split, leave_in=False):
    """(len(ks), num_folds) cross-validation accuracies, or those of a usual mistake.

    split: how the folds are made; leave_in: keep the validation fold in the training set.
    """
    data_folds, label_folds = split(data, num_folds), split(labels, num_folds)
    result = np.zeros((len(ks), num_folds))
    for i in range(num_folds):
        others = [f for f in range(num_folds) if f != i or leave_in]
        data_train = np.concatenate([data_folds[f] for f in others])
        labels_train = np.concatenate([label_folds[f] for f in others])
        dists = euclidean(data_folds[i], data_train)
        for j, k in enumerate(ks):
            result[j, i] = np.mean(predict(dists, labels_train, k) == label_folds[i])
    return result


def interleaved(array, num_folds):
    """Folds of every num_folds-th sample (a usual mistake for consecutive folds)."""
    return [array[i::num_folds] for i in range(num_folds)]


def close(a, b):
    """Equal up to float64 rounding, at the scale of ``b``."""
    b = np.asarray(b, dtype=np.float64)
    return (
        np.shape(a) == b.shape
        and np.all(np.isfinite(a))
        and np.allclose(a, b, rtol=1e-6, atol=1e-6 * (1 + np.abs(b).max(initial=0)))
    )


# --------------------------------------------------------------------------------------
# Loops and memory
# --------------------------------------------------------------------------------------


def reject_cube(fn, name, rng, advice):
    """Reject a distance function that builds an (N1, N2, D) array.

    On 40 x 50 rows of 3072 values that array takes 47 MiB; the inputs take 2 MiB.
    """
    n1, n2, d = 40, 50, 3072
    matrix1, matrix2 = rng.normal(size=(n1, d)), rng.normal(size=(n2, d))
    cube = n1 * n2 * d * 8
    peak = peak_memory(fn, matrix1, matrix2)
    expect(
        peak is None or peak < cube / 2,
        f"{name} builds an array as large as (N1, N2, D): for {n1} x {n2} rows of {d} values "
        f"it used {peak / 2**20:.0f} MiB (the inputs take {(n1 + n2) * d * 8 / 2**20:.0f} "
        "MiB), and for 500 test and 5000 training CIFAR-10 images it would need 61 GB. " + advice,
    )


# --------------------------------------------------------------------------------------
# Distance matrices
# --------------------------------------------------------------------------------------


def distance_inputs(rng):
    """Float rows with a repeated row (distance 0), then uint8 images (whose arithmetic wraps)."""
    n1 = int(rng.integers(3, 7))
    n2 = n1 + int(rng.integers(2, 6))  # n1 != n2: swapped axes show
    d = int(rng.integers(5, 12))
    matrix1 = rng.normal(0, 3, size=(n1, d))
    matrix2 = rng.normal(0, 3, size=(n2, d))
    matrix2[1] = matrix1[0]
    d = int(rng.integers(20, 50))
    images1 = rng.integers(0, 256, size=(n2, d), dtype=np.uint8)
    images2 = rng.integers(0, 256, size=(n1 + 1, d), dtype=np.uint8)
    images2[0, :4] = images1[0, :4] + 1  # differences of -1: 255 where uint8 wraps
    return [(matrix1, matrix2), (images1, images2)]


def uint8_advice(name):
    return (
        f"{name} gives the right distances for float inputs but not for uint8 images: uint8 "
        "arithmetic wraps around (np.uint8(3) - np.uint8(5) is 254, np.uint8(20) ** 2 is 144), "
        "an overflow. Convert both matrices with .astype(np.float64) before subtracting or "
        "squaring."
    )


def check_distances(fn, name, metric, matrix1, matrix2):
    """Compare ``fn(matrix1, matrix2)`` with the ``metric`` ("L1" or "L2") distances."""
    expected = euclidean(matrix1, matrix2) if metric == "L2" else manhattan(matrix1, matrix2)
    result = call(fn, matrix1, matrix2)
    n1, n2 = len(matrix1), len(matrix2)
    expect_array(result, f"{name}'s result")
    expect(
        result.shape != (n2, n1),
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
        "(np.zeros((N1, N2)) is float64, but np.zeros_like of a uint8 array is uint8 and cuts "
        "off the decimals).",
    )
    if not close(result, expected):
        if matrix1.dtype == np.uint8:
            again = call(fn, matrix1.astype(np.float64), matrix2.astype(np.float64))
            expect(not close(again, expected), uint8_advice(name))
        expect(result.dtype == np.float64, float64_advice(result))
        diagnose_distances(result, expected, name, metric, matrix1, matrix2)
    expect(result.dtype == np.float64, float64_advice(result))


def float64_advice(result):
    return (
        f"Return float64 (you returned {result.dtype}): the distances come out of "
        "|a|^2 + |b|^2 - 2 a.b, a difference of large numbers (up to 3072 * 255^2 = 2 * 10^8 "
        "for CIFAR-10 images) that needs float64's 16 digits."
    )


def diagnose_distances(result, expected, name, metric, matrix1, matrix2):
    """Raise AssertionError naming how ``result`` differs from the ``expected`` distances."""
    if metric == "L2":
        expect(
            not close(result, expected**2),
            f"{name} returned squared distances: take the square root (np.sqrt) at the end.",
        )
        expect(
            not close(result, manhattan(matrix1, matrix2)),
            f"{name} returned L1 distances (sums of absolute differences); the Euclidean "
            "distance sums the squared differences and takes the square root.",
        )
        expect(
            not np.isnan(result).any(),
            f"{name} returned NaN: rounding makes |a|^2 + |b|^2 - 2 a.b slightly negative when "
            "two rows are equal, and np.sqrt of a negative number is NaN. Clip at 0 with "
            "np.maximum(..., 0) before the square root.",
        )
    else:
        expect(
            not close(result, euclidean(matrix1, matrix2)),
            f"{name} returned Euclidean (L2) distances; the L1 distance is the sum of the "
            "absolute differences, with no squares and no square root.",
        )
        expect(
            not close(result, np.sqrt(expected)),
            f"{name} takes a square root: the L1 distance is the plain sum of the absolute "
            "differences.",
        )
        expect(
            not close(np.abs(result), np.abs(differences(matrix1, matrix2).sum(axis=2))),
            f"{name} sums the signed differences: take the absolute value of each difference "
            "(np.abs) before summing, or positive and negative differences cancel out.",
        )
    wrong = np.argwhere(~np.isclose(result, expected, rtol=1e-6, atol=1e-6))
    i, j = wrong[0] if len(wrong) else (0, 0)
    raise AssertionError(
        f"{name}: dists[{i}, {j}] should be the {metric} distance between matrix1[{i}] and "
        f"matrix2[{j}], {expected[i, j]:.6g}; yours is {result[i, j]:.6g}."
    )


def require_loops(fn, name, wanted):
    """Ask for exactly ``wanted`` nested loops (the exercise is about the loop structure)."""
    depth = loop_depth(fn)
    if depth is None or depth == wanted:
        return
    if wanted == 2:
        raise AssertionError(
            f"{name} should use two nested loops (you have {depth}): over the rows of matrix1 "
            "and, inside, over the rows of matrix2, computing one distance per step. It is the "
            "slow version the others are timed against."
        )
    if depth > wanted:
        raise AssertionError(
            f"{name} uses {depth} nested loops; use one loop, over the rows of matrix1, and "
            "compute a whole row of distances per step: matrix2 - matrix1[i] broadcasts to "
            "(N2, D)."
        )
    raise AssertionError(
        f"{name} uses no loop: this exercise asks for one loop over the rows of matrix1 (the "
        "loop-free version is distance_matrix), so that you can time the three versions."
    )


@feedback_check("distance_matrix_two_loops")
def test_distance_matrix_two_loops(distance_matrix_two_loops, rng):
    for matrix1, matrix2 in distance_inputs(rng):
        check_distances(
            distance_matrix_two_loops, "distance_matrix_two_loops", "L2", matrix1, matrix2
        )
    require_loops(distance_matrix_two_loops, "distance_matrix_two_loops", 2)


@feedback_check("distance_matrix_one_loop")
def test_distance_matrix_one_loop(distance_matrix_one_loop, rng):
    for matrix1, matrix2 in distance_inputs(rng):
        check_distances(
            distance_matrix_one_loop, "distance_matrix_one_loop", "L2", matrix1, matrix2
        )
    require_loops(distance_matrix_one_loop, "distance_matrix_one_loop", 1)


@feedback_check("distance_matrix")
def test_distance_matrix(distance_matrix, rng):
    forbid_loops(distance_matrix)
    for matrix1, matrix2 in distance_inputs(rng):
        check_distances(distance_matrix, "distance_matrix", "L2", matrix1, matrix2)
    reject_cube(
        distance_matrix,
        "distance_matrix",
        rng,
        "Expand the square instead: |a - b|^2 = |a|^2 + |b|^2 - 2 a.b, where all the a.b "
        "are one matrix product, matrix1 @ matrix2.T.",
    )


@feedback_check("distance_matrix_l1")
def test_distance_matrix_l1(distance_matrix_l1, rng):
    for matrix1, matrix2 in distance_inputs(rng):
        check_distances(distance_matrix_l1, "distance_matrix_l1", "L1", matrix1, matrix2)
    depth = loop_depth(distance_matrix_l1)
    expect(
        depth is None or depth <= 1,
        f"distance_matrix_l1 uses {depth} nested loops: loop over the rows of matrix1 only, "
        "and compute a whole row of distances per step (matrix2 - matrix1[i] is (N2, D)).",
    )
    reject_cube(
        distance_matrix_l1,
        "distance_matrix_l1",
        rng,
        "Loop over the rows of matrix1 instead, so that each step holds an (N2, D) array only.",
    )


# --------------------------------------------------------------------------------------
# The vote
# --------------------------------------------------------------------------------------


def random_votes(rng, k):
    """Float distances (no two equal) and labels: a plain case for k neighbours."""
    n_test, n_train = int(rng.integers(10, 16)), int(rng.integers(25, 35))
    dists = rng.uniform(0, 10, size=(n_test, n_train))
    labels = rng.integers(0, int(rng.integers(3, 6)), size=n_train)
    return dists, labels, k


def tied_votes(rng):
    """k = 6 neighbours in three classes, two each: every row is a three-way tie.

    The nearest neighbour belongs to the middle class, so the smallest, the largest and the
    nearest class all differ.
    """
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


def equal_distances(rng):
    """Whole-number distances: many training images are exactly as far as the k-th nearest."""
    n_test, n_train = 12, 40
    dists = rng.integers(0, 4, size=(n_test, n_train)).astype(np.float64)
    labels = rng.integers(0, 5, size=n_train)
    return dists, labels, int(rng.choice([3, 5]))


def diagnose_predictions(result, dists, labels, k):
    """Raise AssertionError naming the mistake that gives ``result``."""
    mistakes = [
        (
            dict(axis=0),
            "you sorted dists along axis 0, over the test images. Each row of dists holds one "
            "test image's distances to the training images: sort the rows, axis=1.",
        ),
        (
            dict(start=1),
            "you skipped the nearest neighbour ([:, 1:k + 1]): the test images are not in the "
            "training set, so the nearest one counts. Take the first k: [:, :k] (k is off by "
            "one).",
        ),
        (
            dict(tie="nearest"),
            "the tie rule: when several classes have the most votes, predict the smallest of "
            "those labels (np.bincount(votes).argmax() does it); you picked the class of the "
            "nearest neighbour among them (as Counter.most_common does).",
        ),
        (
            dict(tie="largest"),
            "the tie rule: when several classes have the most votes, predict the smallest of "
            "those labels (np.bincount(votes).argmax() does it); you picked the largest.",
        ),
    ]
    for change, message in mistakes:
        if change.get("axis") == 0 and len(dists) > dists.shape[1]:
            continue
        if np.array_equal(result, predict(dists, labels, k, **change)):
            raise AssertionError(f"knn_predict with k = {k}: {message}")
    for other in (k - 1, k + 1):
        if other >= 1 and np.array_equal(result, predict(dists, labels, other)):
            raise AssertionError(
                f"k is off by one: knn_predict(dists, labels_train, k={k}) used {other} "
                "neighbours. The k nearest are np.argsort(dists, axis=1, kind='stable')[:, :k]."
            )


KNN_HINT = (
    "dists has shape (N_test, N_train): np.argsort(dists, axis=1, kind='stable')[:, :k] gives "
    "the indices (N_test, k) of each test image's k nearest training images (np.sort would give "
    "their distances, not their indices), and labels_train[indices] their labels."
)


@feedback_check("knn_predict")
def test_knn_predict(knn_predict, rng):
    cases = [
        (random_votes(rng, 1), ""),
        (tied_votes(rng), "tie"),  # before other k: ties tell the tie rules apart
        (random_votes(rng, int(rng.integers(3, 8))), ""),
        (equal_distances(rng), "equal"),
    ]
    for (dists, labels, k), kind in cases:
        expected = predict(dists, labels, k)
        result = call(knn_predict, dists, labels, k, hint=KNN_HINT)
        expect_array(result, "knn_predict's result")
        n_test, n_train = dists.shape
        expect(
            result.shape == (n_test,),
            f"knn_predict returned shape {result.shape} for dists of shape {dists.shape}; "
            f"expected one label per test image, ({n_test},). Each row of dists is one test "
            "image: sort along axis=1 and vote once per row.",
        )
        expect_array(result, "knn_predict's result", kind="iu")
        if np.array_equal(result, expected):
            continue
        diagnose_predictions(result, dists, labels, k)
        wrong = np.flatnonzero(result != expected)
        if kind == "equal":
            raise AssertionError(
                f"knn_predict with k = {k} on whole-number distances, where several training "
                "images are exactly as far from a test image as its k-th nearest: the nearest "
                "are the first ones in the training set's order. Sort with "
                "np.argsort(dists, axis=1, kind='stable'): the default sort (and np.argpartition) "
                f"may reorder equal values. Wrong predictions for test images {wrong[:5].tolist()}."
            )
        raise AssertionError(
            f"knn_predict with k = {k}: wrong predictions for test images {wrong[:5].tolist()} "
            f"(of {n_test}). Take the labels of the k nearest training images of each row "
            "and predict the label they hold most often (ties: the smallest label)."
        )


# --------------------------------------------------------------------------------------
# Accuracy and cross-validation
# --------------------------------------------------------------------------------------


def blobs(rng, n, num_classes, d):
    """(n, d) float points around one centre per class, and their labels (n,)."""
    centres = rng.normal(0, 2, size=(num_classes, d))
    labels = rng.integers(0, num_classes, size=n)
    return centres[labels] + rng.normal(0, 1.5, size=(n, d)), labels


EVALUATE_HINT = (
    "evaluate_knn should call distance_matrix(data_test, data_train) (one row per test image), "
    "knn_predict(dists, labels_train, k), and compare the predictions with labels_test."
)


def evaluate_mistakes(data_train, labels_train, data_test, labels_test, k):
    """The accuracy and what the usual mistakes return instead: [(value, message)]."""
    expected = accuracy(data_train, labels_train, data_test, labels_test, k)
    n_test = len(labels_test)
    same_size = len(labels_train) == n_test  # some mistakes raise errors otherwise
    dists = euclidean(data_test, data_train)
    predictions = predict(dists, labels_train, k)
    mistakes = [
        (100 * expected, "a percentage: return the fraction of correct predictions, in [0, 1]."),
        (
            expected * n_test,
            "the number of correct predictions: divide by the number of test images.",
        ),
        (1 - expected, "the error rate (1 - accuracy): return the share that is right."),
        (
            accuracy(data_train, labels_train, data_train, labels_train, k),
            "accuracy on the training images: classify data_test, the images the classifier "
            "has not seen (on its own training images 1-NN is always right).",
        ),
    ]
    if same_size:
        mistakes += [
            (
                float(np.mean(predictions == labels_train)),
                "accuracy against labels_train: compare the predictions with labels_test, the "
                "true labels of the test images.",
            ),
            (
                float(np.mean(predict(dists.T, labels_train, k) == labels_test)),
                "distance_matrix(data_train, data_test): the arguments are the wrong way round. "
                "knn_predict needs one row per test image: distance_matrix(data_test, data_train).",
            ),
        ]
    if k != 1:
        mistakes.append(
            (
                accuracy(data_train, labels_train, data_test, labels_test, 1),
                f"the accuracy for k = 1, not k = {k}: pass k on to knn_predict.",
            )
        )
    return expected, mistakes


def evaluate_case(rng, n_train, n_test, k):
    """Training and test points around the same centres, drawn until every mistake in
    ``evaluate_mistakes`` gives its own value (so the check can name it)."""
    for _ in range(50):
        centres = rng.normal(0, 2, size=(3, 4))
        labels_train, labels_test = (
            rng.integers(0, 3, size=n_train),
            rng.integers(0, 3, size=n_test),
        )
        data_train = centres[labels_train] + rng.normal(0, 1.5, size=(n_train, 4))
        data_test = centres[labels_test] + rng.normal(0, 1.5, size=(n_test, 4))
        case = (data_train, labels_train, data_test, labels_test, k)
        expected, mistakes = evaluate_mistakes(*case)
        values = np.array([expected] + [value for value, _ in mistakes])
        if np.all(np.abs(values[:, None] - values[None, :]) + np.eye(len(values)) > 1e-6):
            return case
    return case


@feedback_check("evaluate_knn")
def test_evaluate_knn(evaluate_knn, rng):
    n = int(rng.integers(14, 20))
    cases = [
        evaluate_case(rng, n, n, 1),  # as many test as training images: more mistakes show
        evaluate_case(rng, int(rng.integers(25, 35)), int(rng.integers(8, 12)), 3),
    ]
    for case in cases:
        result = call(evaluate_knn, *case, hint=EVALUATE_HINT)
        expect(
            np.ndim(result) == 0 and np.asarray(result).dtype.kind in "fiu",
            f"evaluate_knn should return one number, the accuracy (a float), not "
            f"{describe(result)}.",
        )
        result = float(result)
        expected, mistakes = evaluate_mistakes(*case)
        if np.isclose(result, expected):
            continue
        for value, message in mistakes:
            if np.isclose(result, value):
                raise AssertionError(f"evaluate_knn returned {result:.4g}, {message}")
        raise AssertionError(
            f"evaluate_knn with k = {case[-1]} on {len(case[3])} test images returned "
            f"{result:.4g}, not the test accuracy. {EVALUATE_HINT}"
        )


CROSS_VALIDATION_HINT = (
    "Split data and labels with np.array_split(array, num_folds): N need not be a multiple of "
    "num_folds, so np.split or a reshape fails."
)


@feedback_check("cross_validate_knn")
def test_cross_validate_knn(cross_validate_knn, rng):
    for num_folds in rng.choice([3, 4, 5], size=2, replace=False):
        num_folds = int(num_folds)
        n = int(rng.integers(5, 8)) * num_folds + int(rng.integers(1, num_folds))
        data, labels = blobs(rng, n, 3, 3)
        ks = sorted(int(k) for k in rng.choice(np.arange(1, 9), size=6, replace=False))
        expected = folds_accuracies(data, labels, ks, num_folds)
        result = call(cross_validate_knn, data, labels, ks, num_folds, hint=CROSS_VALIDATION_HINT)
        where = f"cross_validate_knn(data ({n}, 3), labels, ks={ks}, num_folds={num_folds})"
        expect_array(result, f"{where}'s result")
        expect(
            result.shape != (num_folds, len(ks)),
            f"{where} returned shape {result.shape}: rows and columns are swapped. Return one "
            f"row per k and one column per fold: ({len(ks)}, {num_folds}).",
        )
        expect(
            result.shape != (len(ks),),
            f"{where} returned one number per k: return every fold's accuracy, shape "
            f"({len(ks)}, {num_folds}); the notebook averages them itself.",
        )
        expect(
            result.shape == (len(ks), num_folds),
            f"{where} returned shape {result.shape}, expected (len(ks), num_folds) = "
            f"({len(ks)}, {num_folds}).",
        )
        if close(result, expected):
            continue
        mistakes = [
            (
                100 * expected,
                "accuracies in percent: return fractions in [0, 1].",
            ),
            (
                folds_accuracies(data, labels, ks, num_folds, leave_in=True),
                "the validation fold is also in the training set, so each validation image "
                "finds itself at distance 0 (k = 1 scores 100%). Train on the other folds only.",
            ),
            (
                folds_accuracies(data, labels, ks, num_folds, split=interleaved),
                "your folds take every num_folds-th sample; make consecutive folds with "
                "np.array_split(data, num_folds).",
            ),
            (
                swapped_roles(data, labels, ks, num_folds),
                "you trained on fold i and validated on the others: the reverse. Fold i is the "
                "validation set, the other folds together the training set.",
            ),
        ]
        for value, message in mistakes:
            if value is not None and close(result, value):
                raise AssertionError(f"{where}: {message}")
        j, i = np.argwhere(~np.isclose(result, expected))[0]
        raise AssertionError(
            f"{where}: accuracies[{j}, {i}] should be the accuracy of k = {ks[j]} with fold "
            f"{i} of np.array_split as validation set and the other folds, in order, as "
            f"training set: {expected[j, i]:.4g}; yours is {result[j, i]:.4g}."
        )


def swapped_roles(data, labels, ks, num_folds):
    """Accuracies when fold i is the training set and the other folds the validation set."""
    data_folds, label_folds = np.array_split(data, num_folds), np.array_split(labels, num_folds)
    result = np.zeros((len(ks), num_folds))
    for i in range(num_folds):
        rest = [f for f in range(num_folds) if f != i]
        data_val = np.concatenate([data_folds[f] for f in rest])
        labels_val = np.concatenate([label_folds[f] for f in rest])
        dists = euclidean(data_val, data_folds[i])
        for j, k in enumerate(ks):
            if k > len(data_folds[i]):
                return None
            result[j, i] = np.mean(predict(dists, label_folds[i], k) == labels_val)
    return result
