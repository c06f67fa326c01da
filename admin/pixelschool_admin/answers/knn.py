"""Wrong answers to notebook 02 (the references are the solution notebook's own functions).

Those with ``mistake=`` are recorded by ``make build``: their results on the checks' inputs
name the mistake (the keys of the messages in ``pixelschool/checks/knn.py``). The correct
variants (``@right``) are kNNs as textbooks write them, with NumPy's default argsort.
"""

import math
from collections import Counter

import numpy as np

from pixelschool_admin.answers.registry import right, solution_functions, wrong

solution = solution_functions("02_knn")

# --- distance_matrix_two_loops -----------------------------------------------------


@wrong("distance_matrix_two_loops", says="but not for uint8 images", mistake="uint8_wrap")
def two_loops_uint8(matrix1, matrix2):
    dists = np.zeros((len(matrix1), len(matrix2)))
    for i in range(len(matrix1)):
        for j in range(len(matrix2)):
            dists[i, j] = np.sqrt(np.sum((matrix1[i] - matrix2[j]) ** 2))
    return dists


@wrong("distance_matrix_two_loops", says="squared distances")
def two_loops_no_sqrt(matrix1, matrix2):
    matrix1, matrix2 = matrix1.astype(float), matrix2.astype(float)
    dists = np.zeros((len(matrix1), len(matrix2)))
    for i in range(len(matrix1)):
        for j in range(len(matrix2)):
            dists[i, j] = np.sum((matrix1[i] - matrix2[j]) ** 2)
    return dists


@wrong("distance_matrix_two_loops", says="rows and columns are swapped")
def two_loops_transposed(matrix1, matrix2):
    matrix1, matrix2 = matrix1.astype(float), matrix2.astype(float)
    dists = np.zeros((len(matrix2), len(matrix1)))
    for i in range(len(matrix1)):
        for j in range(len(matrix2)):
            dists[j, i] = np.linalg.norm(matrix1[i] - matrix2[j])
    return dists


@wrong("distance_matrix_two_loops", says="return float64")
def two_loops_zeros_like(matrix1, matrix2):
    dists = np.zeros_like(matrix1, shape=(len(matrix1), len(matrix2)))
    for i in range(len(matrix1)):
        for j in range(len(matrix2)):
            dists[i, j] = np.linalg.norm(matrix1[i].astype(float) - matrix2[j])
    return dists


@wrong("distance_matrix_two_loops", says="returned L1 distances", mistake="l1_instead")
def two_loops_manhattan(matrix1, matrix2):
    matrix1, matrix2 = matrix1.astype(float), matrix2.astype(float)
    dists = np.zeros((len(matrix1), len(matrix2)))
    for i in range(len(matrix1)):
        for j in range(len(matrix2)):
            dists[i, j] = np.sum(np.abs(matrix1[i] - matrix2[j]))
    return dists


@wrong("distance_matrix_two_loops", says="should use two nested loops")
def two_loops_vectorised(matrix1, matrix2):
    return solution.distance_matrix(matrix1, matrix2)


@wrong("distance_matrix_two_loops", says="before subtracting, squaring or summing")
def two_loops_uint8_result(matrix1, matrix2):
    """Raises OverflowError on uint8 images: a Python float above 255 into a uint8 array."""
    dists = np.zeros_like(matrix1, shape=(len(matrix1), len(matrix2)))
    for i in range(len(matrix1)):
        for j in range(len(matrix2)):
            dists[i, j] = math.sqrt(np.sum((matrix1[i].astype(float) - matrix2[j]) ** 2))
    return dists


@right("distance_matrix_two_loops")
def two_loops_norm(matrix1, matrix2):
    dists = np.zeros((len(matrix1), len(matrix2)))
    for i in range(len(matrix1)):
        for j in range(len(matrix2)):
            dists[i, j] = np.linalg.norm(matrix1[i].astype(np.float64) - matrix2[j])
    return dists


# --- distance_matrix_one_loop ------------------------------------------------------


@wrong("distance_matrix_one_loop", says="but not for uint8 images", mistake="uint8_wrap")
def one_loop_uint8(matrix1, matrix2):
    dists = np.zeros((len(matrix1), len(matrix2)))
    for i in range(len(matrix1)):
        dists[i] = np.sqrt(np.sum((matrix2 - matrix1[i]) ** 2, axis=1))
    return dists


@wrong("distance_matrix_one_loop", says="uses 2 nested loops")
def one_loop_two_loops(matrix1, matrix2):
    matrix1, matrix2 = matrix1.astype(float), matrix2.astype(float)
    dists = np.zeros((len(matrix1), len(matrix2)))
    for i in range(len(matrix1)):
        for j in range(len(matrix2)):
            dists[i, j] = np.linalg.norm(matrix1[i] - matrix2[j])
    return dists


@wrong("distance_matrix_one_loop", says="squared distances")
def one_loop_no_sqrt(matrix1, matrix2):
    matrix1, matrix2 = matrix1.astype(float), matrix2.astype(float)
    dists = np.zeros((len(matrix1), len(matrix2)))
    for i in range(len(matrix1)):
        dists[i] = np.sum((matrix2 - matrix1[i]) ** 2, axis=1)
    return dists


@wrong("distance_matrix_one_loop", says="dists[")
def one_loop_sum_everything(matrix1, matrix2):
    matrix1, matrix2 = matrix1.astype(float), matrix2.astype(float)
    dists = np.zeros((len(matrix1), len(matrix2)))
    for i in range(len(matrix1)):
        dists[i] = np.sqrt(np.sum((matrix2 - matrix1[i]) ** 2))  # no axis: one number per row
    return dists


@wrong("distance_matrix_one_loop", says="uses no loop")
def one_loop_vectorised(matrix1, matrix2):
    return solution.distance_matrix(matrix1, matrix2)


@right("distance_matrix_one_loop")
def one_loop_norm(matrix1, matrix2):
    matrix1, matrix2 = matrix1.astype(np.float64), matrix2.astype(np.float64)
    dists = np.zeros((len(matrix1), len(matrix2)))
    for i in range(len(matrix1)):
        dists[i] = np.linalg.norm(matrix2 - matrix1[i], axis=1)
    return dists


# --- distance_matrix ----------------------------------------------------------------


@wrong("distance_matrix", says="uses a `for` loop")
def distance_matrix_loops(matrix1, matrix2):
    matrix1, matrix2 = matrix1.astype(float), matrix2.astype(float)
    dists = np.zeros((len(matrix1), len(matrix2)))
    for i in range(len(matrix1)):
        dists[i] = np.sqrt(np.sum((matrix2 - matrix1[i]) ** 2, axis=1))
    return dists


@wrong("distance_matrix", says="list comprehension")
def distance_matrix_comprehension(matrix1, matrix2):
    matrix1, matrix2 = matrix1.astype(float), matrix2.astype(float)
    return np.array([np.linalg.norm(matrix2 - row, axis=1) for row in matrix1])


@wrong("distance_matrix", says="squared distances")
def distance_matrix_no_sqrt(matrix1, matrix2):
    matrix1, matrix2 = matrix1.astype(float), matrix2.astype(float)
    squares1 = np.sum(matrix1**2, axis=1)[:, np.newaxis]
    squares2 = np.sum(matrix2**2, axis=1)
    return np.maximum(squares1 + squares2 - 2 * matrix1 @ matrix2.T, 0)


@wrong("distance_matrix", says="but not for uint8 images", mistake="uint8_wrap")
def distance_matrix_uint8(matrix1, matrix2):
    squares1 = np.sum(matrix1**2, axis=1)[:, np.newaxis]
    squares2 = np.sum(matrix2**2, axis=1)
    return np.sqrt(np.maximum(squares1 + squares2 - 2.0 * (matrix1 @ matrix2.T), 0))


@wrong("distance_matrix", says="rows and columns are swapped")
def distance_matrix_transposed(matrix1, matrix2):
    return solution.distance_matrix(matrix2, matrix1)


@wrong("distance_matrix", says="Return float64")
def distance_matrix_float32(matrix1, matrix2):
    matrix1, matrix2 = matrix1.astype(np.float32), matrix2.astype(np.float32)
    squares1 = np.sum(matrix1**2, axis=1)[:, np.newaxis]
    squares2 = np.sum(matrix2**2, axis=1)
    return np.sqrt(np.maximum(squares1 + squares2 - 2 * matrix1 @ matrix2.T, 0))


