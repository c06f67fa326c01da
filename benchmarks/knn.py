"""Notebook 02's kNN against scikit-learn's brute-force kNN, and its accuracy on real data.

speed: the solution's no-loop distance_matrix + knn_predict against
    KNeighborsClassifier(algorithm="brute") on the same CIFAR-shaped images (flattened
    uint8, 3072 values), time ratio and whether the predictions agree; then the distance
    matrix against a plain matrix product of the same shapes, the floor it cannot beat.
accuracy: the solution's kNN with k chosen by 5-fold cross-validation on real data:
    CIFAR-10 when its batches are on this machine (they are never downloaded here), and
    Fashion-MNIST (Debian's dataset-fashion-mnist).

The functions are the solution notebook's own answer cells. Nothing is downloaded.
Run: python -m benchmarks.knn [speed | accuracy]   (both when no mode is given)
"""

import os
import sys
import time

import numpy as np

os.environ.setdefault("COURSE_OFFLINE", "1")  # never download; real data or a clear notice

from sklearn.neighbors import KNeighborsClassifier  # noqa: E402

from benchmarks import timed  # noqa: E402
from pixelschool.datasets import (  # noqa: E402
    DatasetError,
    load_cifar10,
    load_fashion_mnist,
    synthetic,  # noqa: E402
)
from pixelschool_admin.authoring.notebooks import solution_functions  # noqa: E402
from pixelschool_admin.paths import SOLUTIONS_DIR  # noqa: E402

KNN = solution_functions(SOLUTIONS_DIR / "02_knn.ipynb")
SIZES = [(5000, 500), (20000, 1000)]  # (training, test) images
KS_TIMED = [1, 10]
KS_CROSS_VALIDATED = list(range(1, 21))
NUM_FOLDS = 5
# CS231n's figures for 1-NN on the full CIFAR-10 (50000 training, 10000 test images).
CS231N_FULL_CIFAR10 = {"L2": 0.354, "L1": 0.386}


def sklearn_knn(data_train, labels_train, data_test, k):
    """scikit-learn's brute-force kNN: fit, then predict."""
    model = KNeighborsClassifier(n_neighbors=k, algorithm="brute")
    return model.fit(data_train, labels_train).predict(data_test)


def cifar_shaped(n_train, n_test, seed=0):
    """Synthetic CIFAR-10-like images, flattened: (n, 3072) uint8 and labels (n,)."""
    images, labels = synthetic.cifar_like(n_train + n_test, seed)
    images = images.reshape(len(images), -1)
    return images[:n_train], labels[:n_train], images[n_train:], labels[n_train:]


# --------------------------------------------------------------------------------------
# Speed
# --------------------------------------------------------------------------------------


def speed():
    print("Speed: notebook 02's distance_matrix + knn_predict vs scikit-learn brute force")
    print("(synthetic CIFAR-shaped images, 3072 uint8 values each; best of 3 runs)\n")
    print(
        f"{'train x test':>14}{'k':>4}{'distances':>11}{'vote':>9}{'ours':>9}"
        f"{'sklearn':>10}{'ours/sklearn':>14}   predictions"
    )
    floors = []
    for n_train, n_test in SIZES:
        data_train, labels_train, data_test, _ = cifar_shaped(n_train, n_test)
        dists, t_dists = timed(KNN["distance_matrix"], data_test, data_train)
        for k in KS_TIMED:
            ours, t_vote = timed(KNN["knn_predict"], dists, labels_train, k)
            theirs, t_sklearn = timed(sklearn_knn, data_train, labels_train, data_test, k)
            agree = np.mean(ours == theirs)
            verdict = "identical" if agree == 1 else f"{agree:.2%} agree"
            t_ours = t_dists + t_vote
            print(
                f"{f'{n_train} x {n_test}':>14}{k:>4}{t_dists:>10.2f}s{t_vote:>8.2f}s"
                f"{t_ours:>8.2f}s{t_sklearn:>9.2f}s{t_ours / t_sklearn:>13.2f}x   {verdict}"
            )
        test64, train64 = data_test.astype(np.float64), data_train.astype(np.float64)
        _, t_product = timed(np.matmul, test64, train64.T)
        floors.append((n_train, n_test, t_dists, t_product))

    print("\nThe distance matrix against its floor, one float64 matrix product of the same shapes")
    print(f"{'train x test':>14}{'distance_matrix':>17}{'test @ train.T':>16}{'ratio':>8}")
    for n_train, n_test, t_dists, t_product in floors:
        print(
            f"{f'{n_train} x {n_test}':>14}{t_dists:>16.3f}s{t_product:>15.3f}s"
            f"{t_dists / t_product:>7.2f}x"
        )


