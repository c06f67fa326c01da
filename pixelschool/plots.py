"""Figures the notebooks share."""

import matplotlib.pyplot as plt
import numpy as np


def mosaic(tiles, columns, gap=1, fill=1.0):
    """One image of ``tiles`` laid out ``columns`` a row, in order, ``gap`` pixels apart.

    tiles: a sequence of (h, w) or (h, w, C) arrays of one shape; a None leaves its place
    ``fill``, as the gaps are (1.0 is white on a [0, 1] scale, NaN is a colormap's "bad").
    Returns (rows * (h + gap) - gap, columns * (w + gap) - gap[, C]), rows = ceil(len / columns).
    """
    shape = np.shape(next(tile for tile in tiles if tile is not None))
    height, width = shape[:2]
    rows = -(-len(tiles) // columns)
    out = np.full((rows * (height + gap) - gap, columns * (width + gap) - gap, *shape[2:]), fill)
    for index, tile in enumerate(tiles):
        if tile is not None:
            y, x = (index // columns) * (height + gap), (index % columns) * (width + gap)
            out[y : y + height, x : x + width] = tile
    return out


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
    tiles = []  # white where a class has too few images
    for row in range(rows):
        members = np.flatnonzero(labels == row)
        picks = rng.choice(members, size=min(per_class, len(members)), replace=False)
        tiles += [np.squeeze(images[index]) / top for index in picks]
        tiles += [None] * (per_class - len(picks))
    grid = mosaic(tiles, per_class, gap)
    fig, ax = plt.subplots(figsize=(per_class * 0.9, rows * 0.95))
    grey = grid.ndim == 2
    ax.imshow(grid, cmap="gray" if grey else None, vmin=0, vmax=1, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([r * (height + gap) + (height - 1) / 2 for r in range(rows)])
    ax.set_yticklabels(class_names, fontsize=9)
    ax.tick_params(length=0)
    for side in ax.spines.values():
        side.set_visible(False)
    fig.suptitle(f"{per_class} random samples per class")
    fig.tight_layout()
    return fig


def filter_grid(w, title=None, columns=8):
    """Show the filters of a convolutional layer, each as a tiny image scaled to [0, 1] alone.

    w: (F, C, HH, WW), CS231n's layout; C = 3 is shown in colour (RGB), any other C as the
    grey image of the first channel. Returns the matplotlib figure: one mosaic image, ``columns``
    filters per row, white between them.
    """
    w = np.asarray(w, dtype=np.float64)
    count, channels = w.shape[:2]
    tiles = w.transpose(0, 2, 3, 1) if channels == 3 else w[:, 0]  # (F, HH, WW[, 3])
    low = tiles.reshape(count, -1).min(axis=1)
    high = tiles.reshape(count, -1).max(axis=1)
    spread = np.where(high > low, high - low, 1.0)
    shape = (count,) + (1,) * (tiles.ndim - 1)
    tiles = (tiles - low.reshape(shape)) / spread.reshape(shape)
    columns = min(columns, count)
    rows = -(-count // columns)
    grid = mosaic(list(tiles), columns)
    fig, ax = plt.subplots(figsize=(columns * 0.8, rows * 0.8 + 0.4))
    grey = grid.ndim == 2
    ax.imshow(grid, cmap="gray" if grey else None, vmin=0, vmax=1, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    for side in ax.spines.values():
        side.set_visible(False)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def nearest_neighbours(
    test_images,
    test_labels,
    train_images,
    train_labels,
    dists,
    predictions,
    class_names,
    k=5,
    rows=range(5),
):
    """Each row: one test image, then its ``k`` nearest training images with their labels.

    test_images: (N_test, H, W, C) or (N_test, H, W), uint8 or floats in [0, 1];
    test_labels: (N_test,) ints; train_images, train_labels: the same for the N_train training
    images; dists: (N_test, N_train) distances; predictions: (N_test,) predicted labels;
    rows: the indices of the test images to show. The neighbours are ordered by distance,
    equal distances by index (a stable sort), as knn_predict orders them. The test image's
    title gives its true label and the prediction, "correct" or "wrong"; a neighbour's title
    its label and its distance. Returns the matplotlib figure.
    """
    rows = list(rows)
    top = 255 if np.asarray(test_images).dtype == np.uint8 else 1.0
    fig, axes = plt.subplots(
        len(rows), k + 1, figsize=(1.3 * (k + 1), 1.55 * len(rows)), squeeze=False
    )
    for line, index in zip(axes, rows):
        nearest = np.argsort(dists[index], kind="stable")[:k]
        right = predictions[index] == test_labels[index]
        shown = [(test_images[index], None)] + [(train_images[j], j) for j in nearest]
        for ax, (image, j) in zip(line, shown):
            image = np.squeeze(np.asarray(image)) / top
            ax.imshow(image, cmap="gray" if image.ndim == 2 else None, vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if j is None:
                ax.set_title(
                    f"test: {class_names[test_labels[index]]}\n"
                    f"predicted {class_names[predictions[index]]}: "
                    f"{'correct' if right else 'wrong'}",
                    fontsize=8,
                    color="green" if right else "red",
                )
                for side in ax.spines.values():
                    side.set_color("green" if right else "red")
                    side.set_linewidth(2)
            else:
                ax.set_title(f"{class_names[train_labels[j]]}\n{dists[index, j]:.0f}", fontsize=8)
    for col in range(1, k + 1):
        axes[-1, col].set_xlabel(f"neighbour {col}", fontsize=8)
    axes[-1, 0].set_xlabel("test image", fontsize=8)
    fig.suptitle(f"Test images and their {k} nearest training images (label, distance)")
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
    tiles = [w[:, k].reshape(shape) for k in range(count)]
    tiles = [tile / max(np.abs(tile).max(), 1e-12) for tile in tiles]
    grid = mosaic(tiles, columns, fill=np.nan)
    fig, ax = plt.subplots(figsize=(columns * 0.6, rows * 0.6 + 0.5))
    cmap = plt.get_cmap("bwr").with_extremes(bad="white")
    ax.imshow(grid, cmap=cmap, vmin=-1, vmax=1, interpolation="nearest")
    ax.axis("off")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def feature_maps(maps, columns=8, title=None):
    """Show the feature maps of one image, one small picture per channel, in a grid.

    maps: (H, W, F) activations of one image (a leading batch axis of 1 is dropped), e.g. the
    output of a Conv2D layer with F filters. Each map is scaled by its own largest absolute
    value, so that a weak map shows its pattern too: after a ReLU, black is 0 and the
    brightest pixel of each map white; a map that is 0 everywhere (a filter that never fires
    on this image) stays black. Maps are drawn in channel order, ``columns`` a row, with
    white gaps between them. Returns the matplotlib figure: one mosaic image, as
    :func:`sample_grid` (a subplot per map, 64 of them, is slow to draw).
    """
    maps = np.asarray(maps, dtype=np.float64)
    if maps.ndim == 4 and maps.shape[0] == 1:
        maps = maps[0]
    if maps.ndim != 3:
        raise ValueError(f"feature_maps takes (H, W, F) maps of one image, not {maps.shape}")
    height, width, count = maps.shape
    columns = max(1, min(columns, count))
    rows = -(-count // columns)
    top = np.abs(maps).max(axis=(0, 1))  # (F,) the largest value of each map
    scaled = maps / np.where(top > 0, top, 1)
    grid = mosaic(list(scaled.transpose(2, 0, 1)), columns, max(1, height // 12), np.nan)
    signed = bool((maps < 0).any())  # no ReLU: show -1 .. 1 around a grey 0
    cmap = plt.get_cmap("RdBu_r" if signed else "gray").with_extremes(bad="white")
    fig, ax = plt.subplots(figsize=(columns * 0.9, rows * 0.9 * height / width + 0.5))
    ax.imshow(grid, cmap=cmap, vmin=-1 if signed else 0, vmax=1, interpolation="nearest")
    ax.axis("off")
    fig.suptitle(title or f"{count} feature maps, {height} x {width}")
    fig.tight_layout()
    return fig