@wrong("distance_matrix", says="builds an array as large as (N1, N2, D)")
def distance_matrix_broadcast_cube(matrix1, matrix2):
    difference = matrix1.astype(float)[:, np.newaxis, :] - matrix2.astype(float)[np.newaxis]
    return np.sqrt(np.sum(difference**2, axis=2))


@wrong("distance_matrix", says="Clip at 0")
def distance_matrix_no_clip(matrix1, matrix2):
    matrix1, matrix2 = matrix1.astype(float), matrix2.astype(float)
    squares1 = np.sum(matrix1**2, axis=1)[:, np.newaxis]
    squares2 = np.sum(matrix2**2, axis=1)
    squared = squares1 + squares2 - 2 * matrix1 @ matrix2.T
    squared[np.abs(squared) < 1e-6] = -1e-9  # what rounding does to some equal rows, made sure
    with np.errstate(invalid="ignore"):  # NaN, as the student sees it, without the warning
        return np.sqrt(squared)


@right("distance_matrix")
def distance_matrix_abs_before_sqrt(matrix1, matrix2):
    matrix1, matrix2 = matrix1.astype(np.float64), matrix2.astype(np.float64)
    squared = (matrix1**2).sum(axis=1)[:, None] + (matrix2**2).sum(axis=1) - 2 * matrix1 @ matrix2.T
    return np.sqrt(np.abs(squared))


# --- distance_matrix_l1 --------------------------------------------------------------


@wrong("distance_matrix_l1", says="np.abs(np.uint8(3) - np.uint8(5)) is 254", mistake="uint8_wrap")
def l1_uint8(matrix1, matrix2):
    dists = np.zeros((len(matrix1), len(matrix2)))
    for i in range(len(matrix1)):
        dists[i] = np.sum(np.abs(matrix2 - matrix1[i]), axis=1)
    return dists


@wrong("distance_matrix_l1", says="returned Euclidean (L2) distances", mistake="l2_instead")
def l1_euclidean(matrix1, matrix2):
    return solution.distance_matrix(matrix1, matrix2)


@wrong("distance_matrix_l1", says="takes a square root")
def l1_with_sqrt(matrix1, matrix2):
    return np.sqrt(solution.distance_matrix_l1(matrix1, matrix2))


@wrong("distance_matrix_l1", says="sums the signed differences", mistake="signed_differences")
def l1_no_abs(matrix1, matrix2):
    matrix1, matrix2 = matrix1.astype(float), matrix2.astype(float)
    return matrix1.sum(axis=1)[:, np.newaxis] - matrix2.sum(axis=1)


@wrong("distance_matrix_l1", says="sums the signed differences", mistake="signed_differences")
def l1_no_abs_other_sign(matrix1, matrix2):
    matrix1, matrix2 = matrix1.astype(float), matrix2.astype(float)
    dists = np.zeros((len(matrix1), len(matrix2)))
    for i in range(len(matrix1)):
        dists[i] = np.sum(matrix2 - matrix1[i], axis=1)
    return dists


@wrong("distance_matrix_l1", says="sums the signed differences", mistake="signed_differences")
def l1_abs_of_the_sum(matrix1, matrix2):
    matrix1, matrix2 = matrix1.astype(float), matrix2.astype(float)
    dists = np.zeros((len(matrix1), len(matrix2)))
    for i in range(len(matrix1)):
        dists[i] = np.abs(np.sum(matrix2 - matrix1[i], axis=1))
    return dists


@wrong("distance_matrix_l1", says="uses 2 nested loops")
def l1_two_loops(matrix1, matrix2):
    matrix1, matrix2 = matrix1.astype(float), matrix2.astype(float)
    dists = np.zeros((len(matrix1), len(matrix2)))
    for i in range(len(matrix1)):
        for j in range(len(matrix2)):
            dists[i, j] = np.sum(np.abs(matrix1[i] - matrix2[j]))
    return dists


@wrong("distance_matrix_l1", says="builds an array as large as (N1, N2, D)")
def l1_broadcast_cube(matrix1, matrix2):
    difference = matrix1.astype(float)[:, np.newaxis, :] - matrix2.astype(float)[np.newaxis]
    return np.sum(np.abs(difference), axis=2)


