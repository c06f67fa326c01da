"""Wrong answers to notebook 05: the ReLU network of any depth, dropout, training.

The references are the solution notebook's own functions; the checks are in
coursekit/checks/mlp_deep.py."""

import numpy as np

from tests.answers.mlp_training import xavier
from tests.answers.registry import solution_functions, wrong

solution = solution_functions("05_mlp")

# What the answers below call by name, as a student's function calls the notebook's globals
# (the run_mlp_training check watches the call of train_mlp).
sigmoid = solution.sigmoid
forward = solution.forward
learn_once_cross_entropy = solution.learn_once_cross_entropy
train_mlp = solution.train_mlp
test_mlp = solution.test_mlp


def softmax(scores, axis=1, stable=True):
    if stable:
        scores = scores - scores.max(axis=axis, keepdims=True)
    exp_scores = np.exp(scores)
    return exp_scores / exp_scores.sum(axis=axis, keepdims=True)


# --- init_layers ---------------------------------------------------------------------


def pairs(sizes):
    return zip(sizes[:-1], sizes[1:])


@wrong("init_layers", says="outside Xavier's range")
def init_layers_normal(sizes, rng):
    return [(rng.normal(size=(i, o)), np.zeros((1, o))) for i, o in pairs(sizes)]


@wrong("init_layers", says="outside Xavier's range")
def init_layers_fan_in(sizes, rng):
    return [
        (rng.uniform(-np.sqrt(6 / i), np.sqrt(6 / i), size=(i, o)), np.zeros((1, o)))
        for i, o in pairs(sizes)
    ]


@wrong("init_layers", says="with the rng argument (rng.uniform)")
def init_layers_global_random(sizes, rng):
    limits = [np.sqrt(6 / (i + o)) for i, o in pairs(sizes)]
    return [
        (np.random.uniform(-limit, limit, size=(i, o)), np.zeros((1, o)))
        for limit, (i, o) in zip(limits, pairs(sizes))
    ]


@wrong("init_layers", says="rows and columns are swapped")
def init_layers_transposed(sizes, rng):
    return [(xavier(o, i, rng), np.zeros((1, o))) for i, o in pairs(sizes)]


@wrong("init_layers", says="biases should start at zero")
def init_layers_random_biases(sizes, rng):
    return [(xavier(i, o, rng), xavier(1, o, rng)) for i, o in pairs(sizes)]


@wrong("init_layers", says="one row that is added to every sample")
def init_layers_flat_biases(sizes, rng):
    return [(xavier(i, o, rng), np.zeros(o)) for i, o in pairs(sizes)]


@wrong("init_layers", says="not centred on 0")
def init_layers_random(sizes, rng):
    return [(np.sqrt(6 / (i + o)) * rng.random((i, o)), np.zeros((1, o))) for i, o in pairs(sizes)]


# --- relu_network_forward ------------------------------------------------------------


def network_scores(layers, data, activation=lambda z: np.maximum(z, 0)):
    a = data
    for w, b in layers[:-1]:
        a = activation(a @ w + b)
    w, b = layers[-1]
    return a @ w + b


@wrong("relu_network_forward", says="no ReLU on the last layer")
def relu_network_forward_relu_output(layers, data):
    return softmax(np.maximum(network_scores(layers, data), 0))


@wrong("relu_network_forward", says="use ReLU here, not the sigmoid")
def relu_network_forward_sigmoid(layers, data):
    return softmax(network_scores(layers, data, sigmoid))


@wrong("relu_network_forward", says="apply relu after every hidden layer")
def relu_network_forward_linear(layers, data):
    return softmax(network_scores(layers, data, lambda z: z))


@wrong("relu_network_forward", says="any number of (w, b) pairs")
def relu_network_forward_two_layers(layers, data):
    (w1, b1), (w2, b2) = layers
    return softmax(np.maximum(data @ w1 + b1, 0) @ w2 + b2)


@wrong("relu_network_forward", says="scores around 1000")
def relu_network_forward_unstable(layers, data):
    return softmax(network_scores(layers, data), stable=False)


@wrong("relu_network_forward", says="each row (one sample) must sum to 1")
def relu_network_forward_columns(layers, data):
    return softmax(network_scores(layers, data), axis=0)


# --- dropout_forward -----------------------------------------------------------------


