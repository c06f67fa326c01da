"""Notebook 05's NumPy MLP with batch normalisation against the same MLP without it.

The layers are the solution notebook's own functions (``affine_forward``, ``batchnorm_forward``,
``batchnorm_backward``, ``relu_forward``, ``dropout_forward``, ``adam_step``, ...; its answer
cells, run by ``solution_functions``), composed here as notebook 05's section 18 composes
them: a batch-norm layer between every hidden affine layer and its ReLU. Both networks
(784-256-128-10, He initialisation, dropout 0.8) train in float32 with Adam on the real
Fashion-MNIST (60 000 training, 10 000 test images), the same batches and seed; the test
accuracy after every epoch is printed side by side, and the curves are saved as a plot and
as JSON (``build/benchmarks/mlp_batchnorm_curves.png`` and ``.json``).

Run: python -m benchmarks.mlp_batchnorm [--epochs N] [--curves PATH_WITHOUT_SUFFIX]
"""

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("COURSE_OFFLINE", "1")  # look for the dataset, never download it

from pixelschool.datasets import DatasetError, load_fashion_mnist  # noqa: E402
from pixelschool_admin.authoring.notebooks import solution_functions  # noqa: E402
from pixelschool_admin.paths import SOLUTIONS_DIR  # noqa: E402

SIZES = [784, 256, 128, 10]
SETTINGS = dict(num_epoch=20, batch_size=128, learning_rate=1e-3, decay=1e-4, keep_prob=0.8)
SEED = 0
GOAL = 0.895  # test accuracy of the network with batch norm


def flat_float32(images):
    return images.reshape(len(images), -1).astype(np.float32) / 255


class Network:
    """The MLP of ``SIZES``, with (``batchnorm=True``) or without batch norm, trained by Adam."""

    def __init__(self, nb, batchnorm, rng):
        self.nb, self.batchnorm = nb, batchnorm
        layers = nb["init_layers"](SIZES, rng)
        self.params = [p.astype(np.float32) for layer in layers for p in layer]
        hidden = SIZES[1:-1]
        if batchnorm:
            for n in hidden:
                self.params += [np.ones(n, np.float32), np.zeros(n, np.float32)]
        self.bn_params = [{"mode": "train"} for _ in hidden]
        self.moments = [(np.zeros_like(p), np.zeros_like(p)) for p in self.params]
        self.t = 0

    def parts(self):
        count = 2 * (len(SIZES) - 1)
        layers = list(zip(self.params[:count:2], self.params[1:count:2]))
        norms = list(zip(self.params[count::2], self.params[count + 1 :: 2]))
        return layers, norms

    def loss_and_grads(self, data, labels, keep_prob, rng):
        nb, (layers, norms) = self.nb, self.parts()
        a, caches = data, []
        for k, (w, b) in enumerate(layers[:-1]):
            z, affine_cache = nb["affine_forward"](a, w, b)
            norm_cache = None
            if self.batchnorm:
                z, norm_cache = nb["batchnorm_forward"](z, *norms[k], self.bn_params[k])
            h, relu_cache = nb["relu_forward"](z)
            a, mask = nb["dropout_forward"](h, keep_prob, rng, keep_prob < 1)
            caches.append((affine_cache, norm_cache, relu_cache, mask))
        scores, output_cache = nb["affine_forward"](a, *layers[-1])
        shifted = scores - scores.max(axis=1, keepdims=True)
        log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
        rows = np.arange(len(data))
        loss = -np.mean(log_probs[rows, labels])
        d_scores = np.exp(log_probs)
        d_scores[rows, labels] -= 1
        d_a, dw, db = nb["affine_backward"](d_scores / len(data), output_cache)
        grads, norm_grads = [dw, db], []
        for affine_cache, norm_cache, relu_cache, mask in reversed(caches):
            d_z = nb["relu_backward"](d_a * mask, relu_cache)
            if norm_cache is not None:
                d_z, dgamma, dbeta = nb["batchnorm_backward"](d_z, norm_cache)
                norm_grads = [dgamma, dbeta, *norm_grads]
            d_a, dw, db = nb["affine_backward"](d_z, affine_cache)
            grads = [dw, db, *grads]
        return float(loss), grads + norm_grads

    def step(self, grads, learning_rate):
        self.t += 1
        for k, grad in enumerate(grads):
            m, v = self.moments[k]
            self.params[k], m, v = self.nb["adam_step"](
                self.params[k], grad, m, v, self.t, learning_rate, 0.9, 0.999, 1e-8
            )
            self.moments[k] = (m, v)

    def predict(self, data):
        layers, norms = self.parts()
        a = data
        for k, (w, b) in enumerate(layers[:-1]):
            z = a @ w + b
            if self.batchnorm:
                test = dict(self.bn_params[k], mode="test")
                z = self.nb["batchnorm_forward"](z, *norms[k], test)[0]
            a = np.maximum(z, 0)
        return (a @ layers[-1][0] + layers[-1][1]).argmax(axis=1)


