"""Our minibatch SGD softmax classifier versus scikit-learn's LogisticRegression (lbfgs).

Ours is the solution notebook's own code (solutions/03_softmax.ipynb: train_softmax,
predict_softmax, softmax_loss_and_grad). Both minimise the same objective on the same
features (flattened pixels scaled to [0, 1], minus the mean training image):
mean cross-entropy + reg * sum(W**2), which is LogisticRegression's with C = 1 / (2 reg N).
A "pass" is one epoch of SGD, or one lbfgs iteration (at least one full-batch gradient).

CIFAR-10 is used where it is installed (never downloaded); the real data every machine here
has is Fashion-MNIST (Debian's dataset-fashion-mnist).
Run: python -m benchmarks.softmax
"""

import os
import time
import warnings

import numpy as np

os.environ.setdefault("COURSE_OFFLINE", "1")  # benchmarks never download

from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402

from pixelschool.datasets import DatasetError, load_cifar10, load_fashion_mnist  # noqa: E402
from pixelschool.datasets.loaders import cifar10_places, has_cifar10_batches  # noqa: E402
from pixelschool_admin.authoring.notebooks import solution_functions  # noqa: E402
from pixelschool_admin.paths import SOLUTIONS_DIR  # noqa: E402

OURS = solution_functions(SOLUTIONS_DIR / "03_softmax.ipynb")
CS231N_CIFAR10_ANCHOR = 0.35  # CS231n: a linear softmax classifier should pass 35 % on CIFAR-10
BATCH_SIZE = 200
MAX_LBFGS_ITERATIONS = 300


def features(train, val, test):
    """Flatten (N, ...) uint8 images to float32 rows in [0, 1], minus the mean training row."""
    rows = [
        images.reshape(len(images), -1).astype(np.float32) / 255 for images in (train, val, test)
    ]
    mean = rows[0].mean(axis=0)
    return [x - mean for x in rows]


def accuracy(labels, truth):
    return float(np.mean(labels == truth))


def objective(W, b, X, y, reg):
    """Mean cross-entropy + reg * sum(W**2) on the whole training set."""
    return float(OURS["softmax_loss_and_grad"](W, b, X, y, reg)[0])


def run_ours(X_train, y_train, learning_rate, reg, epochs):
    start = time.perf_counter()
    W, b, _ = OURS["train_softmax"](X_train, y_train, learning_rate, reg, epochs, BATCH_SIZE, 0)
    seconds = time.perf_counter() - start
    return W, b, epochs, seconds, lambda X: OURS["predict_softmax"](W, b, X)


def run_sklearn(X_train, y_train, reg):
    model = LogisticRegression(C=1 / (2 * reg * len(X_train)), max_iter=MAX_LBFGS_ITERATIONS)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # reported below as the pass count
        model.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    passes = int(np.max(model.n_iter_))
    return model.coef_.T, model.intercept_, passes, seconds, model.predict


def compare(name, sets, learning_rate, reg, epochs):
    """Train both on the same features and print one row each, side by side."""
    (x_train, y_train), (x_val, y_val), (x_test, y_test) = sets
    X_train, X_val, X_test = features(x_train, x_val, x_test)
    print(
        f"\n{name}: {len(X_train)} train / {len(X_val)} val / {len(X_test)} test images, "
        f"{X_train.shape[1]} features; reg = {reg:g}"
    )
    print(
        f"{'':<34}{'passes':>7}{'s/pass':>9}{'total s':>9}{'objective':>11}"
        f"{'val acc':>9}{'test acc':>10}"
    )
    runs = {
        f"minibatch SGD, ours (lr {learning_rate:g})": lambda: run_ours(
            X_train, y_train, learning_rate, reg, epochs
        ),
        "LogisticRegression (lbfgs)": lambda: run_sklearn(X_train, y_train, reg),
    }
    for label, run in runs.items():
        W, b, passes, seconds, predict = run()
        note = " (iteration cap)" if passes >= MAX_LBFGS_ITERATIONS else ""
        print(
            f"{label:<34}{passes:>7}{seconds / passes:>9.3f}{seconds:>9.1f}"
            f"{objective(W, b, X_train, y_train, reg):>11.4f}"
            f"{accuracy(predict(X_val), y_val):>9.3f}{accuracy(predict(X_test), y_test):>10.3f}"
            + note
        )


def main():
    print(f"our classifier: train_softmax from {SOLUTIONS_DIR / '03_softmax.ipynb'}")
    print(f"{os.cpu_count()} CPU cores")
    cifar = next((place for place in cifar10_places() if has_cifar10_batches(place)), None)
    if cifar is None:
        print("\nCIFAR-10: not on this machine, and benchmarks never download. Looked in:")
        for place in cifar10_places():
            print(f"  {place}")
        print("So the real data below is Fashion-MNIST.")
    else:
        data = load_cifar10(cifar)
        x, y = data.x_train, data.y_train
        sets = [
            (x[:49000], y[:49000]),
            (x[49000:], y[49000:]),
            (data.x_test[:1000], data.y_test[:1000]),
        ]
        compare(f"CIFAR-10 ({cifar})", sets, learning_rate=1e-2, reg=1e-1, epochs=10)
    print(
        f"Reference: CS231n expects a linear softmax classifier to pass "
        f"{CS231N_CIFAR10_ANCHOR * 100:.0f} % test accuracy on CIFAR-10 (about 40 % is typical)."
    )
    try:
        data = load_fashion_mnist(channel_axis=False)
    except DatasetError as error:
        print(f"\nFashion-MNIST: {error}")
        return
    x, y = data.x_train, data.y_train
    sets = [(x[:55000], y[:55000]), (x[55000:], y[55000:]), (data.x_test, data.y_test)]
    compare(f"Fashion-MNIST ({data.source})", sets, learning_rate=1e-1, reg=1e-4, epochs=15)


if __name__ == "__main__":
    main()