@wrong("dropout_forward", says="dropout not rescaled")
def dropout_forward_not_rescaled(a, keep_prob, rng, training):
    if not training:
        return a, np.ones_like(a)
    mask = (rng.random(a.shape) < keep_prob).astype(a.dtype)
    return a * mask, mask


@wrong("dropout_forward", says="dropout applied at test time")
def dropout_forward_always(a, keep_prob, rng, training):
    mask = (rng.random(a.shape) < keep_prob).astype(a.dtype) / keep_prob
    return a * mask, mask


@wrong("dropout_forward", says="inverted dropout does nothing")
def dropout_forward_scaled_at_test(a, keep_prob, rng, training):
    if not training:
        return a * keep_prob, np.full_like(a, keep_prob)
    mask = (rng.random(a.shape) < keep_prob).astype(a.dtype) / keep_prob
    return a * mask, mask


@wrong("dropout_forward", says="probability to KEEP")
def dropout_forward_drop_probability(a, keep_prob, rng, training):
    if not training:
        return a, np.ones_like(a)
    mask = (rng.random(a.shape) < 1 - keep_prob).astype(a.dtype) / keep_prob
    return a * mask, mask


@wrong("dropout_forward", says="with the rng argument (rng.random)")
def dropout_forward_global_random(a, keep_prob, rng, training):
    if not training:
        return a, np.ones_like(a)
    mask = (np.random.random(a.shape) < keep_prob).astype(a.dtype) / keep_prob
    return a * mask, mask


@wrong("dropout_forward", says="float32")
def dropout_forward_float64_mask(a, keep_prob, rng, training):
    if not training:
        return a, np.ones_like(a)
    mask = (rng.random(a.shape) < keep_prob) / keep_prob
    return a * mask, mask


@wrong("dropout_forward", says="return the mask that multiplies a")
def dropout_forward_boolean_mask(a, keep_prob, rng, training):
    if not training:
        return a, np.ones_like(a)
    keep = rng.random(a.shape) < keep_prob
    return a * keep / keep_prob, keep


# --- relu_network_loss_and_grads -----------------------------------------------------


def network_loss_and_grads(layers, data, labels, keep_prob, rng, mistake=None):
    """The ReLU network's loss and gradients, with one of the mistakes below."""
    a, caches = data, []
    for w, b in layers[:-1]:
        z = a @ w + b
        training = keep_prob < 1 and mistake != "no dropout"
        out, mask = solution.dropout_forward(np.maximum(z, 0), keep_prob, rng, training)
        caches.append((a, z, mask))
        a = out
    w, b = layers[-1]
    probs = softmax(a @ w + b)
    n = len(data)
    loss = -np.mean(np.log(probs[np.arange(n), labels]))
    if mistake == "loss sum":
        loss = loss * n
    d_z = probs.copy()
    d_z[np.arange(n), labels] -= 1
    if mistake != "batch factor":
        d_z /= n

    def bias(d_z):
        if mistake == "bias not summed":
            return d_z
        if mistake == "bias mean":
            return np.mean(d_z, axis=0, keepdims=True)
        return np.sum(d_z, axis=0, keepdims=True)

    grads = [(a.T @ d_z, bias(d_z))]
    for i in reversed(range(len(layers) - 1)):
        d_a = d_z @ layers[i + 1][0].T
        a_in, z, mask = caches[i]
        if mistake != "mask not in backward":
            d_a = d_a * mask
        d_z = d_a if mistake == "relu derivative" else d_a * (z > 0)
        grads.insert(0, (a_in.T @ d_z, bias(d_z)))
    return loss, grads


def network_answer(mistake, says):
    def relu_network_loss_and_grads(layers, data, labels, keep_prob, rng):
        return network_loss_and_grads(layers, data, labels, keep_prob, rng, mistake)

    relu_network_loss_and_grads.__name__ = (
        f"relu_network_loss_and_grads_{mistake.replace(' ', '_')}"
    )
    wrong("relu_network_loss_and_grads", says=says)(relu_network_loss_and_grads)


network_answer("batch factor", says="batch-size factor")
network_answer("relu derivative", says="forgot ReLU's derivative")
network_answer("bias not summed", says="not summed over the batch")
network_answer("bias mean", says="you averaged over the batch")
network_answer("no dropout", says="ignores keep_prob")
network_answer("mask not in backward", says="multiply the gradient by the same mask")
network_answer("loss sum", says="not a sum")