def train(nb, batchnorm, x_train, y_train, x_test, y_test, settings):
    """Per-epoch curves {"cost", "test_accuracy", "seconds"} of one network."""
    rng = np.random.default_rng(SEED)
    net = Network(nb, batchnorm, rng)
    curves = {"cost": [], "test_accuracy": [], "seconds": []}
    for _ in range(settings["num_epoch"]):
        start, costs = time.perf_counter(), []
        for data, labels in nb["minibatches"](x_train, y_train, settings["batch_size"], rng):
            eta = nb["decayed_learning_rate"](settings["learning_rate"], net.t, settings["decay"])
            loss, grads = net.loss_and_grads(data, labels, settings["keep_prob"], rng)
            costs.append(loss)
            net.step(grads, eta)
        curves["seconds"].append(time.perf_counter() - start)
        curves["cost"].append(float(np.mean(costs)))
        curves["test_accuracy"].append(float(np.mean(net.predict(x_test) == y_test)))
    return curves


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=SETTINGS["num_epoch"])
    parser.add_argument("--curves", default="build/benchmarks/mlp_batchnorm_curves")
    args = parser.parse_args(argv)
    try:
        fashion = load_fashion_mnist(channel_axis=False)
    except DatasetError as error:
        print(f"Fashion-MNIST is not available on this machine ({error}): benchmark not run.")
        return
    settings = dict(SETTINGS, num_epoch=args.epochs)
    print(f"Fashion-MNIST: {fashion.source}")
    print("settings:", ", ".join(f"{key}={value}" for key, value in settings.items()))
    nb = solution_functions(SOLUTIONS_DIR / "05_mlp.ipynb")
    data = (
        flat_float32(fashion.x_train),
        fashion.y_train,
        flat_float32(fashion.x_test),
        fashion.y_test,
    )
    runs = {}
    for name, batchnorm in [("without batch norm", False), ("with batch norm", True)]:
        with np.errstate(over="ignore"):
            runs[name] = train(nb, batchnorm, *data, settings)
    names = list(runs)
    print(f"\n{'epoch':>5}" + "".join(f"{n + ' (cost, test acc)':>36}" for n in names))
    for epoch in range(settings["num_epoch"]):
        row = "".join(
            f"{runs[n]['cost'][epoch]:>26.4f}{runs[n]['test_accuracy'][epoch]:>10.4f}"
            for n in names
        )
        print(f"{epoch + 1:>5}{row}")
    for name in names:
        seconds = np.mean(runs[name]["seconds"])
        print(
            f"{name}: {seconds:.2f} s per epoch, final test accuracy "
            f"{runs[name]['test_accuracy'][-1]:.4f} (best {max(runs[name]['test_accuracy']):.4f})"
        )
    final = runs["with batch norm"]["test_accuracy"][-1]
    print(
        f"Goal with batch norm: test accuracy >= {GOAL}: "
        f"{'reached' if final >= GOAL else 'NOT reached'}."
    )
    save_curves(runs, settings, Path(args.curves))


def save_curves(runs, settings, stem):
    """The runs' cost and test accuracy per epoch, side by side: stem.png and stem.json."""
    import matplotlib

    matplotlib.use("agg")
    import matplotlib.pyplot as plt

    stem.parent.mkdir(parents=True, exist_ok=True)
    stem.with_suffix(".json").write_text(json.dumps({"settings": settings, "runs": runs}))
    fig, (ax_cost, ax_accuracy) = plt.subplots(1, 2, figsize=(10, 4))
    for name, run in runs.items():
        epochs = range(1, len(run["cost"]) + 1)
        ax_cost.plot(epochs, run["cost"], label=name)
        ax_accuracy.plot(epochs, run["test_accuracy"], label=name)
    ax_cost.set(xlabel="epoch", ylabel="mean training cost")
    ax_accuracy.axhline(GOAL, color="grey", linestyle=":", label=f"goal {GOAL}")
    ax_accuracy.set(xlabel="epoch", ylabel="test accuracy")
    ax_accuracy.legend()
    fig.tight_layout()
    fig.savefig(stem.with_suffix(".png"), dpi=100)
    print(f"curves saved to {stem.with_suffix('.png')} and {stem.with_suffix('.json')}")


if __name__ == "__main__":
    main()
