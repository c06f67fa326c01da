"""Wrong answers to notebook 05 (the references are the solution notebook's own functions).

The two-layer steps, the ReLU network and train_network have many variants of one body, so
a private helper with a ``mistake`` switch writes them, and each wrong answer is a thin,
named function around it.
"""

import numpy as np

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


# --- sigmoid -------------------------------------------------------------------------


@wrong("sigmoid", says="minus sign")
def sigmoid_sign(x):
    return 1 / (1 + np.exp(x))


@wrong("sigmoid", says="that is tanh")
def sigmoid_tanh(x):
    return np.tanh(x)


@wrong("sigmoid", says="the derivative")
def sigmoid_derivative(x):
    s = 1 / (1 + np.exp(-x))
    return s * (1 - s)


@wrong("sigmoid", says="NaN for large inputs")
def sigmoid_unstable(x):
    return np.exp(x) / (1 + np.exp(x))


@wrong("sigmoid", says="in place")
def sigmoid_in_place(x):
    np.negative(x, out=x)
    np.exp(x, out=x)
    x += 1
    return 1 / x


@wrong("sigmoid", says="not 1 / (1 + exp(-x))")
def sigmoid_minus_one(x):
    return 1 / (1 - np.exp(-x))


# --- relu ----------------------------------------------------------------------------


@wrong("relu", says="absolute value")
def relu_abs(x):
    return np.abs(x)


@wrong("relu", says="does not stop at 1")
def relu_clip(x):
    return np.clip(x, 0, 1)


@wrong("relu", says="derivative of ReLU")
def relu_derivative(x):
    return (x > 0).astype(x.dtype)


@wrong("relu", says="leaky ReLU")
def relu_leaky(x):
    return np.where(x > 0, x, 0.01 * x)


@wrong("relu", says="np.maximum(x, 0) compares")
def relu_max(x):
    return np.max(x, 0)


@wrong("relu", says="in place")
def relu_in_place(x):
    x[x < 0] = 0
    return x


@wrong("relu", says="keep the input's dtype")
def relu_float64(x):
    return np.maximum(x, 0).astype(float)


# --- learn_once_mse and learn_once_cross_entropy ---------------------------------------


def two_layer_step(w1, b1, w2, b2, data, last, learning_rate, output, mistake=None):
    """One gradient step of the two-layer network with one of the mistakes below."""
    z1 = data @ w1 + b1
    a1 = 1 / (1 + np.exp(-z1))
    z2 = a1 @ w2 + b2
    n = len(data)
    if output == "mse":
        targets = last
        a2 = 1 / (1 + np.exp(-z2))
        loss = np.mean((a2 - targets) ** 2)
        d_a2 = 2 * (a2 - targets) / a2.size
        if mistake == "batch factor":
            d_a2 = 2 * (a2 - targets) / a2.shape[1]
        if mistake == "sum":
            d_a2 = 2 * (a2 - targets)
        if mistake == "output derivative":
            d_z2 = d_a2
        elif mistake == "z derivative":
            d_z2 = d_a2 * z2 * (1 - z2)
        else:
            d_z2 = d_a2 * a2 * (1 - a2)
    else:
        targets = np.eye(w2.shape[1])[last]
        a2 = softmax(z2, stable=mistake != "unstable")
        loss = -np.sum(targets * np.log(a2)) / n
        d_z2 = (a2 - targets) / (1 if mistake == "batch factor" else n)
        if mistake == "softmax derivative":
            d_z2 = d_z2 * a2 * (1 - a2)
    d_w2 = a1.T @ d_z2
    d_b2 = np.sum(d_z2, axis=0, keepdims=True)
    if mistake == "bias not summed":
        d_b2 = d_z2
    if mistake == "bias mean":
        d_b2 = np.mean(d_z2, axis=0, keepdims=True)
    if mistake == "bias sum all":
        d_b2 = np.sum(d_z2)
    backward_w2 = w2 - learning_rate * d_w2 if mistake == "updated w2" else w2
    d_a1 = d_z2 @ backward_w2.T
    if mistake == "hidden derivative":
        d_z1 = d_a1
    elif mistake == "z derivative":
        d_z1 = d_a1 * z1 * (1 - z1)
    else:
        d_z1 = d_a1 * a1 * (1 - a1)
    d_w1 = data.T @ d_z1
    d_b1 = np.sum(d_z1, axis=0, keepdims=True)
    if mistake == "bias not summed":
        d_b1 = d_z1
    if mistake == "bias mean":
        d_b1 = np.mean(d_z1, axis=0, keepdims=True)
    sign = -1 if mistake == "ascent" else 1
    new = [p - sign * learning_rate * g for p, g in zip([w1, b1, w2, b2], [d_w1, d_b1, d_w2, d_b2])]
    if mistake == "loss after update":
        loss = two_layer_step(*new, data, last, learning_rate, output)[4]
    if mistake == "loss sum":
        loss = loss * n * (targets.shape[1] if output == "mse" else 1)
    return (*new, loss)