@wrong("relu_network_loss_and_grads", says="any number of (w, b) pairs")
def relu_network_loss_and_grads_one_hidden_layer(layers, data, labels, keep_prob, rng):
    (w1, b1), (w2, b2) = layers
    return network_loss_and_grads([(w1, b1), (w2, b2)], data, labels, keep_prob, rng)


# --- train_network -------------------------------------------------------------------


def train(
    layers,
    data,
    labels,
    num_epoch,
    batch_size,
    learning_rate,
    optimizer,
    beta,
    decay,
    reg_l2,
    reg_l1,
    keep_prob,
    seed,
    mistake=None,
):
    """train_network with one of the mistakes below."""
    rng = np.random.default_rng(None if mistake == "unseeded" else seed)
    params = [array for layer in layers for array in layer]
    first = [np.zeros_like(p) for p in params]
    second = [np.zeros_like(p) for p in params]
    costs, t = [], 0
    if mistake == "ignores optimizer":
        optimizer = "sgd"
    if mistake == "ignores keep_prob":
        keep_prob = 1.0
    for _ in range(num_epoch):
        epoch_costs = []
        for data_batch, labels_batch in solution.minibatches(data, labels, batch_size, rng):
            pairs = list(zip(params[::2], params[1::2]))
            loss, grads = solution.relu_network_loss_and_grads(
                pairs, data_batch, labels_batch, keep_prob, rng
            )
            penalty_l2, grads_l2 = solution.l2_regularisation(pairs, reg_l2)
            penalty_l1, grads_l1 = solution.l1_regularisation(pairs, reg_l1)
            cost = loss if mistake == "cost without penalties" else loss + penalty_l2 + penalty_l1
            epoch_costs.append(cost)
            flat = [g for pair in grads for g in pair]
            if mistake != "no penalty gradients":
                extra = [g2 + g1 for p2, p1 in zip(grads_l2, grads_l1) for g2, g1 in zip(p2, p1)]
                flat = [g + e for g, e in zip(flat, extra)]
            step = t + 1 if mistake == "decay from 1" else t
            eta = learning_rate if mistake == "no decay" else learning_rate / (1 + step * decay)
            t += 1
            for k, grad in enumerate(flat):
                if mistake == "in place":
                    params[k] -= eta * grad
                elif optimizer == "sgd":
                    params[k] = params[k] - eta * grad
                elif optimizer == "momentum":
                    params[k], first[k] = solution.momentum_step(
                        params[k], grad, first[k], eta, beta
                    )
                else:
                    params[k], first[k], second[k] = solution.adam_step(
                        params[k], grad, first[k], second[k], t, eta, beta, 0.999, 1e-8
                    )
        costs += [np.mean(epoch_costs)] if mistake == "cost per epoch" else epoch_costs
    if mistake == "returns initial layers":
        return layers, costs
    return list(zip(params[::2], params[1::2])), costs


def train_answer(mistake, says):
    def train_network(
        layers,
        data,
        labels,
        num_epoch,
        batch_size,
        learning_rate,
        optimizer="momentum",
        beta=0.9,
        decay=0.0,
        reg_l2=0.0,
        reg_l1=0.0,
        keep_prob=1.0,
        seed=0,
        progress=False,
    ):
        return train(
            layers,
            data,
            labels,
            num_epoch,
            batch_size,
            learning_rate,
            optimizer,
            beta,
            decay,
            reg_l2,
            reg_l1,
            keep_prob,
            seed,
            mistake,
        )

    train_network.__name__ = f"train_network_{mistake.replace(' ', '_')}"
    wrong("train_network", says=says)(train_network)


train_answer("cost per epoch", says="one per batch")
train_answer("cost without penalties", says="include the penalties")
train_answer("no penalty gradients", says="add the gradients of the L2 and L1 penalties")
train_answer("no decay", says="the learning rate must decay")
train_answer("decay from 1", says="t counts the steps")
train_answer("ignores optimizer", says="ignores optimizer='momentum'")
train_answer("unseeded", says="other costs for the same seed")
train_answer("ignores keep_prob", says="ignores keep_prob")
train_answer("in place", says="in place")
train_answer("returns initial layers", says="returned the initial layers")
