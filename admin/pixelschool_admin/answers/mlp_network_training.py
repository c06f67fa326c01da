"""Wrong answers to notebook 05: train_network.

The references are the solution notebook's own functions; the checks are in
pixelschool/checks/mlp_network_training.py. A wrong answer with ``mistake=`` has its results
recorded: the check names that mistake when a student's results match them."""

import numpy as np

from pixelschool_admin.answers.registry import right, solution_functions, wrong

solution = solution_functions("05_mlp")


# --- train_network -------------------------------------------------------------------


def shuffled_index(data, labels, batch_size, rng):
    """Batches cut from an index shuffled in place (other draws than rng.permutation)."""
    index = np.arange(len(data))
    rng.shuffle(index)
    return [
        (data[index[start : start + batch_size]], labels[index[start : start + batch_size]])
        for start in range(0, len(data), batch_size)
    ]


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
    """train_network with one of the mistakes below (or "shuffled index", a right variant)."""
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
        cut = shuffled_index if mistake == "shuffled index" else solution.minibatches
        for data_batch, labels_batch in cut(data, labels, batch_size, rng):
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


def train_network_with(mistake):
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
    return train_network


def train_answer(mistake, says, key=None):
    wrong("train_network", says=says, mistake=key)(train_network_with(mistake))


right("train_network")(train_network_with("shuffled index"))


train_answer("cost per epoch", says="one per batch")
train_answer("cost without penalties", says="include the penalties", key="cost_without_penalties")
train_answer(
    "no penalty gradients",
    says="add the gradients of the L2 and L1 penalties",
    key="no_penalty_gradients",
)
train_answer("no decay", says="the learning rate must decay", key="no_decay")
train_answer("decay from 1", says="t counts the steps", key="decay_from_one")
train_answer("ignores optimizer", says="ignores optimizer='momentum'", key="ignores_optimizer")
train_answer("unseeded", says="other costs for the same seed")
train_answer("ignores keep_prob", says="ignores keep_prob")
train_answer("in place", says="in place")
train_answer("returns initial layers", says="returned the initial layers")