def mse_answer(mistake, says):
    def learn_once_mse(w1, b1, w2, b2, data, targets, learning_rate):
        return two_layer_step(w1, b1, w2, b2, data, targets, learning_rate, "mse", mistake)

    learn_once_mse.__name__ = f"learn_once_mse_{mistake.replace(' ', '_')}"
    wrong("learn_once_mse", says=says)(learn_once_mse)


def cross_entropy_answer(mistake, says):
    def learn_once_cross_entropy(w1, b1, w2, b2, data, labels_train, learning_rate):
        return two_layer_step(w1, b1, w2, b2, data, labels_train, learning_rate, "ce", mistake)

    learn_once_cross_entropy.__name__ = f"learn_once_cross_entropy_{mistake.replace(' ', '_')}"
    wrong("learn_once_cross_entropy", says=says)(learn_once_cross_entropy)


mse_answer("batch factor", says="batch-size factor")
mse_answer("sum", says="N x d_out")
mse_answer("output derivative", says="derivative of the output sigmoid")
mse_answer("hidden derivative", says="derivative of the hidden sigmoid")
mse_answer("z derivative", says="you used z * (1 - z)")
mse_answer("bias not summed", says="not summed over the batch")
mse_answer("bias mean", says="you averaged over the batch")
mse_answer("updated w2", says="backpropagated through the updated w2")
mse_answer("ascent", says="goes uphill")
mse_answer("loss after update", says="loss after the update")
mse_answer("loss sum", says="a mean, not a sum")

cross_entropy_answer("batch factor", says="batch-size factor")
cross_entropy_answer("hidden derivative", says="derivative of the hidden sigmoid")
cross_entropy_answer("softmax derivative", says="do not multiply by a2 * (1 - a2)")
cross_entropy_answer("bias not summed", says="not summed over the batch")
cross_entropy_answer("bias sum all", says="summed d_z over all its axes")
cross_entropy_answer("unstable", says="np.exp(1000) overflows")
cross_entropy_answer("loss after update", says="loss after the update")


@wrong("learn_once_mse", says="in place")
def learn_once_mse_in_place(w1, b1, w2, b2, data, targets, learning_rate):
    *new, loss = solution.learn_once_mse(w1, b1, w2, b2, data, targets, learning_rate)
    for old, value in zip([w1, b1, w2, b2], new):
        old -= old - value  # w1 -= learning_rate * d_w1
    return w1, b1, w2, b2, loss


# --- forward -------------------------------------------------------------------------


def hidden(w1, b1, data):
    return 1 / (1 + np.exp(-(data @ w1 + b1)))


@wrong("forward", says="not a sigmoid")
def forward_sigmoid_output(w1, b1, w2, b2, data):
    return 1 / (1 + np.exp(-(hidden(w1, b1, data) @ w2 + b2)))


@wrong("forward", says="you returned the scores z2")
def forward_scores(w1, b1, w2, b2, data):
    return hidden(w1, b1, data) @ w2 + b2


@wrong("forward", says="each row (one sample) must sum to 1")
def forward_softmax_columns(w1, b1, w2, b2, data):
    return softmax(hidden(w1, b1, data) @ w2 + b2, axis=0)


@wrong("forward", says="apply the sigmoid to the hidden layer")
def forward_linear_hidden(w1, b1, w2, b2, data):
    return softmax((data @ w1 + b1) @ w2 + b2)


@wrong("forward", says="np.exp(1000) overflows")
def forward_unstable(w1, b1, w2, b2, data):
    return softmax(hidden(w1, b1, data) @ w2 + b2, stable=False)


@wrong("forward", says="predicted classes")
def forward_labels(w1, b1, w2, b2, data):
    return np.argmax(hidden(w1, b1, data) @ w2 + b2, axis=1)


# --- train_mlp -----------------------------------------------------------------------


def accuracy_of(w1, b1, w2, b2, data, labels):
    return np.mean(forward(w1, b1, w2, b2, data).argmax(axis=1) == labels)


