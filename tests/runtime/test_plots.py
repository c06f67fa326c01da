"""pixelschool.plots: the sample grid shows the images it says, where it says."""

import matplotlib

matplotlib.use("agg")

import numpy as np  # noqa: E402

from pixelschool.plots import feature_maps, sample_grid  # noqa: E402


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


def test_filter_grid_scales_each_filter_and_keeps_colour():
    from pixelschool.plots import filter_grid

    rng = np.random.default_rng(5)
    w = rng.normal(size=(10, 3, 3, 3))
    _, mosaic = mosaic_of(filter_grid(w, columns=4))
    assert mosaic.shape == (3 * 3 + 2, 4 * 3 + 3, 3)
    for index in range(10):
        y, x = (index // 4) * 4, (index % 4) * 4
        tile = mosaic[y : y + 3, x : x + 3]
        expected = w[index].transpose(1, 2, 0)
        expected = (expected - expected.min()) / (expected.max() - expected.min())
        np.testing.assert_allclose(tile, expected)
    assert (mosaic[3] == 1).all()  # white between rows


def test_filter_grid_grey_for_one_channel_and_a_constant_filter():
    from pixelschool.plots import filter_grid

    w = np.zeros((2, 1, 5, 5))
    w[1, 0, 2, 2] = 4.0
    _, mosaic = mosaic_of(filter_grid(w))
    assert mosaic.shape == (5, 11)
    assert (mosaic[:, :5] == 0).all() and mosaic[2, 8] == 1


def test_nearest_neighbours_shows_each_test_image_then_its_k_nearest_in_order():
    from pixelschool.plots import nearest_neighbours

    rng = np.random.default_rng(5)
    test_images = rng.integers(0, 256, size=(4, 6, 6, 3), dtype=np.uint8)
    train_images = rng.integers(0, 256, size=(7, 6, 6, 3), dtype=np.uint8)
    test_labels, train_labels = np.array([0, 1, 2, 0]), np.array([0, 1, 2, 0, 1, 2, 0])
    dists = rng.uniform(1, 100, size=(4, 7))
    dists[2, [1, 4]] = 0.5  # a tie: the earlier training image comes first
    predictions = np.array([0, 2, 2, 1])
    fig = nearest_neighbours(
        test_images,
        test_labels,
        train_images,
        train_labels,
        dists,
        predictions,
        ["cat", "dog", "frog"],
        k=3,
        rows=[1, 2],
    )
    axes = np.reshape(fig.axes, (2, 4))
    for line, index in zip(axes, [1, 2]):
        shown = [np.asarray(ax.get_images()[0].get_array()) for ax in line]
        np.testing.assert_allclose(shown[0], test_images[index] / 255)
        nearest = np.argsort(dists[index], kind="stable")[:3]
        for picture, j, ax in zip(shown[1:], nearest, line[1:]):
            np.testing.assert_allclose(picture, train_images[j] / 255)
            assert ax.get_title().startswith(["cat", "dog", "frog"][train_labels[j]])
    assert list(np.argsort(dists[2], kind="stable")[:2]) == [1, 4]
    assert "predicted frog: wrong" in axes[0, 0].get_title()  # a dog predicted as a frog
    assert "predicted frog: correct" in axes[1, 0].get_title()


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


def test_feature_maps_scales_each_map_by_its_own_maximum():
    rng = np.random.default_rng(5)
    maps = rng.random((1, 12, 10, 5)) * np.array([1, 2, 0, 4, 0.5])  # map 2 never fires
    fig = feature_maps(maps, columns=3, title="conv")
    ax, mosaic = mosaic_of(fig)
    gap = 1  # 12 // 12
    assert mosaic.shape == (2 * 12 + gap, 3 * 10 + 2 * gap)
    assert fig._suptitle.get_text() == "conv"
    for index in range(5):
        y, x = (index // 3) * (12 + gap), (index % 3) * (10 + gap)
        tile = mosaic[y : y + 12, x : x + 10]
        top = maps[0, :, :, index].max()
        expected = maps[0, :, :, index] / top if top > 0 else np.zeros((12, 10))
        np.testing.assert_allclose(tile, expected)
    assert np.isnan(mosaic[12]).all()  # a gap between the rows of maps
    assert np.isnan(mosaic[13:, 2 * 11 :]).all()  # no sixth map: left blank
    (image,) = ax.get_images()
    assert image.get_clim() == (0, 1)  # ReLU outputs: black is 0


def test_feature_maps_of_signed_values_centre_zero():
    maps = np.zeros((4, 4, 2))
    maps[0, 0, 0], maps[1, 1, 1] = -2.0, 3.0
    ax, mosaic = mosaic_of(feature_maps(maps))
    assert mosaic[0, 0] == -1 and mosaic[1, 4 + 1 + 1] == 1
    (image,) = ax.get_images()
    assert image.get_clim() == (-1, 1)
