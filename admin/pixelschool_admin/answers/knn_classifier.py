"""Wrong answers to notebook 02's classifier: the vote, the accuracy and cross-validation
(the references are the solution notebook's own functions).

Those with ``mistake=`` are recorded by ``make build``: their results on the checks' inputs
name the mistake (the keys of the messages in ``pixelschool/checks/knn_classifier.py``). The
correct variants (``@right``) are kNNs as textbooks write them, with NumPy's default argsort.
"""

from collections import Counter

import numpy as np

from pixelschool_admin.answers.knn_distances import one_loop_norm
from pixelschool_admin.answers.registry import right, solution_functions, wrong

solution = solution_functions("02_knn")

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