@wrong("train_mlp", says="one single step")
def train_mlp_from_initial_weights(
    w1, b1, w2, b2, data_train, labels_train, learning_rate, num_epoch
):
    accuracies = []
    for _ in range(num_epoch):
        new = learn_once_cross_entropy(w1, b1, w2, b2, data_train, labels_train, learning_rate)
        accuracies.append(accuracy_of(*new[:4], data_train, labels_train))
    return (*new[:4], accuracies)


@wrong("train_mlp", says="returned the initial weights")
def train_mlp_returns_initial(w1, b1, w2, b2, data_train, labels_train, learning_rate, num_epoch):
    new, accuracies = (w1, b1, w2, b2), []
    for _ in range(num_epoch):
        new = learn_once_cross_entropy(*new[:4], data_train, labels_train, learning_rate)
        accuracies.append(accuracy_of(*new[:4], data_train, labels_train))
    return w1, b1, w2, b2, accuracies


@wrong("train_mlp", says="one step too few")
def train_mlp_off_by_one(w1, b1, w2, b2, data_train, labels_train, learning_rate, num_epoch):
    accuracies = [accuracy_of(w1, b1, w2, b2, data_train, labels_train)]
    for _ in range(1, num_epoch):
        w1, b1, w2, b2, _ = learn_once_cross_entropy(
            w1, b1, w2, b2, data_train, labels_train, learning_rate
        )
        accuracies.append(accuracy_of(w1, b1, w2, b2, data_train, labels_train))
    return w1, b1, w2, b2, accuracies


@wrong("train_mlp", says="not percentages")
def train_mlp_percent(w1, b1, w2, b2, data_train, labels_train, learning_rate, num_epoch):
    *weights, accuracies = solution.train_mlp(
        w1, b1, w2, b2, data_train, labels_train, learning_rate, num_epoch
    )
    return (*weights, [100 * a for a in accuracies])


@wrong("train_mlp", says="one accuracy per epoch")
def train_mlp_last_accuracy(w1, b1, w2, b2, data_train, labels_train, learning_rate, num_epoch):
    *weights, accuracies = solution.train_mlp(
        w1, b1, w2, b2, data_train, labels_train, learning_rate, num_epoch
    )
    return (*weights, accuracies[-1])


@wrong("train_mlp", says="steps of learn_once_cross_entropy")
def train_mlp_with_mse(w1, b1, w2, b2, data_train, labels_train, learning_rate, num_epoch):
    targets = np.eye(w2.shape[1])[labels_train]
    accuracies = []
    for _ in range(num_epoch):
        w1, b1, w2, b2, _ = solution.learn_once_mse(
            w1, b1, w2, b2, data_train, targets, learning_rate
        )
        accuracies.append(accuracy_of(w1, b1, w2, b2, data_train, labels_train))
    return w1, b1, w2, b2, accuracies


# --- test_mlp ------------------------------------------------------------------------


@wrong("test_mlp", says="number of correct predictions")
def test_mlp_count(w1, b1, w2, b2, data_test, labels_test):
    return np.sum(forward(w1, b1, w2, b2, data_test).argmax(axis=1) == labels_test)


@wrong("test_mlp", says="error rate")
def test_mlp_error_rate(w1, b1, w2, b2, data_test, labels_test):
    return np.mean(forward(w1, b1, w2, b2, data_test).argmax(axis=1) != labels_test)


@wrong("test_mlp", says="not a percentage")
def test_mlp_percent(w1, b1, w2, b2, data_test, labels_test):
    return 100 * np.mean(forward(w1, b1, w2, b2, data_test).argmax(axis=1) == labels_test)


@wrong("test_mlp", says="one value per sample")
def test_mlp_per_sample(w1, b1, w2, b2, data_test, labels_test):
    return forward(w1, b1, w2, b2, data_test).argmax(axis=1) == labels_test


@wrong("test_mlp", says="raised ValueError")
def test_mlp_argmax_columns(w1, b1, w2, b2, data_test, labels_test):
    return np.mean(forward(w1, b1, w2, b2, data_test).argmax(axis=0) == labels_test)


# --- run_mlp_training ----------------------------------------------------------------


