"""Wrong answers to notebook 05: the L2 and L1 penalties.

The references are the solution notebook's own functions; the checks are in
pixelschool/checks/mlp_regularisation.py. A wrong answer with ``mistake=`` has its results
recorded: the check names that mistake when a student's results match them."""

import numpy as np

from pixelschool_admin.answers.registry import right, wrong

# --- l2_regularisation and l1_regularisation ---------------------------------------------


@wrong("l2_regularisation", says="regularising the biases", mistake="penalised_biases")
def l2_regularisation_biases(layers, reg):
    penalty = sum(reg * (np.sum(w**2) + np.sum(b**2)) for w, b in layers)
    return penalty, [(2 * reg * w, 2 * reg * b) for w, b in layers]


@wrong("l2_regularisation", says="their gradient must be zeros", mistake="bias_gradient")
def l2_regularisation_bias_gradient(layers, reg):
    penalty = sum(reg * np.sum(w**2) for w, _ in layers)
    return penalty, [(2 * reg * w, 2 * reg * b) for w, b in layers]


@wrong("l2_regularisation", says="2 * reg * w, not reg * w", mistake="no_two")
def l2_regularisation_no_two(layers, reg):
    penalty = sum(reg * np.sum(w**2) for w, _ in layers)
    return penalty, [(reg * w, np.zeros_like(b)) for w, b in layers]


@wrong("l2_regularisation", says="reg * sum(w ** 2), without 1/2", mistake="half")
def l2_regularisation_half(layers, reg):
    penalty = sum(reg / 2 * np.sum(w**2) for w, _ in layers)
    return penalty, [(reg * w, np.zeros_like(b)) for w, b in layers]


@wrong("l2_regularisation", says="do not average", mistake="mean")
def l2_regularisation_mean(layers, reg):
    penalty = sum(reg * np.mean(w**2) for w, _ in layers)
    return penalty, [(2 * reg * w / w.size, np.zeros_like(b)) for w, b in layers]


@wrong("l2_regularisation", says="not None")
def l2_regularisation_none(layers, reg):
    penalty = sum(reg * np.sum(w**2) for w, _ in layers)
    return penalty, [(2 * reg * w, None) for w, _ in layers]


@wrong("l2_regularisation", says="every layer", mistake="last_layer")
def l2_regularisation_last_layer(layers, reg):
    w, b = layers[-1]
    grads = [(np.zeros_like(w), np.zeros_like(b)) for w, b in layers[:-1]]
    return reg * np.sum(w**2), [*grads, (2 * reg * w, np.zeros_like(b))]


@wrong(
    "l2_regularisation",
    says="in place",  # the visible check also says what is wrong (not the hidden ones)
)
def l2_regularisation_in_place_no_two(layers, reg):
    penalty, grads = 0.0, []
    for w, b in layers:
        penalty += reg * np.sum(w**2)
        w *= reg
        grads.append((w, np.zeros_like(b)))
    return penalty, grads


@wrong("l1_regularisation", says="regularising the biases", mistake="penalised_biases")
def l1_regularisation_biases(layers, reg):
    penalty = sum(reg * (np.sum(np.abs(w)) + np.sum(np.abs(b))) for w, b in layers)
    return penalty, [(reg * np.sign(w), reg * np.sign(b)) for w, b in layers]


@wrong("l1_regularisation", says="sign(w) (np.sign), not w.", mistake="gradient_w")
def l1_regularisation_gradient_w(layers, reg):
    penalty = sum(reg * np.sum(np.abs(w)) for w, _ in layers)
    return penalty, [(reg * w, np.zeros_like(b)) for w, b in layers]


@wrong("l1_regularisation", says="not |w|", mistake="gradient_abs")
def l1_regularisation_gradient_abs(layers, reg):
    penalty = sum(reg * np.sum(np.abs(w)) for w, _ in layers)
    return penalty, [(reg * np.abs(w), np.zeros_like(b)) for w, b in layers]


@wrong("l1_regularisation", says="not w ** 2", mistake="squares")
def l1_regularisation_squares(layers, reg):
    penalty = sum(reg * np.sum(w**2) for w, _ in layers)
    return penalty, [(reg * np.sign(w), np.zeros_like(b)) for w, b in layers]


@wrong("l1_regularisation", says="multiply the gradient by reg", mistake="no_reg")
def l1_regularisation_no_reg(layers, reg):
    penalty = sum(reg * np.sum(np.abs(w)) for w, _ in layers)
    return penalty, [(np.sign(w), np.zeros_like(b)) for w, b in layers]


@wrong("l1_regularisation", says="reg * sum(|w|), without 1/2", mistake="half")
def l1_regularisation_half(layers, reg):
    penalty = sum(reg / 2 * np.sum(np.abs(w)) for w, _ in layers)
    return penalty, [(reg / 2 * np.sign(w), np.zeros_like(b)) for w, b in layers]


@wrong("l1_regularisation", says="do not average them: reg * sum(|w|)", mistake="mean")
def l1_regularisation_mean(layers, reg):
    penalty = sum(reg * np.mean(np.abs(w)) for w, _ in layers)
    return penalty, [(reg * np.sign(w) / w.size, np.zeros_like(b)) for w, b in layers]


@wrong("l1_regularisation", says="every layer", mistake="last_layer")
def l1_regularisation_last_layer(layers, reg):
    w, b = layers[-1]
    grads = [(np.zeros_like(w), np.zeros_like(b)) for w, b in layers[:-1]]
    return reg * np.sum(np.abs(w)), [*grads, (reg * np.sign(w), np.zeros_like(b))]


@wrong(
    "l1_regularisation",
    says="in place",  # the visible check also says what is wrong (not the hidden ones)
)
def l1_regularisation_in_place_no_reg(layers, reg):
    penalty, grads = 0.0, []
    for w, b in layers:
        penalty += reg * np.sum(np.abs(w))
        np.sign(w, out=w)
        grads.append((w, np.zeros_like(b)))
    return penalty, grads


@right("l2_regularisation")
def l2_regularisation_norm(layers, reg):
    penalty = reg * sum(np.linalg.norm(w) ** 2 for w, _ in layers)
    return penalty, [[2 * reg * w, 0 * b] for w, b in layers]


@right("l1_regularisation")
def l1_regularisation_norm(layers, reg):
    penalty = reg * sum(np.linalg.norm(w.ravel(), 1) for w, _ in layers)
    return penalty, [[reg * np.sign(w), np.zeros(b.shape)] for w, b in layers]
