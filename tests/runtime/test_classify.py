"""Classify your own image: loading any image file, the top classes, the command line."""

import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from pixelschool import classify
from pixelschool_admin import cli
from pixelschool_admin.paths import REPO_ROOT

CLASSES = ["cat", "dog", "ship", "plane"]


@pytest.fixture(scope="module")
def saved_model(tmp_path_factory):
    """A tiny untrained classifier of 12 x 16 RGB images into 4 classes, saved as .keras."""
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input(shape=(12, 16, 3)),
            keras.layers.Conv2D(2, 3, activation="relu"),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(len(CLASSES), activation="softmax"),
        ]
    )
    path = tmp_path_factory.mktemp("model") / "tiny.keras"
    classify.save_model(model, path, CLASSES)
    return path


@pytest.fixture
def not_an_image(tmp_path):
    path = tmp_path / "notes.png"  # the suffix lies: the content decides
    path.write_text("these are my lecture notes, not a picture\n")
    return path


def test_shipped_images_are_png_and_jpeg_of_different_sizes_one_grey():
    paths = classify.shipped_images()
    assert len(paths) >= 2 and all(path.is_file() for path in paths)
    opened = [Image.open(path) for path in paths]
    assert {image.format for image in opened} == {"PNG", "JPEG"}
    assert len({image.size for image in opened}) == len(opened)
    assert any(image.mode == "L" for image in opened)


def test_shipped_images_are_the_ones_the_project_draws(tmp_path):
    for path in classify.draw_test_images(tmp_path):
        shipped = np.asarray(Image.open(classify.IMAGES_DIR / path.name), dtype=np.float64)
        drawn = np.asarray(Image.open(path), dtype=np.float64)
        assert shipped.shape == drawn.shape
        assert np.abs(shipped - drawn).mean() < 1  # JPEG encoders may differ slightly


@pytest.mark.parametrize("path", classify.shipped_images(), ids=lambda p: p.name)
@pytest.mark.parametrize("size", [(32, 32), (12, 16), (50, 7)])
def test_any_image_becomes_the_model_input_size(path, size):
    image = classify.load_image(path, size, channels=3)
    assert image.shape == (*size, 3) and image.dtype == np.float32
    assert 0 <= image.min() and image.max() <= 1 and image.max() > image.min()


def test_grey_image_gets_three_equal_channels_and_colour_can_become_grey():
    grey = classify.load_image(classify.IMAGES_DIR / "grey_plane.png", (32, 32), channels=3)
    assert grey.shape == (32, 32, 3)
    assert np.array_equal(grey[..., 0], grey[..., 1]) and np.array_equal(grey[..., 1], grey[..., 2])
    colour = classify.load_image(classify.IMAGES_DIR / "red_car.png", (28, 28), channels=1)
    assert colour.shape == (28, 28, 1)


def test_rgba_image_and_odd_size(tmp_path):
    path = tmp_path / "tiny.png"
    Image.new("RGBA", (3, 1001), (10, 200, 30, 128)).save(path)
    image = classify.load_image(path, (32, 32))
    assert image.shape == (32, 32, 3)
    assert np.allclose(image[0, 0], np.array([10, 200, 30]) / 255, atol=1e-6)


def test_not_an_image_is_a_clear_error_naming_the_file(not_an_image):
    with pytest.raises(classify.ImageError, match="notes.png is not an image"):
        classify.load_image(not_an_image, (32, 32))


def test_missing_and_corrupt_files_are_clear_errors(tmp_path):
    with pytest.raises(classify.ImageError, match="nowhere.jpg: no such file"):
        classify.load_image(tmp_path / "nowhere.jpg", (32, 32))
    truncated = tmp_path / "cut.png"
    truncated.write_bytes((classify.IMAGES_DIR / "red_car.png").read_bytes()[:100])
    with pytest.raises(classify.ImageError, match="cut.png"):
        classify.load_image(truncated, (32, 32))
    with pytest.raises(classify.ImageError, match="is not a file"):
        classify.load_image(tmp_path, (32, 32))


def test_top_k_is_sorted_named_and_probabilities(saved_model):
    model = classify.load_model(saved_model)
    assert classify.input_size(model) == (12, 16, 3)
    names = classify.class_names_for(saved_model, model)
    assert names == CLASSES
    for path in classify.shipped_images():
        image = classify.load_image(path, (12, 16), 3)
        top = classify.top_k(model, image, names, k=3)
        probabilities = [p for _, p in top]
        assert len(top) == 3 and {name for name, _ in top} <= set(CLASSES)
        assert probabilities == sorted(probabilities, reverse=True)
        assert all(0 <= p <= 1 for p in probabilities) and sum(probabilities) <= 1 + 1e-6


def test_logits_go_through_a_softmax():
    class Logits:
        def predict(self, batch, verbose=0):
            return np.array([[2.0, -1.0, 0.5]])

    top = classify.top_k(Logits(), np.zeros((4, 4, 3), np.float32), ["a", "b", "c"], k=2)
    assert [name for name, _ in top] == ["a", "c"]
    assert sum(p for _, p in top) < 1


def test_wrong_number_of_class_names_is_explained(saved_model):
    model = classify.load_model(saved_model)
    with pytest.raises(classify.ModelError, match="3 class names for a model with 4 outputs"):
        classify.class_names_for(saved_model, model, ["a", "b", "c"])


def test_model_errors_name_the_file(tmp_path, not_an_image):
    with pytest.raises(classify.ModelError, match="absent.keras: no such model file"):
        classify.load_model(tmp_path / "absent.keras")
    broken = tmp_path / "broken.keras"
    broken.write_text("not a zip")
    with pytest.raises(classify.ModelError, match="broken.keras cannot be loaded"):
        classify.load_model(broken)
    with pytest.raises(classify.ModelError, match="native .keras format"):
        classify.load_model(not_an_image)


def test_cli_prints_the_top_three_of_each_image(saved_model, capsys):
    images = [str(path) for path in classify.shipped_images()]
    assert cli.main(["classify", str(saved_model), *images]) == 0
    out = capsys.readouterr().out
    for path in images:
        assert f"{path}:" in out
    assert sum(line.startswith("  ") and line.endswith("%") for line in out.splitlines()) == 9


def test_cli_takes_class_names_and_k(saved_model, capsys):
    image = str(classify.shipped_images()[0])
    assert cli.main(["classify", str(saved_model), image, "--classes", "a,b,c,d", "-k", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and {line.split()[0] for line in lines[1:]} <= {"a", "b", "c", "d"}
    assert cli.main(["classify", str(saved_model), image, "--classes", "a,b"]) == 1
    assert "2 class names for a model with 4 outputs" in capsys.readouterr().err


def test_cli_reports_a_non_image_and_goes_on(saved_model, not_an_image, capsys):
    good = str(classify.shipped_images()[0])
    assert cli.main(["classify", str(saved_model), str(not_an_image), good]) == 1
    captured = capsys.readouterr()
    assert "notes.png is not an image" in captured.err
    assert f"{good}:" in captured.out


def test_cli_exit_status_from_a_shell(saved_model, not_an_image):
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pixelschool_admin",
            "classify",
            str(saved_model),
            str(not_an_image),
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1
    assert "notes.png is not an image" in done.stderr
    assert "Traceback" not in done.stderr
