"""Notebook 05's NumPy multi-layer perceptron versus the same network in Keras.

The NumPy side is the solution notebook's own code (its answer cells, run by
``solution_functions``); the Keras side has the same architecture, initialisation scheme,
optimiser, learning-rate schedule, batch size and epochs. Both train in float32 on the CPU
on the real Fashion-MNIST (60 000 training, 10 000 test images); one run each, printed side
by side. CIFAR-10 is used as well when its python batches are found (never downloaded here).

Run: python -m benchmarks.mlp [--epochs N]
"""

import argparse
import os
import time

import numpy as np

os.environ.setdefault("COURSE_OFFLINE", "1")  # look for the datasets, never download them

from pixelschool.config import fast_mode  # noqa: E402
from pixelschool.datasets import DatasetError, load_cifar10, load_fashion_mnist  # noqa: E402
from pixelschool_admin.authoring.notebooks import solution_functions  # noqa: E402
from pixelschool_admin.paths import SOLUTIONS_DIR  # noqa: E402

HIDDEN = [256, 128]
SETTINGS = dict(  # the notebook's settings for the final network
    num_epoch=30,
    batch_size=128,
    learning_rate=0.1,
    optimizer="momentum",
    beta=0.9,
    decay=5e-4,
    reg_l2=0.0,
    reg_l1=0.0,
    keep_prob=0.8,
)
SEED = 0


def flat_float32(images):
    """(N, H, W[, C]) uint8 images -> (N, H*W*C) float32 in [0, 1]."""
    return images.reshape(len(images), -1).astype(np.float32) / 255


def numpy_run(nb, x_train, y_train, x_test, y_test, settings):
    """Train the notebook's network; return (seconds per epoch, test accuracy)."""
    sizes = [x_train.shape[1], *HIDDEN, int(y_train.max()) + 1]
    layers = [
        (w.astype(np.float32), b.astype(np.float32))
        for w, b in nb["init_layers"](sizes, np.random.default_rng(SEED))
    ]
    start = time.perf_counter()
    layers, _ = nb["train_network"](layers, x_train, y_train, **settings, seed=SEED)
    seconds = time.perf_counter() - start
    predictions = nb["relu_network_forward"](layers, x_test).argmax(axis=1)
    return seconds / settings["num_epoch"], float(np.mean(predictions == y_test))


def keras_run(x_train, y_train, x_test, y_test, settings):
    """Train the same network in Keras; return (seconds per epoch, test accuracy, first epoch)."""
    import keras

    keras.utils.set_random_seed(SEED)
    layers = [keras.Input(shape=(x_train.shape[1],))]
    for width in HIDDEN:
        regulariser = keras.regularizers.L1L2(l1=settings["reg_l1"], l2=settings["reg_l2"])
        layers.append(
            keras.layers.Dense(
                width,
                activation="relu",
                kernel_initializer="he_normal",  # notebook 05's init_layers (He)
                kernel_regularizer=regulariser,
            )
        )
        if settings["keep_prob"] < 1:
            layers.append(keras.layers.Dropout(1 - settings["keep_prob"]))
    output_size = int(y_train.max()) + 1
    layers.append(
        keras.layers.Dense(output_size, activation="softmax", kernel_initializer="he_normal")
    )
    model = keras.Sequential(layers)
    schedule = keras.optimizers.schedules.InverseTimeDecay(
        settings["learning_rate"], decay_steps=1, decay_rate=settings["decay"]
    )
    if settings["optimizer"] == "adam":
        optimizer = keras.optimizers.Adam(
            learning_rate=schedule, beta_1=settings["beta"], epsilon=1e-8
        )
    else:
        momentum = settings["beta"] if settings["optimizer"] == "momentum" else 0.0
        optimizer = keras.optimizers.SGD(learning_rate=schedule, momentum=momentum)
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])

    class EpochTimes(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            times.append(time.perf_counter() - self.start)

    times = []
    model.fit(
        x_train,
        y_train,
        batch_size=settings["batch_size"],
        epochs=settings["num_epoch"],
        verbose=0,
        callbacks=[EpochTimes()],
    )
    accuracy = model.evaluate(x_test, y_test, batch_size=1024, verbose=0)[1]
    return float(np.mean(times)), float(accuracy), times[0]


def compare(name, nb, x_train, y_train, x_test, y_test, settings):
    print(
        f"\n{name}: {len(x_train)} training and {len(x_test)} test images, network "
        f"{x_train.shape[1]}-{'-'.join(map(str, HIDDEN))}-{int(y_train.max()) + 1} (ReLU), "
        f"{settings['num_epoch']} epochs"
    )
    numpy_seconds, numpy_accuracy = numpy_run(nb, x_train, y_train, x_test, y_test, settings)
    keras_seconds, keras_accuracy, first = keras_run(x_train, y_train, x_test, y_test, settings)
    print(f"{'':24}{'s per epoch':>12}{'test accuracy':>16}")
    print(f"{'NumPy (notebook 05)':24}{numpy_seconds:>12.2f}{numpy_accuracy:>16.4f}")
    print(f"{'Keras (TensorFlow, CPU)':24}{keras_seconds:>12.2f}{keras_accuracy:>16.4f}")
    print(
        f"NumPy / Keras time per epoch: {numpy_seconds / keras_seconds:.2f} "
        f"(Keras' first epoch, which builds its graph: {first:.2f} s)"
    )
    return numpy_accuracy


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=SETTINGS["num_epoch"])
    args = parser.parse_args()
    if fast_mode():
        print(
            "note: fast mode is on (COURSE_FAST or NBGRADER_EXECUTION); the benchmark "
            "ignores it and uses the full datasets."
        )
    settings = dict(SETTINGS, num_epoch=args.epochs)
    print("settings:", ", ".join(f"{key}={value}" for key, value in settings.items()))
    nb = solution_functions(SOLUTIONS_DIR / "05_mlp.ipynb")

    fashion = load_fashion_mnist(channel_axis=False)
    print(f"Fashion-MNIST: {fashion.source}")
    accuracy = compare(
        "Fashion-MNIST",
        nb,
        flat_float32(fashion.x_train),
        fashion.y_train,
        flat_float32(fashion.x_test),
        fashion.y_test,
        settings,
    )
    print(
        "Goal for the NumPy network: test accuracy >= 0.89 (published MLP results on "
        f"Fashion-MNIST: 0.870 to 0.900): {'reached' if accuracy >= 0.89 else 'NOT reached'}."
    )

    try:
        cifar = load_cifar10()
    except DatasetError:
        print(
            "\nCIFAR-10: not available on this machine (its python batches are in none of the "
            "places the course looks, and this benchmark never downloads): not run."
        )
    else:
        compare(
            "CIFAR-10",
            nb,
            flat_float32(cifar.x_train),
            cifar.y_train,
            flat_float32(cifar.x_test),
            cifar.y_test,
            settings,
        )
    print(
        "For reference on CIFAR-10: the seed notebooks report 15 to 46% for their MLPs; "
        "CS231n expects more than 48% from a two-layer network."
    )


if __name__ == "__main__":
    main()