@right("distance_matrix_l1")
def l1_norm_ord_1(matrix1, matrix2):
    matrix1, matrix2 = matrix1.astype(np.float64), matrix2.astype(np.float64)
    return np.array([np.linalg.norm(matrix2 - row, ord=1, axis=1) for row in matrix1])


# --- knn_predict ---------------------------------------------------------------------


def majority(votes):
    """The course's vote: the smallest of the labels with the most votes, per row."""
    return np.array([np.bincount(row).argmax() for row in votes])


@wrong("knn_predict", says="sorted dists along axis 0", mistake="axis_0")
def knn_predict_axis_0(dists, labels_train, k):
    nearest = np.argsort(dists, axis=0, kind="stable")[:, :k]
    return majority(labels_train[nearest])


@wrong("knn_predict", says="one label per test image")
def knn_predict_transposed_sort(dists, labels_train, k):
    nearest = np.argsort(dists, axis=0, kind="stable")[:k].T  # (N_train, k)
    return majority(labels_train[nearest])


@wrong("knn_predict", says="k is off by one", mistake="k_plus_one")
def knn_predict_k_plus_one(dists, labels_train, k):
    nearest = np.argsort(dists, axis=1, kind="stable")[:, : k + 1]
    return majority(labels_train[nearest])


@wrong("knn_predict", says="skipped the nearest neighbour", mistake="skips_nearest")
def knn_predict_skips_nearest(dists, labels_train, k):
    nearest = np.argsort(dists, axis=1, kind="stable")[:, 1 : k + 1]
    return majority(labels_train[nearest])


@wrong("knn_predict", says="the class of the nearest neighbour", mistake="tie_nearest")
def knn_predict_most_common(dists, labels_train, k):
    nearest = np.argsort(dists, axis=1, kind="stable")[:, :k]
    return np.array([Counter(row).most_common(1)[0][0] for row in labels_train[nearest]])


@wrong("knn_predict", says="you picked the largest", mistake="tie_largest")
def knn_predict_largest_label(dists, labels_train, k):
    nearest = np.argsort(dists, axis=1, kind="stable")[:, :k]
    return np.array(
        [len(c) - 1 - np.argmax(c[::-1]) for c in map(np.bincount, labels_train[nearest])]
    )


@right("knn_predict")
def knn_predict_default_argsort(dists, labels_train, k):
    """As CS231n writes it: NumPy's default (unstable) argsort, one test image at a time."""
    predictions = np.zeros(len(dists), dtype=int)
    for i in range(len(dists)):
        closest_y = labels_train[np.argsort(dists[i])[:k]]
        predictions[i] = np.argmax(np.bincount(closest_y))
    return predictions


@right("knn_predict")
def knn_predict_heapsort(dists, labels_train, k):
    return majority(labels_train[np.argsort(dists, axis=1, kind="heapsort")[:, :k]])


@right("knn_predict")
def knn_predict_argpartition(dists, labels_train, k):
    nearest = np.argpartition(dists, k - 1, axis=1)[:, :k]  # the k nearest, in any order
    return majority(labels_train[nearest])


@wrong("knn_predict", says="np.sort would give their distances")
def knn_predict_sort_not_argsort(dists, labels_train, k):
    nearest = np.sort(dists, axis=1)[:, :k]
    return majority(labels_train[nearest])


@wrong("knn_predict", says="integer values")
def knn_predict_float_predictions(dists, labels_train, k):
    return solution.knn_predict(dists, labels_train, k).astype(float)


@wrong("knn_predict", says="in place")
def knn_predict_sorts_in_place(dists, labels_train, k):
    nearest = np.argsort(dists, axis=1, kind="stable")[:, :k]
    dists.sort(axis=1)
    return majority(labels_train[nearest])


# --- evaluate_knn --------------------------------------------------------------------


def predictions_for(data_train, labels_train, data_test, k):
    return solution.knn_predict(solution.distance_matrix(data_test, data_train), labels_train, k)