def run_with(
    data_train,
    labels_train,
    data_test,
    labels_test,
    d_h,
    learning_rate,
    num_epoch,
    init,
    d_out=None,
    test_on_train=False,
):
    d_in = data_train.shape[1]
    d_out = d_out or int(labels_train.max()) + 1
    w1, w2 = init(d_in, d_h), init(d_h, d_out)
    b1, b2 = np.zeros((1, d_h)), np.zeros((1, d_out))
    w1, b1, w2, b2, accuracies = train_mlp(
        w1, b1, w2, b2, data_train, labels_train, learning_rate, num_epoch
    )
    if test_on_train:
        return accuracies, test_mlp(w1, b1, w2, b2, data_train, labels_train)
    return accuracies, test_mlp(w1, b1, w2, b2, data_test, labels_test)


def xavier(fan_in, fan_out, rng=None):
    limit = np.sqrt(6 / (fan_in + fan_out))
    return (rng or np.random.default_rng(0)).uniform(-limit, limit, size=(fan_in, fan_out))


@wrong("run_mlp_training", says="all values of the initial w1 are equal")
def run_mlp_training_zeros(
    data_train, labels_train, data_test, labels_test, d_h, learning_rate, num_epoch
):
    return run_with(
        data_train,
        labels_train,
        data_test,
        labels_test,
        d_h,
        learning_rate,
        num_epoch,
        init=lambda i, o: np.zeros((i, o)),
    )


@wrong("run_mlp_training", says="fix the seed")
def run_mlp_training_unseeded(
    data_train, labels_train, data_test, labels_test, d_h, learning_rate, num_epoch
):
    rng = np.random.default_rng()
    return run_with(
        data_train,
        labels_train,
        data_test,
        labels_test,
        d_h,
        learning_rate,
        num_epoch,
        init=lambda i, o: xavier(i, o, rng),
    )


@wrong("run_mlp_training", says="not centred on 0")
def run_mlp_training_rand(
    data_train, labels_train, data_test, labels_test, d_h, learning_rate, num_epoch
):
    rng = np.random.default_rng(0)
    return run_with(
        data_train,
        labels_train,
        data_test,
        labels_test,
        d_h,
        learning_rate,
        num_epoch,
        init=lambda i, o: rng.random((i, o)),
    )


@wrong("run_mlp_training", says="outside Xavier's range")
def run_mlp_training_normal(
    data_train, labels_train, data_test, labels_test, d_h, learning_rate, num_epoch
):
    rng = np.random.default_rng(0)
    return run_with(
        data_train,
        labels_train,
        data_test,
        labels_test,
        d_h,
        learning_rate,
        num_epoch,
        init=lambda i, o: rng.normal(size=(i, o)),
    )


@wrong("run_mlp_training", says="one output per class")
def run_mlp_training_ten_classes(
    data_train, labels_train, data_test, labels_test, d_h, learning_rate, num_epoch
):
    return run_with(
        data_train,
        labels_train,
        data_test,
        labels_test,
        d_h,
        learning_rate,
        num_epoch,
        init=xavier,
        d_out=10,
    )


@wrong("run_mlp_training", says="measured on the training data")
def run_mlp_training_test_on_train(
    data_train, labels_train, data_test, labels_test, d_h, learning_rate, num_epoch
):
    return run_with(
        data_train,
        labels_train,
        data_test,
        labels_test,
        d_h,
        learning_rate,
        num_epoch,
        init=xavier,
        test_on_train=True,
    )


@wrong("run_mlp_training", says="rows and columns are swapped")
def run_mlp_training_transposed(
    data_train, labels_train, data_test, labels_test, d_h, learning_rate, num_epoch
):
    return run_with(
        data_train,
        labels_train,
        data_test,
        labels_test,
        d_h,
        learning_rate,
        num_epoch,
        init=lambda i, o: xavier(o, i),
    )


# --- minibatches ---------------------------------------------------------------------


def cut(data, labels, order, batch_size):
    return [
        (data[order[start : start + batch_size]], labels[order[start : start + batch_size]])
        for start in range(0, len(data), batch_size)
    ]


@wrong("minibatches", says="shuffle them first")
def minibatches_unshuffled(data, labels, batch_size, rng):
    return cut(data, labels, np.arange(len(data)), batch_size)


@wrong("minibatches", says="dropped the last")
def minibatches_drop_last(data, labels, batch_size, rng):
    order = rng.permutation(len(data))
    full = len(data) // batch_size * batch_size
    return cut(data[:full], labels[:full], order[order < full], batch_size)


@wrong("minibatches", says="no longer aligned")
def minibatches_two_permutations(data, labels, batch_size, rng):
    data, labels = data[rng.permutation(len(data))], labels[rng.permutation(len(data))]
    return cut(data, labels, np.arange(len(data)), batch_size)


