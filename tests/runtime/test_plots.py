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