@wrong("evaluate_knn", says="(not labels_train)")
def evaluate_knn_training_labels(data_train, labels_train, data_test, labels_test, k):
    return np.mean(predictions_for(data_train, labels_train, data_test, k) == labels_train)


@wrong("evaluate_knn", says="accuracy on the training images", mistake="training_images")
def evaluate_knn_training_images(data_train, labels_train, data_test, labels_test, k):
    return np.mean(predictions_for(data_train, labels_train, data_train, k) == labels_train)


@wrong("evaluate_knn", says="a percentage")
def evaluate_knn_percent(data_train, labels_train, data_test, labels_test, k):
    return 100 * np.mean(predictions_for(data_train, labels_train, data_test, k) == labels_test)


@wrong("evaluate_knn", says="number of correct predictions")
def evaluate_knn_count(data_train, labels_train, data_test, labels_test, k):
    return np.sum(predictions_for(data_train, labels_train, data_test, k) == labels_test)


@wrong("evaluate_knn", says="the error rate")
def evaluate_knn_error_rate(data_train, labels_train, data_test, labels_test, k):
    return np.mean(predictions_for(data_train, labels_train, data_test, k) != labels_test)


@wrong("evaluate_knn", says="the wrong way round")
def evaluate_knn_swapped_distances(data_train, labels_train, data_test, labels_test, k):
    dists = solution.distance_matrix(data_train, data_test)
    return np.mean(solution.knn_predict(dists, labels_train, k) == labels_test)


@wrong("evaluate_knn", says="pass k on", mistake="k_ignored")
def evaluate_knn_ignores_k(data_train, labels_train, data_test, labels_test, k):
    return np.mean(predictions_for(data_train, labels_train, data_test, 1) == labels_test)


@wrong("evaluate_knn", says="one number")
def evaluate_knn_returns_predictions(data_train, labels_train, data_test, labels_test, k):
    return predictions_for(data_train, labels_train, data_test, k) == labels_test


def wrapping_distances(matrix1, matrix2):
    """L2 distances computed on uint8 rows as they are: (a - b) ** 2 wraps around."""
    dists = np.zeros((len(matrix1), len(matrix2)))
    for i in range(len(matrix1)):
        dists[i] = np.sqrt(np.sum((matrix2 - matrix1[i]) ** 2, axis=1))
    return dists


@wrong("evaluate_knn", says="wrong for uint8 images", mistake="uint8_wrap")
def evaluate_knn_wrapping_distances(data_train, labels_train, data_test, labels_test, k):
    dists = wrapping_distances(data_test, data_train)
    return float(np.mean(solution.knn_predict(dists, labels_train, k) == labels_test))


@wrong("evaluate_knn", says="divided by the number of training", mistake="train_denominator")
def evaluate_knn_training_count(data_train, labels_train, data_test, labels_test, k):
    correct = predictions_for(data_train, labels_train, data_test, k) == labels_test
    return np.sum(correct) / len(labels_train)


@right("evaluate_knn")
def evaluate_knn_default_argsort(data_train, labels_train, data_test, labels_test, k):
    dists = one_loop_norm(data_test, data_train)
    return np.mean(knn_predict_default_argsort(dists, labels_train, k) == labels_test)


# --- cross_validate_knn ----------------------------------------------------------------


def fold_accuracy(data_train, labels_train, data_val, labels_val, k):
    return np.mean(predictions_for(data_train, labels_train, data_val, k) == labels_val)


@wrong("cross_validate_knn", says="rows and columns are swapped")
def cross_validate_transposed(data, labels, ks, num_folds):
    return solution.cross_validate_knn(data, labels, ks, num_folds).T


@wrong("cross_validate_knn", says="one number per k")
def cross_validate_means(data, labels, ks, num_folds):
    return solution.cross_validate_knn(data, labels, ks, num_folds).mean(axis=1)


@wrong("cross_validate_knn", says="also in the training set", mistake="validation_in_training")
def cross_validate_leaks_fold(data, labels, ks, num_folds):
    data_folds, label_folds = np.array_split(data, num_folds), np.array_split(labels, num_folds)
    accuracies = np.zeros((len(ks), num_folds))
    for i in range(num_folds):
        for j, k in enumerate(ks):
            accuracies[j, i] = fold_accuracy(data, labels, data_folds[i], label_folds[i], k)
    return accuracies


