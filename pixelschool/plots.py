"""Figures the notebooks share."""

import matplotlib.pyplot as plt
import numpy as np


def sample_grid(images, labels, class_names, per_class=8, seed=0):
    """Show ``per_class`` random images of every class, one class per row.

    images: (N, H, W, C) or (N, H, W), uint8 or floats in [0, 1]; labels: (N,) ints.
    Returns the matplotlib figure: one mosaic image, because a subplot per image (80 of them)
    takes matplotlib over a second to lay out and draw.
    """
    rng = np.random.default_rng(seed)
    tile = np.squeeze(np.asarray(images[0]))  # (H, W) grey or (H, W, C) colour
    top = 255 if tile.dtype == np.uint8 else 1.0  # no per-image contrast stretch
    height, width = tile.shape[:2]
    gap = max(1, height // 14)
    rows = len(class_names)
    mosaic = np.ones(
        (rows * (height + gap) - gap, per_class * (width + gap) - gap, *tile.shape[2:])
    )  # white between and where a class has too few images
    for row in range(rows):
        members = np.flatnonzero(labels == row)
        picks = rng.choice(members, size=min(per_class, len(members)), replace=False)
        for col, index in enumerate(picks):
            y, x = row * (height + gap), col * (width + gap)
            mosaic[y : y + height, x : x + width] = np.squeeze(images[index]) / top
    fig, ax = plt.subplots(figsize=(per_class * 0.9, rows * 0.95))
    grey = mosaic.ndim == 2
    ax.imshow(mosaic, cmap="gray" if grey else None, vmin=0, vmax=1, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([r * (height + gap) + (height - 1) / 2 for r in range(rows)])
    ax.set_yticklabels(class_names, fontsize=9)
    ax.tick_params(length=0)
    for side in ax.spines.values():
        side.set_visible(False)
    fig.suptitle(f"{per_class} random samples per class")
    fig.tight_layout()
    return fig


def training_curves(history, title=None):
    """Loss and accuracy per epoch, on training and validation data, side by side.

    history: {"train_loss": [...], "val_loss": [...], "train_accuracy": [...],
    "val_accuracy": [...]}, one value per epoch (lists of the same length E).
    Returns the matplotlib figure (two axes: loss, then accuracy, epochs 1..E on x).
    """
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    epochs = np.arange(1, len(history["train_loss"]) + 1)
    for ax, metric, unit in zip(axes, ["loss", "accuracy"], ["nats", "fraction"]):
        for split, style in [("train", "o-"), ("val", "s-")]:
            label = "training" if split == "train" else "validation"
            ax.plot(epochs, history[f"{split}_{metric}"], style, markersize=3, label=label)
        ax.set_xlabel("epoch")
        ax.set_ylabel(f"{metric} ({unit})")
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def weight_images(w, shape, count=64, columns=16, title=None):
    """The first ``count`` columns of a first layer's weights ``w`` (D, H), each reshaped to
    ``shape`` (D = its product) and shown as an image, in one mosaic.

    Each image is scaled by its own largest absolute weight: red positive, blue negative,
    white 0. Returns the matplotlib figure.
    """
    w = np.asarray(w, dtype=np.float64)
    count = min(count, w.shape[1])
    rows = -(-count // columns)
    height, width = shape
    gap = 1
    mosaic = np.full((rows * (height + gap) - gap, columns * (width + gap) - gap), np.nan)
    for k in range(count):
        tile = w[:, k].reshape(shape)
        y, x = (k // columns) * (height + gap), (k % columns) * (width + gap)
        mosaic[y : y + height, x : x + width] = tile / max(np.abs(tile).max(), 1e-12)
    fig, ax = plt.subplots(figsize=(columns * 0.6, rows * 0.6 + 0.5))
    cmap = plt.get_cmap("bwr").copy()
    cmap.set_bad("white")
    ax.imshow(mosaic, cmap=cmap, vmin=-1, vmax=1, interpolation="nearest")
    ax.axis("off")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig
