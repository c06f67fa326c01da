"""The solution's naive and fast (im2col) convolutions versus Keras' Conv2D, on the CPU.

Ours are the solution notebook's own functions (solutions/06_convolution.ipynb: conv_forward,
conv_forward_fast). A CIFAR-shaped batch (N images 3 x 32 x 32, 32 filters 3 x 3, padding 1,
stride 1) goes through the three; the times are the best of a few runs, printed with their
ratios side by side, and each of ours is compared with Keras' output (max relative error:
max |ours - Keras| / max |Keras|). Keras computes in float32; ours run on the notebook's
float64 and, for the fast one, on float32 too, the fair comparison of speed.
Goals: the naive version correct to 1e-6 relative; the fast one (float32) at most 3 x Keras'
time.
Run: python -m benchmarks.convolution [N]
"""

import os
import sys

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from benchmarks import timed  # noqa: E402
from pixelschool_admin.authoring.notebooks import solution_functions  # noqa: E402
from pixelschool_admin.paths import SOLUTIONS_DIR  # noqa: E402

OURS = solution_functions(SOLUTIONS_DIR / "06_convolution.ipynb")
FILTERS, SIZE, PAD, STRIDE = 32, 3, 1, 1
FAST32 = "fast (im2col), float32"


def relative_error(ours, theirs):
    return float(np.max(np.abs(ours - theirs)) / np.max(np.abs(theirs)))


def keras_conv(w, b):
    """A Conv2D layer holding (w, b), CS231n's layout moved to Keras' (HH, WW, C, F)."""
    import keras

    with keras.device("cpu"):
        layer = keras.layers.Conv2D(FILTERS, SIZE, strides=STRIDE, padding="same")
        layer.build((None, 32, 32, 3))
        layer.set_weights([w.transpose(2, 3, 1, 0), b])
    return lambda x_last: keras.ops.convert_to_numpy(layer(x_last))


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    n = int(argv[0]) if argv else 100
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 3, 32, 32))
    w = rng.normal(0, 0.1, size=(FILTERS, 3, SIZE, SIZE))
    b = rng.normal(size=FILTERS)
    conv_param = {"stride": STRIDE, "pad": PAD}
    x32, w32, b32 = (a.astype(np.float32) for a in (x, w, b))
    naive = OURS["conv_forward"](x, w, b, conv_param)[0]
    fast = OURS["conv_forward_fast"](x, w, b, conv_param)[0]
    seconds = {
        "naive (loops over positions)": timed(OURS["conv_forward"], x, w, b, conv_param)[1],
        "fast (im2col)": timed(OURS["conv_forward_fast"], x, w, b, conv_param, repeats=5)[1],
        FAST32: timed(OURS["conv_forward_fast"], x32, w32, b32, conv_param, repeats=5)[1],
    }
    errors = {}
    try:
        conv = keras_conv(w, b)
    except ImportError:
        conv = None
        print("Keras is not installed: ours only.")
    if conv is not None:
        x_last = x.transpose(0, 2, 3, 1).astype(np.float32)
        conv(x_last)  # built and warmed up: not timed
        seconds["Keras Conv2D (CPU)"] = timed(conv, x_last, repeats=5)[1]
        theirs = conv(x_last).transpose(0, 3, 1, 2)
        errors = {"naive (loops over positions)": relative_error(naive, theirs)}
        errors["fast (im2col)"] = relative_error(fast, theirs)
        errors[FAST32] = relative_error(
            OURS["conv_forward_fast"](x32, w32, b32, conv_param)[0], theirs
        )
    print(
        f"{n} images 3 x 32 x 32, {FILTERS} filters {SIZE} x {SIZE}, pad {PAD}, stride "
        f"{STRIDE}; fast vs naive: max relative difference {relative_error(fast, naive):.1e}"
    )
    keras_seconds = seconds.get("Keras Conv2D (CPU)")
    print(f"{'':30}{'ms':>10}{'x fast':>10}{'x Keras':>10}{'rel. error vs Keras':>22}")
    for name, value in seconds.items():
        versus_keras = f"{value / keras_seconds:10.2f}" if keras_seconds else f"{'-':>10}"
        error = f"{errors[name]:22.1e}" if name in errors else f"{'-':>22}"
        print(
            f"{name:30}{value * 1000:10.1f}{value / seconds['fast (im2col)']:10.2f}"
            f"{versus_keras}{error}"
        )
    if keras_seconds:
        print(
            "goals: naive correct to 1e-6 relative: "
            f"{errors['naive (loops over positions)'] < 1e-6}; fast at most 3 x Keras' time: "
            f"{seconds[FAST32] <= 3 * keras_seconds}"
        )


if __name__ == "__main__":
    main()
