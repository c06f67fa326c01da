"""Our dataset loaders versus Keras' own, on the same files: time and equality.

Real Fashion-MNIST comes from Debian's dataset-fashion-mnist, and Keras' load_data reads
copies of the same files from a temporary KERAS_HOME, so nothing is downloaded. CIFAR-10 is
the synthetic folder in the official format unless real batches are found; Keras' batch
reader reads the same folder.
Run: python -m benchmarks.data_loading
"""

import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("COURSE_FAST", "1")  # allow the synthetic CIFAR-10 stand-in
os.environ.setdefault("COURSE_OFFLINE", "1")

from pixelschool.datasets import cifar10_dir, load_cifar10, load_fashion_mnist  # noqa: E402
from pixelschool.datasets.paths import DEBIAN_FASHION_MNIST  # noqa: E402


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def keras_home_with(copies):
    """Point KERAS_HOME at a temporary folder whose datasets/ holds {subdir: source folder}."""
    home = Path(tempfile.mkdtemp(prefix="keras-home-"))
    for subdir, folder in copies.items():
        shutil.copytree(folder, home / "datasets" / subdir)
    os.environ["KERAS_HOME"] = str(home)  # read by Keras when it is imported


def keras_cifar10_train(folder):
    """CIFAR-10's training set read as keras.datasets.cifar10.load_data reads it.

    load_data itself insists on the downloaded archive, so its batch reader is called here.
    """
    from keras.src.datasets.cifar import load_batch

    batches = [load_batch(str(folder / f"data_batch_{i}")) for i in range(1, 6)]
    images = np.concatenate([x for x, _ in batches]).transpose(0, 2, 3, 1)
    return (images, np.concatenate([y for _, y in batches])), None


def compare(name, ours, theirs):
    (x_ours, y_ours), t_ours = ours
    (x_keras, y_keras), t_keras = theirs
    same = np.array_equal(x_ours, x_keras) and np.array_equal(y_ours, y_keras.ravel())
    print(
        f"{name:<28}{t_ours:>9.2f} s{t_keras:>9.2f} s{t_keras / t_ours:>11.2f}x"
        f"   {'identical' if same else 'DIFFERENT'}   {x_ours.shape}"
    )


def main():
    has_fashion = (DEBIAN_FASHION_MNIST / "train-images-idx3-ubyte.gz").exists()
    cifar = cifar10_dir()
    if has_fashion:
        keras_home_with({"fashion-mnist": DEBIAN_FASHION_MNIST})
    import keras  # after KERAS_HOME is set; its start-up time is not the loaders'

    print(f"{'dataset':<28}{'ours':>11}{'keras':>11}{'keras/ours':>12}")
    if has_fashion:
        ours = timed(lambda: load_fashion_mnist(channel_axis=False))
        theirs = timed(keras.datasets.fashion_mnist.load_data)
        compare(
            "Fashion-MNIST (train)",
            ((ours[0].x_train, ours[0].y_train), ours[1]),
            (theirs[0][0], theirs[1]),
        )
    else:
        print("Fashion-MNIST: not installed (apt-get install dataset-fashion-mnist)")
    ours = timed(lambda: load_cifar10(cifar))
    theirs = timed(lambda: keras_cifar10_train(cifar))
    label = "CIFAR-10 (train)" + (" synthetic" if ours[0].synthetic else "")
    compare(label, ((ours[0].x_train, ours[0].y_train), ours[1]), (theirs[0][0], theirs[1]))


if __name__ == "__main__":
    main()
