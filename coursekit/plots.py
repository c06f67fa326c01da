"""Figures the notebooks share."""

import matplotlib.pyplot as plt
import numpy as np


def sample_grid(images, labels, class_names, per_class=8, seed=0):
    """Show ``per_class`` random images of every class, one class per row.

    images: (N, H, W, C) or (N, H, W), uint8 or floats in [0, 1]; labels: (N,) ints.
    Returns the matplotlib figure.
    """
    rng = np.random.default_rng(seed)
    fig, axes = plt.subplots(
        len(class_names),
        per_class,
        figsize=(per_class * 0.9, len(class_names) * 0.95),
        squeeze=False,
    )
    for row, name in enumerate(class_names):
        members = np.flatnonzero(labels == row)
        picks = rng.choice(members, size=min(per_class, len(members)), replace=False)
        for col, ax in enumerate(axes[row]):
            ax.set_xticks([])
            ax.set_yticks([])
            for side in ax.spines.values():
                side.set_visible(False)
            if col < len(picks):
                image = np.squeeze(images[picks[col]])
                top = 255 if image.dtype == np.uint8 else 1.0  # no per-image contrast stretch
                ax.imshow(image, cmap="gray" if image.ndim == 2 else None, vmin=0, vmax=top)
        axes[row, 0].set_ylabel(name, rotation=0, ha="right", va="center", fontsize=9)
    fig.suptitle(f"{per_class} random samples per class")
    fig.tight_layout()
    return fig
