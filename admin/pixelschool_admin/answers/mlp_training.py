"""Wrong answers to notebook 05: training and testing the two-layer network.

The references are the solution notebook's own functions; the checks are in
pixelschool/checks/mlp_training.py. An answer registered with ``mistake=`` has its results
recorded (``make build``): the check names that mistake when a student's results match them.
"""

import numpy as np

from pixelschool_admin.answers.registry import right, solution_functions, wrong

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


# --- train_mlp -----------------------------------------------------------------------


def accuracy_of(w1, b1, w2, b2, data, labels):
    return np.mean(forward(w1, b1, w2, b2, data).argmax(axis=1) == labels)


@wrong("train_mlp", says="one single step", mistake="one_step")
def train_mlp_from_initial_weights(
    w1, b1, w2, b2, data_train, labels_train, learning_rate, num_epoch
):
    accuracies = []
    for _ in range(num_epoch):
        new = learn_once_cross_entropy(w1, b1, w2, b2, data_train, labels_train, learning_rate)
        accuracies.append(accuracy_of(*new[:4], data_train, labels_train))
    return (*new[:4], accuracies)


@wrong("train_mlp", says="returned the initial weights", mistake="initial_weights")
def train_mlp_returns_initial(w1, b1, w2, b2, data_train, labels_train, learning_rate, num_epoch):
    new, accuracies = (w1, b1, w2, b2), []
    for _ in range(num_epoch):
        new = learn_once_cross_entropy(*new[:4], data_train, labels_train, learning_rate)
        accuracies.append(accuracy_of(*new[:4], data_train, labels_train))
    return w1, b1, w2, b2, accuracies


@wrong("train_mlp", says="one step too few", mistake="one_step_too_few")
def train_mlp_off_by_one(w1, b1, w2, b2, data_train, labels_train, learning_rate, num_epoch):
    accuracies = [accuracy_of(w1, b1, w2, b2, data_train, labels_train)]
    for _ in range(1, num_epoch):
        w1, b1, w2, b2, _ = learn_once_cross_entropy(
            w1, b1, w2, b2, data_train, labels_train, learning_rate
        )
        accuracies.append(accuracy_of(w1, b1, w2, b2, data_train, labels_train))
    return w1, b1, w2, b2, accuracies


@wrong("train_mlp", says="one step too many", mistake="one_step_too_many")
def train_mlp_one_step_too_many(w1, b1, w2, b2, data_train, labels_train, learning_rate, num_epoch):
    accuracies = []
    for _ in range(num_epoch + 1):
        w1, b1, w2, b2, _ = learn_once_cross_entropy(
            w1, b1, w2, b2, data_train, labels_train, learning_rate
        )
        accuracies.append(accuracy_of(w1, b1, w2, b2, data_train, labels_train))
    return w1, b1, w2, b2, accuracies[1:]


@wrong("train_mlp", says="after epoch i's step")
def train_mlp_accuracy_of_initial_weights(
    w1, b1, w2, b2, data_train, labels_train, learning_rate, num_epoch
):
    *weights, accuracies = solution.train_mlp(
        w1, b1, w2, b2, data_train, labels_train, learning_rate, num_epoch
    )
    return (*weights, [accuracy_of(w1, b1, w2, b2, data_train, labels_train)] * num_epoch)


@right("train_mlp")
def train_mlp_accuracy_before_the_step(
    w1, b1, w2, b2, data_train, labels_train, learning_rate, num_epoch
):
    """Measures each epoch's accuracy before its step, which the check also accepts."""
    train_accuracies = []
    for _ in range(num_epoch):
        train_accuracies.append(accuracy_of(w1, b1, w2, b2, data_train, labels_train))
        w1, b1, w2, b2, _ = learn_once_cross_entropy(
            w1, b1, w2, b2, data_train, labels_train, learning_rate
        )
    return w1, b1, w2, b2, train_accuracies


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


@wrong("test_mlp", says="number of correct predictions", mistake="count")
def test_mlp_count(w1, b1, w2, b2, data_test, labels_test):
    return np.sum(forward(w1, b1, w2, b2, data_test).argmax(axis=1) == labels_test)


@wrong("test_mlp", says="error rate", mistake="error_rate")
def test_mlp_error_rate(w1, b1, w2, b2, data_test, labels_test):
    return np.mean(forward(w1, b1, w2, b2, data_test).argmax(axis=1) != labels_test)


@wrong("test_mlp", says="not a percentage", mistake="percent")
def test_mlp_percent(w1, b1, w2, b2, data_test, labels_test):
    return 100 * np.mean(forward(w1, b1, w2, b2, data_test).argmax(axis=1) == labels_test)


@wrong("test_mlp", says="one value per sample")
def test_mlp_per_sample(w1, b1, w2, b2, data_test, labels_test):
    return forward(w1, b1, w2, b2, data_test).argmax(axis=1) == labels_test


@wrong("test_mlp", says="raised ValueError")
def test_mlp_argmax_columns(w1, b1, w2, b2, data_test, labels_test):
    return np.mean(forward(w1, b1, w2, b2, data_test).argmax(axis=0) == labels_test)


@right("test_mlp")
def test_mlp_counting(w1, b1, w2, b2, data_test, labels_test):
    predictions = np.argmax(forward(w1, b1, w2, b2, data_test), axis=1)
    return np.sum(predictions == labels_test) / len(labels_test)


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


@wrong("run_mlp_training", says="all values of the initial w1 are equal", mistake="not_xavier")
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


@wrong("run_mlp_training", says="fix the seed", mistake="not_reproducible")
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


@wrong("run_mlp_training", says="not centred on 0", mistake="not_xavier")
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


@wrong("run_mlp_training", says="outside Xavier's range", mistake="not_xavier")
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


@wrong("run_mlp_training", says="one output per class", mistake="output_size")
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


@wrong("run_mlp_training", says="measured on the training data", mistake="tested_on_training_data")
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


@wrong("run_mlp_training", says="rows and columns are swapped", mistake="not_xavier")
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


@right("run_mlp_training")
def run_mlp_training_other_draws(
    data_train, labels_train, data_test, labels_test, d_h, learning_rate, num_epoch
):
    """Draws w2 before w1 from another seed, and measures the test accuracy inline."""
    rng = np.random.default_rng(42)
    d_in, d_out = data_train.shape[1], int(labels_train.max()) + 1
    w2 = rng.uniform(-1, 1, size=(d_h, d_out)) * np.sqrt(6 / (d_h + d_out))
    w1 = rng.uniform(-1, 1, size=(d_in, d_h)) * np.sqrt(6 / (d_in + d_h))
    b1, b2 = np.zeros((1, d_h)), np.zeros((1, d_out))
    w1, b1, w2, b2, accuracies = train_mlp(
        w1, b1, w2, b2, data_train, labels_train, learning_rate, num_epoch
    )
    predictions = forward(w1, b1, w2, b2, data_test).argmax(axis=1)
    return accuracies, np.mean(predictions == labels_test)
