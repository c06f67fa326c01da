"""pixelschool.plots: the sample grid shows the images it says, where it says."""

import matplotlib

matplotlib.use("agg")

import numpy as np  # noqa: E402

from pixelschool.plots import sample_grid  # noqa: E402


def mosaic_of(fig):
    (ax,) = fig.axes
    (image,) = ax.get_images()
    return ax, np.asarray(image.get_array())


def test_each_row_holds_random_images_of_its_class():
    rng = np.random.default_rng(3)
    images = rng.integers(0, 256, size=(60, 28, 28), dtype=np.uint8)
    labels = np.arange(60) % 3
    ax, mosaic = mosaic_of(sample_grid(images, labels, ["a", "b", "c"], per_class=4))
    gap = 2  # 28 // 14
    assert mosaic.shape == (3 * 28 + 2 * gap, 4 * 28 + 3 * gap)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b", "c"]
    picks = np.random.default_rng(0)
    for row in range(3):
        chosen = picks.choice(np.flatnonzero(labels == row), size=4, replace=False)
        for col, index in enumerate(chosen):
            y, x = row * (28 + gap), col * (28 + gap)
            np.testing.assert_allclose(mosaic[y : y + 28, x : x + 28], images[index] / 255)
    assert (mosaic[28 : 28 + gap] == 1).all()  # white between rows


def test_colour_floats_and_classes_with_too_few_images():
    rng = np.random.default_rng(4)
    images = rng.random((5, 8, 8, 3))
    labels = np.array([0, 0, 0, 1, 0])
    _, mosaic = mosaic_of(sample_grid(images, labels, ["many", "one"], per_class=3))
    assert mosaic.shape == (2 * 8 + 1, 3 * 8 + 2, 3)
    np.testing.assert_allclose(mosaic[9:17, :8], images[3])
    assert (mosaic[9:17, 9:] == 1).all()  # white where the class has no more images


def test_training_curves_plot_each_split_per_epoch():
    from pixelschool.plots import training_curves

    history = {
        "train_loss": [2.0, 1.0, 0.5],
        "val_loss": [2.1, 1.2, 1.3],
        "train_accuracy": [0.3, 0.6, 0.9],
        "val_accuracy": [0.3, 0.5, 0.55],
    }
    fig = training_curves(history, title="t")
    loss, accuracy = fig.axes
    for ax, metric in [(loss, "loss"), (accuracy, "accuracy")]:
        train, val = ax.get_lines()
        np.testing.assert_array_equal(train.get_xdata(), [1, 2, 3])
        np.testing.assert_array_equal(train.get_ydata(), history[f"train_{metric}"])
        np.testing.assert_array_equal(val.get_ydata(), history[f"val_{metric}"])
        assert [t.get_text() for t in ax.get_legend().get_texts()] == ["training", "validation"]


def test_weight_images_show_each_column_scaled_by_its_largest_weight():
    from pixelschool.plots import weight_images

    rng = np.random.default_rng(5)
    w = rng.normal(size=(12, 5))  # five units of 3 x 4 inputs
    _, mosaic = mosaic_of(weight_images(w, (3, 4), count=5, columns=2))
    assert mosaic.shape == (3 * 3 + 2, 2 * 4 + 1)
    for k in range(5):
        y, x = (k // 2) * 4, (k % 2) * 5
        tile = w[:, k].reshape(3, 4)
        np.testing.assert_allclose(mosaic[y : y + 3, x : x + 4], tile / np.abs(tile).max())
    assert np.isnan(mosaic[8:, 5:]).all()  # no sixth unit: left blank