@wrong("cross_validate_knn", says="np.array_split")
def cross_validate_np_split(data, labels, ks, num_folds):
    data_folds, label_folds = np.split(data, num_folds), np.split(labels, num_folds)
    accuracies = np.zeros((len(ks), num_folds))
    for i in range(num_folds):
        data_train = np.concatenate(data_folds[:i] + data_folds[i + 1 :])
        labels_train = np.concatenate(label_folds[:i] + label_folds[i + 1 :])
        for j, k in enumerate(ks):
            accuracies[j, i] = fold_accuracy(
                data_train, labels_train, data_folds[i], label_folds[i], k
            )
    return accuracies


@wrong("cross_validate_knn", says="every num_folds-th sample", mistake="interleaved")
def cross_validate_interleaved(data, labels, ks, num_folds):
    accuracies = np.zeros((len(ks), num_folds))
    for i in range(num_folds):
        train = [f for f in range(num_folds) if f != i]
        data_train = np.concatenate([data[f::num_folds] for f in train])
        labels_train = np.concatenate([labels[f::num_folds] for f in train])
        for j, k in enumerate(ks):
            accuracies[j, i] = fold_accuracy(
                data_train, labels_train, data[i::num_folds], labels[i::num_folds], k
            )
    return accuracies


@wrong("cross_validate_knn", says="in percent")
def cross_validate_percent(data, labels, ks, num_folds):
    return 100 * solution.cross_validate_knn(data, labels, ks, num_folds)


@wrong("cross_validate_knn", says="should be a NumPy array")
def cross_validate_nested_lists(data, labels, ks, num_folds):
    return solution.cross_validate_knn(data, labels, ks, num_folds).tolist()


@wrong("cross_validate_knn", says="accuracies[")
def cross_validate_shuffled_folds(data, labels, ks, num_folds):
    order = np.random.default_rng(0).permutation(len(data))
    return solution.cross_validate_knn(data[order], labels[order], ks, num_folds)


@wrong("cross_validate_knn", says="validated on the others", mistake="swapped_roles")
def cross_validate_swapped_roles(data, labels, ks, num_folds):
    data_folds, label_folds = np.array_split(data, num_folds), np.array_split(labels, num_folds)
    accuracies = np.zeros((len(ks), num_folds))
    for i in range(num_folds):
        data_val = np.concatenate(data_folds[:i] + data_folds[i + 1 :])
        labels_val = np.concatenate(label_folds[:i] + label_folds[i + 1 :])
        for j, k in enumerate(ks):
            accuracies[j, i] = fold_accuracy(data_folds[i], label_folds[i], data_val, labels_val, k)
    return accuracies


@wrong("cross_validate_knn", says="wrong for uint8 images", mistake="uint8_wrap")
def cross_validate_wrapping_distances(data, labels, ks, num_folds):
    data_folds, label_folds = np.array_split(data, num_folds), np.array_split(labels, num_folds)
    accuracies = np.zeros((len(ks), num_folds))
    for i in range(num_folds):
        data_train = np.concatenate(data_folds[:i] + data_folds[i + 1 :])
        labels_train = np.concatenate(label_folds[:i] + label_folds[i + 1 :])
        dists = wrapping_distances(data_folds[i], data_train)
        for j, k in enumerate(ks):
            predictions = solution.knn_predict(dists, labels_train, k)
            accuracies[j, i] = np.mean(predictions == label_folds[i])
    return accuracies


@right("cross_validate_knn")
def cross_validate_default_argsort(data, labels, ks, num_folds):
    data_folds, label_folds = np.array_split(data, num_folds), np.array_split(labels, num_folds)
    accuracies = np.zeros((len(ks), num_folds))
    for i in range(num_folds):
        data_train = np.concatenate(data_folds[:i] + data_folds[i + 1 :])
        labels_train = np.concatenate(label_folds[:i] + label_folds[i + 1 :])
        dists = one_loop_norm(data_folds[i], data_train)
        for j, k in enumerate(ks):
            predictions = knn_predict_default_argsort(dists, labels_train, k)
            accuracies[j, i] = np.mean(predictions == label_folds[i])
    return accuracies
