"""Notebook 08's network on CIFAR-10: test accuracy and training time.

The network is the solution notebook's own ``cifar_net`` (its answer cells, run by
``solution_functions``), trained as the notebook trains it in full mode: 45 000 training and
5 000 validation images, minibatches of 64, Adam with the learning rate halved when the
validation loss stalls, 40 epochs; then evaluated once on the 10 000 test images.
Target: test accuracy >= 0.85.

CIFAR-10 is never downloaded here: without its python batches the benchmark says so and
stops (exit status 0). ``--synthetic`` instead times a short pass on the synthetic stand-in
(1 500 images in the official format): a timing of the network, not an accuracy figure.

Run: python -m benchmarks.cnn_cifar10 [--epochs N] [--synthetic]
"""

import argparse
import os
import time

import numpy as np

os.environ.setdefault("COURSE_OFFLINE", "1")  # look for the datasets, never download them

from pixelschool.config import fast_mode  # noqa: E402
from pixelschool.datasets import DatasetError, load_cifar10, synthetic  # noqa: E402
from pixelschool_admin.authoring.notebooks import solution_functions  # noqa: E402
from pixelschool_admin.paths import SOLUTIONS_DIR  # noqa: E402

EPOCHS = 40
BATCH_SIZE = 64
VALIDATION = 5000
TARGET = 0.85
SEED = 0


def prepare(dataset, validation):
    """float32 images in [0, 1] and one-hot labels: (train, validation, test) pairs."""
    k = len(dataset.class_names)
    x = dataset.x_train.astype(np.float32) / 255
    y = np.eye(k, dtype=np.float32)[dataset.y_train]
    x_test = dataset.x_test.astype(np.float32) / 255
    y_test = np.eye(k, dtype=np.float32)[dataset.y_test]
    return (x[:-validation], y[:-validation]), (x[-validation:], y[-validation:]), (x_test, y_test)


def train(nb, train_set, validation_set, epochs, show_accuracy=True):
    """Train ``cifar_net`` as the notebook does; return (model, seconds per epoch list)."""
    import keras

    keras.utils.set_random_seed(SEED)
    (x_train, y_train), (x_val, y_val) = train_set, validation_set
    model = nb["cifar_net"](x_train.shape[1:], y_train.shape[1])

    class EpochTimes(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            times.append(time.perf_counter() - self.start)
            accuracy = f", val accuracy {logs['val_accuracy']:.4f}" if show_accuracy else ""
            print(f"  epoch {epoch + 1:3d}/{epochs}: {times[-1]:6.1f} s{accuracy}", flush=True)

    times = []
    slower = keras.callbacks.ReduceLROnPlateau(
        monitor="val_loss", factor=0.5, patience=3, min_lr=1e-5
    )
    model.fit(
        x_train,
        y_train,
        batch_size=BATCH_SIZE,
        epochs=epochs,
        validation_data=(x_val, y_val),
        callbacks=[slower, EpochTimes()],
        verbose=0,
    )
    return model, times


def describe_machine():
    import keras

    return f"Keras {keras.__version__}, backend {keras.backend.backend()}, {os.cpu_count()} CPU(s)"


def synthetic_timing(nb, epochs):
    """A short timing pass on the synthetic stand-in; prints no accuracy."""
    dataset = load_cifar10(synthetic.cifar10_dir())
    train_set, validation_set, _ = prepare(dataset, validation=300)
    print(
        f"TIMING ONLY, NOT AN ACCURACY FIGURE: synthetic stand-in ({len(train_set[0])} training "
        f"images of 32 x 32 x 3), {epochs} epoch(s), batch {BATCH_SIZE}; {describe_machine()}"
    )
    _, times = train(nb, train_set, validation_set, epochs, show_accuracy=False)
    steady = times[1:] or times
    per_image = np.mean(steady) / len(train_set[0])
    print(f"first epoch (builds the graph): {times[0]:.1f} s")
    print(f"per epoch after it: {np.mean(steady):.1f} s ({1000 * per_image:.2f} ms per image)")
    estimate = per_image * (50_000 - VALIDATION)
    print(
        f"estimate for a real CIFAR-10 epoch ({50_000 - VALIDATION} images) on this machine: "
        f"{estimate:.0f} s; {EPOCHS} epochs: {EPOCHS * estimate / 60:.0f} min"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=None, help=f"default: {EPOCHS}")
    parser.add_argument(
        "--synthetic",
        action="store_true",
        help="time a short pass on the synthetic stand-in (not an accuracy figure)",
    )
    args = parser.parse_args()
    if fast_mode():
        print(
            "note: fast mode is on (COURSE_FAST or NBGRADER_EXECUTION); the benchmark "
            "ignores it and uses the full dataset."
        )
    nb = solution_functions(SOLUTIONS_DIR / "08_cifar_cnn.ipynb")
    if args.synthetic:
        synthetic_timing(nb, args.epochs or 3)
        return 0

    os.environ.pop("COURSE_FAST", None)  # a missing CIFAR-10 must not become the stand-in
    os.environ.pop("NBGRADER_EXECUTION", None)
    try:
        dataset = load_cifar10()
    except DatasetError:
        print(
            "CIFAR-10 is not available on this machine (its python batches are in none of the "
            "places the course looks, and this benchmark never downloads): no accuracy or "
            "training time to report. Put cifar-10-batches-py in $COURSE_DATA_DIR or the Keras "
            "cache and run again; `--synthetic` times the network on the synthetic stand-in."
        )
        return 0
    epochs = args.epochs or EPOCHS
    train_set, validation_set, (x_test, y_test) = prepare(dataset, VALIDATION)
    print(
        f"CIFAR-10 ({dataset.source}): {len(train_set[0])} training, {len(validation_set[0])} "
        f"validation, {len(x_test)} test images; {epochs} epochs, batch {BATCH_SIZE}; "
        f"{describe_machine()}"
    )
    start = time.perf_counter()
    model, times = train(nb, train_set, validation_set, epochs)
    seconds = time.perf_counter() - start
    accuracy = model.evaluate(x_test, y_test, batch_size=512, verbose=0)[1]
    print(f"training time: {seconds / 60:.1f} min ({np.mean(times[1:] or times):.1f} s per epoch)")
    print(
        f"test accuracy: {accuracy:.4f} (target >= {TARGET}: "
        f"{'reached' if accuracy >= TARGET else 'NOT reached'})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
