"""Notebook 02's solution agrees with scikit-learn and SciPy on the same data, and its
checks' inputs are as the checks promise (no distance ties, uint8 rows).

The functions are the solution notebook's own (its answer cells, run as a module), so
this tests what the notebook teaches: distances against SciPy's cdist, predictions
against KNeighborsClassifier(algorithm="brute") for every k (same tie rule), accuracy
against its score, and cross-validation against cross_val_score with KFold.
"""

import numpy as np
import pytest
from scipy.spatial.distance import cdist
from sklearn.model_selection import KFold, cross_val_score
from sklearn.neighbors import KNeighborsClassifier

import problem_unittests  # noqa: F401  (registers the checks)
from pixelschool.checks.framework import CHECKS
from pixelschool.datasets import DatasetError, load_fashion_mnist, synthetic
from pixelschool_admin.authoring.notebooks import solution_functions
from pixelschool_admin.authoring.record import hidden_seeds
from pixelschool_admin.paths import SOLUTIONS_DIR

KS = range(1, 21)


@pytest.fixture(scope="module")
def knn():
    return solution_functions(SOLUTIONS_DIR / "02_knn.ipynb")


@pytest.fixture(scope="module")
def cifar_like():
    """CIFAR-shaped flattened uint8 images (3072 values) with class structure."""
    images, labels = synthetic.cifar_like(700, seed=2)
    images = images.reshape(len(images), -1)
    return images[:600], labels[:600], images[600:], labels[600:]


def sklearn_predictions(data_train, labels_train, data_test, k):
    model = KNeighborsClassifier(n_neighbors=k, algorithm="brute")
    return model.fit(data_train, labels_train).predict(data_test)


def test_distances_match_scipy(knn, cifar_like):
    data_train, _, data_test, _ = cifar_like
    expected = cdist(data_test.astype(float), data_train.astype(float))
    for name in ("distance_matrix", "distance_matrix_one_loop"):
        dists = knn[name](data_test, data_train)
        assert dists.dtype == np.float64 and dists.shape == (100, 600)
        np.testing.assert_allclose(dists, expected, rtol=1e-9, err_msg=name)
    two_loops = knn["distance_matrix_two_loops"](data_test[:5], data_train[:40])
    np.testing.assert_allclose(two_loops, expected[:5, :40], rtol=1e-9)
    l1 = knn["distance_matrix_l1"](data_test, data_train)
    np.testing.assert_array_equal(l1, cdist(data_test, data_train, metric="cityblock"))


def test_distance_matrix_is_exact_for_uint8_images(knn, cifar_like):
    data_train, _, data_test, _ = cifar_like
    squared = knn["distance_matrix"](data_test, data_train) ** 2
    exact = ((data_test[:, None, :].astype(np.int64) - data_train[None, :50]) ** 2).sum(axis=2)
    np.testing.assert_allclose(squared[:, :50], exact, rtol=1e-12)


def test_predictions_match_sklearn_brute_for_every_k(knn, cifar_like):
    data_train, labels_train, data_test, _ = cifar_like
    dists = knn["distance_matrix"](data_test, data_train)
    for k in KS:
        ours = knn["knn_predict"](dists, labels_train, k)
        theirs = sklearn_predictions(data_train, labels_train, data_test, k)
        np.testing.assert_array_equal(ours, theirs, err_msg=f"k = {k}")


def test_vote_ties_are_broken_like_sklearn(knn):
    """Few classes and even k: many test points have tied votes; both pick the smallest label."""
    rng = np.random.default_rng(0)
    data_train, labels_train = rng.normal(size=(200, 5)), rng.integers(0, 3, size=200)
    data_test = rng.normal(size=(300, 5))
    dists = knn["distance_matrix"](data_test, data_train)
    ties = 0
    for k in KS:
        ours = knn["knn_predict"](dists, labels_train, k)
        theirs = sklearn_predictions(data_train, labels_train, data_test, k)
        np.testing.assert_array_equal(ours, theirs, err_msg=f"k = {k}")
        nearest = np.argsort(dists, axis=1, kind="stable")[:, :k]
        counts = np.stack([np.bincount(row, minlength=3) for row in labels_train[nearest]])
        ties += int(np.sum(np.sum(counts == counts.max(axis=1, keepdims=True), axis=1) > 1))
    assert ties > 100  # the tie rule was exercised, not just the easy cases