@wrong("minibatches", says="with replacement")
def minibatches_with_replacement(data, labels, batch_size, rng):
    return cut(data, labels, rng.integers(0, len(data), size=len(data)), batch_size)


@wrong("minibatches", says="with the rng argument")
def minibatches_global_random(data, labels, batch_size, rng):
    return cut(data, labels, np.random.permutation(len(data)), batch_size)


@wrong("minibatches", says="whatever the generator")
def minibatches_fixed_generator(data, labels, batch_size, rng):
    return cut(data, labels, np.random.default_rng(0).permutation(len(data)), batch_size)


@wrong("minibatches", says="in place")
def minibatches_shuffle_in_place(data, labels, batch_size, rng):
    order = rng.permutation(len(data))
    data[:], labels[:] = data[order], labels[order]
    return cut(data, labels, np.arange(len(data)), batch_size)


# --- momentum_step -------------------------------------------------------------------


@wrong("momentum_step", says="momentum sign error")
def momentum_step_plus_gradient(param, grad, velocity, learning_rate, beta):
    velocity = beta * velocity + learning_rate * grad
    return param + velocity, velocity


@wrong("momentum_step", says="momentum sign error")
def momentum_step_minus_velocity(param, grad, velocity, learning_rate, beta):
    velocity = beta * velocity - learning_rate * grad
    return param - velocity, velocity


@wrong("momentum_step", says="by the new velocity")
def momentum_step_old_velocity(param, grad, velocity, learning_rate, beta):
    return param + velocity, beta * velocity - learning_rate * grad


@wrong("momentum_step", says="keep beta times the previous velocity")
def momentum_step_no_beta(param, grad, velocity, learning_rate, beta):
    velocity = -learning_rate * grad
    return param + velocity, velocity


@wrong("momentum_step", says="includes the learning rate")
def momentum_step_torch_convention(param, grad, velocity, learning_rate, beta):
    velocity = beta * velocity + grad
    return param - learning_rate * velocity, velocity


@wrong("momentum_step", says="param first")
def momentum_step_swapped(param, grad, velocity, learning_rate, beta):
    velocity = beta * velocity - learning_rate * grad
    return velocity, param + velocity


@wrong("momentum_step", says="in place")
def momentum_step_in_place(param, grad, velocity, learning_rate, beta):
    velocity *= beta
    velocity -= learning_rate * grad
    param += velocity
    return param, velocity


# --- adam_step -----------------------------------------------------------------------


