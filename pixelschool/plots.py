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
    gap = max(1, height // 12)
    mosaic = np.full((rows * (height + gap) - gap, columns * (width + gap) - gap), np.nan)
    top = np.abs(maps).max(axis=(0, 1))  # (F,) the largest value of each map
    scaled = maps / np.where(top > 0, top, 1)
    for index in range(count):
        y, x = (index // columns) * (height + gap), (index % columns) * (width + gap)
        mosaic[y : y + height, x : x + width] = scaled[:, :, index]
    signed = bool((maps < 0).any())  # no ReLU: show -1 .. 1 around a grey 0
    cmap = plt.get_cmap("RdBu_r" if signed else "gray").with_extremes(bad="white")
    fig, ax = plt.subplots(figsize=(columns * 0.9, rows * 0.9 * height / width + 0.5))
    ax.imshow(mosaic, cmap=cmap, vmin=-1 if signed else 0, vmax=1, interpolation="nearest")
    ax.axis("off")
    fig.suptitle(title or f"{count} feature maps, {height} x {width}")
    fig.tight_layout()
    return fig