def test_evaluate_knn_matches_sklearn_score(knn, cifar_like):
    data_train, labels_train, data_test, labels_test = cifar_like
    for k in (1, 4, 9):
        model = KNeighborsClassifier(n_neighbors=k, algorithm="brute").fit(data_train, labels_train)
        accuracy = knn["evaluate_knn"](data_train, labels_train, data_test, labels_test, k)
        assert isinstance(accuracy, float)
        assert accuracy == pytest.approx(model.score(data_test, labels_test), abs=1e-12)


def test_cross_validation_matches_sklearn_kfold(knn, cifar_like):
    data, labels = cifar_like[0][:203], cifar_like[1][:203]  # not a multiple of 5
    ks = [1, 2, 5, 12, 20]
    accuracies = knn["cross_validate_knn"](data, labels, ks, 5)
    assert accuracies.shape == (len(ks), 5)
    for row, k in zip(accuracies, ks):
        model = KNeighborsClassifier(n_neighbors=k, algorithm="brute")
        expected = cross_val_score(model, data, labels, cv=KFold(n_splits=5))
        np.testing.assert_allclose(row, expected, err_msg=f"k = {k}")


def test_predictions_match_sklearn_on_real_fashion_mnist(knn, monkeypatch):
    monkeypatch.setenv("COURSE_FAST", "0")  # real files only: no synthetic stand-in
    try:
        fashion = load_fashion_mnist(channel_axis=False)
    except DatasetError:
        pytest.skip("Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)")
    data_train = fashion.x_train[:1000].reshape(1000, -1)
    data_test = fashion.x_test[:200].reshape(200, -1)
    labels_train = fashion.y_train[:1000]
    dists = knn["distance_matrix"](data_test, data_train)
    for k in (1, 2, 5, 10):
        ours = knn["knn_predict"](dists, labels_train, k)
        theirs = sklearn_predictions(data_train, labels_train, data_test, k)
        np.testing.assert_array_equal(ours, theirs, err_msg=f"k = {k}")


# --- the checks' inputs -------------------------------------------------------------------

VOTES = ("knn_predict", "evaluate_knn", "cross_validate_knn")
CHECK_SEEDS = [0, *sorted({seed for name in VOTES for seed in hidden_seeds().get(name, [])})]


def squared_distances(rows1, rows2):
    """(N1, N2) squared L2 distances, exact for integer rows."""
    rows1, rows2 = rows1.astype(np.float64), rows2.astype(np.float64)
    return ((rows1[:, None, :] - rows2[None, :, :]) ** 2).sum(axis=2)


def tie_free(dists):
    return all(len(np.unique(row)) == len(row) for row in dists)


@pytest.mark.parametrize("seed", CHECK_SEEDS)
def test_knn_inputs_have_no_equal_distances(seed):
    """A kNN sorting with NumPy's default (unstable) argsort must pass: no distance ties."""
    for dists, _, _ in CHECKS["knn_predict"].inputs(np.random.default_rng(seed)):
        assert tie_free(dists)
    for data_train, _, data_test, _, _ in CHECKS["evaluate_knn"].inputs(
        np.random.default_rng(seed)
    ):
        assert tie_free(squared_distances(data_test, data_train))
    for data, _, _, _ in CHECKS["cross_validate_knn"].inputs(np.random.default_rng(seed)):
        assert tie_free(squared_distances(data, data))  # every fold against every other


@pytest.mark.parametrize("exercise", ["evaluate_knn", "cross_validate_knn"])
def test_accuracy_checks_use_uint8_rows_and_their_float_copies(exercise):
    """As the notebook calls them (x_train is uint8); the float64 copies tell a uint8 failure."""
    cases = CHECKS[exercise].inputs(np.random.default_rng(0))
    rows = [args[0] for args in cases]
    assert any(r.dtype == np.uint8 for r in rows)
    assert any(
        r.dtype == np.uint8
        and any(np.array_equal(r, other) for other in rows if other.dtype == float)
        for r in rows
    )