# --------------------------------------------------------------------------------------
# Accuracy on real data
# --------------------------------------------------------------------------------------


def flat(images):
    return images.reshape(len(images), -1)


def report_accuracy(name, data_train, labels_train, data_test, labels_test):
    """Cross-validate k, then print the test accuracy of the chosen k and of 1-NN L2/L1."""
    print(
        f"\n{name}: {len(data_train)} training and {len(data_test)} test images, "
        f"{data_train.shape[1]} values each"
    )
    start = time.perf_counter()
    accuracies = KNN["cross_validate_knn"](data_train, labels_train, KS_CROSS_VALIDATED, NUM_FOLDS)
    mean, spread = accuracies.mean(axis=1), accuracies.std(axis=1)
    best = int(np.argmax(mean))
    best_k = KS_CROSS_VALIDATED[best]
    print(f"  {NUM_FOLDS}-fold cross-validation of k = 1..20 ({time.perf_counter() - start:.0f} s)")
    print("  " + "  ".join(f"k={k}: {m:.1%}" for k, m in zip(KS_CROSS_VALIDATED, mean)))
    print(f"  best k = {best_k}: validation accuracy {mean[best]:.1%} ± {spread[best]:.1%}")

    dists = KNN["distance_matrix"](data_test, data_train)
    dists_l1 = KNN["distance_matrix_l1"](data_test, data_train)
    rows = [
        ("1-NN, L2", dists, 1),
        ("1-NN, L1", dists_l1, 1),
        (f"{best_k}-NN, L2 (cross-validated k)", dists, best_k),
    ]
    for label, matrix, k in rows:
        predictions = KNN["knn_predict"](matrix, labels_train, k)
        print(f"  test accuracy {label:<32}{np.mean(predictions == labels_test):>7.1%}")
    theirs = sklearn_knn(data_train, labels_train, data_test, best_k)
    ours = KNN["knn_predict"](dists, labels_train, best_k)
    agree = np.mean(ours == theirs)
    print(f"  predictions vs scikit-learn (k = {best_k}): {agree:.2%} agree")


def accuracy():
    print("\nAccuracy of notebook 02's kNN on real data")
    try:
        cifar = load_cifar10()
        if cifar.synthetic:  # fast mode's stand-in is no real data
            raise DatasetError("synthetic stand-in")
    except DatasetError:
        print(
            "\nCIFAR-10: not on this machine (looked in $COURSE_DATA_DIR and the Keras cache; "
            "no download here), so no CIFAR-10 figures."
        )
    else:
        report_accuracy(
            "CIFAR-10 (CS231n's subset)",
            flat(cifar.x_train[:5000]),
            cifar.y_train[:5000],
            flat(cifar.x_test[:500]),
            cifar.y_test[:500],
        )
    anchors = ", ".join(f"{metric} {value:.1%}" for metric, value in CS231N_FULL_CIFAR10.items())
    print(f"CS231n, 1-NN on the full CIFAR-10 (50000 / 10000 images): {anchors}")

    try:
        fashion = load_fashion_mnist(channel_axis=False)
        if fashion.synthetic:
            raise DatasetError("synthetic stand-in")
    except DatasetError:
        print("\nFashion-MNIST: not installed (apt-get install dataset-fashion-mnist)")
        return
    report_accuracy(
        f"Fashion-MNIST ({fashion.source})",
        flat(fashion.x_train[:5000]),
        fashion.y_train[:5000],
        flat(fashion.x_test[:1000]),
        fashion.y_test[:1000],
    )


MODES = {"speed": speed, "accuracy": accuracy}


def main(argv):
    modes = argv or list(MODES)
    unknown = [mode for mode in modes if mode not in MODES]
    if unknown:
        sys.exit(f"unknown mode {unknown[0]!r}: choose from {', '.join(MODES)}")
    for mode in modes:
        MODES[mode]()


if __name__ == "__main__":
    main(sys.argv[1:])