@wrong("adam_step", says="without bias correction")
def adam_step_no_bias_correction(param, grad, m, v, t, learning_rate, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    return param - learning_rate * m / (np.sqrt(v) + eps), m, v


@wrong("adam_step", says="after the square root")
def adam_step_eps_in_sqrt(param, grad, m, v, t, learning_rate, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
    return param - learning_rate * m_hat / np.sqrt(v_hat + eps), m, v


@wrong("adam_step", says="squared gradients")
def adam_step_grad_not_squared(param, grad, m, v, t, learning_rate, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad
    m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
    return param - learning_rate * m_hat / (np.sqrt(v_hat) + eps), m, v


@wrong("adam_step", says="not the corrected")
def adam_step_returns_corrected(param, grad, m, v, t, learning_rate, beta1, beta2, eps):
    m = (beta1 * m + (1 - beta1) * grad) / (1 - beta1**t)
    v = (beta2 * v + (1 - beta2) * grad**2) / (1 - beta2**t)
    return param - learning_rate * m / (np.sqrt(v) + eps), m, v


@wrong("adam_step", says="t is the step number")
def adam_step_t_from_zero(param, grad, m, v, t, learning_rate, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad**2
    m_hat, v_hat = m / (1 - beta1 ** (t + 1)), v / (1 - beta2 ** (t + 1))
    return param - learning_rate * m_hat / (np.sqrt(v_hat) + eps), m, v


@wrong("adam_step", says="in place")
def adam_step_in_place(param, grad, m, v, t, learning_rate, beta1, beta2, eps):
    m *= beta1
    m += (1 - beta1) * grad
    v *= beta2
    v += (1 - beta2) * grad**2
    param -= learning_rate * (m / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + eps)
    return param, m, v


# --- decayed_learning_rate -----------------------------------------------------------


@wrong("decayed_learning_rate", says="exponential decay")
def decayed_learning_rate_exponential(eta0, t, d):
    return eta0 * np.exp(-d * t)


@wrong("decayed_learning_rate", says="decays exponentially")
def decayed_learning_rate_power(eta0, t, d):
    return eta0 / (1 + d) ** t


@wrong("decayed_learning_rate", says="at t = 0")
def decayed_learning_rate_parentheses(eta0, t, d):
    return eta0 / (1 + t) * d


@wrong("decayed_learning_rate", says="ZeroDivisionError")
def decayed_learning_rate_no_one(eta0, t, d):
    return eta0 / (t * d)


@wrong("decayed_learning_rate", says="linear decay")
def decayed_learning_rate_linear(eta0, t, d):
    return eta0 * (1 - t * d)


@wrong("decayed_learning_rate", says="array of step numbers")
def decayed_learning_rate_if(eta0, t, d):
    if t == 0:
        return eta0
    return eta0 / (1 + t * d)


# --- l2_regularisation and l1_regularisation ---------------------------------------------


@wrong("l2_regularisation", says="regularising the biases")
def l2_regularisation_biases(layers, reg):
    penalty = sum(reg * (np.sum(w**2) + np.sum(b**2)) for w, b in layers)
    return penalty, [(2 * reg * w, 2 * reg * b) for w, b in layers]


@wrong("l2_regularisation", says="regularising the biases")
def l2_regularisation_bias_gradient(layers, reg):
    penalty = sum(reg * np.sum(w**2) for w, _ in layers)
    return penalty, [(2 * reg * w, 2 * reg * b) for w, b in layers]


@wrong("l2_regularisation", says="2 * reg * w")
def l2_regularisation_no_two(layers, reg):
    penalty = sum(reg * np.sum(w**2) for w, _ in layers)
    return penalty, [(reg * w, np.zeros_like(b)) for w, b in layers]


@wrong("l2_regularisation", says="without 1/2")
def l2_regularisation_half(layers, reg):
    penalty = sum(reg / 2 * np.sum(w**2) for w, _ in layers)
    return penalty, [(reg * w, np.zeros_like(b)) for w, b in layers]


@wrong("l2_regularisation", says="do not average")
def l2_regularisation_mean(layers, reg):
    penalty = sum(reg * np.mean(w**2) for w, _ in layers)
    return penalty, [(2 * reg * w / w.size, np.zeros_like(b)) for w, b in layers]


@wrong("l2_regularisation", says="not None")
def l2_regularisation_none(layers, reg):
    penalty = sum(reg * np.sum(w**2) for w, _ in layers)
    return penalty, [(2 * reg * w, None) for w, _ in layers]


@wrong("l2_regularisation", says="every layer")
def l2_regularisation_last_layer(layers, reg):
    w, b = layers[-1]
    grads = [(np.zeros_like(w), np.zeros_like(b)) for w, b in layers[:-1]]
    return reg * np.sum(w**2), [*grads, (2 * reg * w, np.zeros_like(b))]


@wrong("l1_regularisation", says="regularising the biases")
def l1_regularisation_biases(layers, reg):
    penalty = sum(reg * (np.sum(np.abs(w)) + np.sum(np.abs(b))) for w, b in layers)
    return penalty, [(reg * np.sign(w), reg * np.sign(b)) for w, b in layers]


@wrong("l1_regularisation", says="sign(w) (np.sign), not w")
def l1_regularisation_gradient_w(layers, reg):
    penalty = sum(reg * np.sum(np.abs(w)) for w, _ in layers)
    return penalty, [(reg * w, np.zeros_like(b)) for w, b in layers]


@wrong("l1_regularisation", says="not |w|")
def l1_regularisation_gradient_abs(layers, reg):
    penalty = sum(reg * np.sum(np.abs(w)) for w, _ in layers)
    return penalty, [(reg * np.abs(w), np.zeros_like(b)) for w, b in layers]


@wrong("l1_regularisation", says="not w ** 2")
def l1_regularisation_squares(layers, reg):
    penalty = sum(reg * np.sum(w**2) for w, _ in layers)
    return penalty, [(reg * np.sign(w), np.zeros_like(b)) for w, b in layers]


@wrong("l1_regularisation", says="multiply the gradient by reg")
def l1_regularisation_no_reg(layers, reg):
    penalty = sum(reg * np.sum(np.abs(w)) for w, _ in layers)
    return penalty, [(np.sign(w), np.zeros_like(b)) for w, b in layers]


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
