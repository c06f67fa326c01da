"""Classify your own image with a saved Keras model: load, resize, print the top classes.

    from pixelschool import classify
    model = classify.load_model("cifar_cnn.keras")
    image = classify.load_image("my_cat.jpg", classify.input_size(model))
    classify.top_k(model, image, classify.class_names_for("cifar_cnn.keras", model))

or from a shell: ``python -m pixelschool_admin classify cifar_cnn.keras my_cat.jpg``.

Models are saved in Keras' native ``.keras`` format; :func:`save_model` writes the class
names next to it (``cifar_cnn.classes.json``) so that the command line can name the classes.
The test images in ``pixelschool/images/`` are drawn by :func:`draw_test_images` (never
downloaded): ``python -c "from pixelschool import classify; classify.draw_test_images()"``.
"""

import json
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageOps, UnidentifiedImageError

from pixelschool.datasets import CIFAR10_CLASSES

IMAGES_DIR = Path(__file__).resolve().parent / "images"
TEST_IMAGES = ["red_car.png", "blue_ship.jpg", "grey_plane.png"]


class ImageError(Exception):
    """A file that cannot be read as an image; the message names the file."""


class ModelError(Exception):
    """A model file that cannot be loaded, or class names that do not fit the model."""


# ----------------------------------------------------------------------------------------------
# Images
# ----------------------------------------------------------------------------------------------


def load_image(path, size, channels=3):
    """Read an image file and make it fit a model's input.

    path: a PNG, JPEG or any file Pillow reads, of any size, colour or greyscale.
    size: (height, width) of the model's input; channels: 3 (RGB) or 1 (grey).
    The image is cropped to the aspect ratio of ``size`` around its centre, then resized.
    Returns (height, width, channels) float32 in [0, 1], as the course's training images.
    Raises ImageError (naming the file) for a missing, unreadable or corrupt file.
    """
    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 (grey) or 3 (RGB), not {channels}")
    path = Path(path)
    if not path.exists():
        raise ImageError(f"{path}: no such file.")
    if not path.is_file():
        raise ImageError(f"{path} is not a file.")
    try:
        with Image.open(path) as opened:
            opened.load()  # decode now: a truncated or corrupt file fails here
            image = ImageOps.exif_transpose(opened)  # photos taken with the phone turned
    except UnidentifiedImageError:
        raise ImageError(
            f"{path} is not an image file Pillow can read (PNG, JPEG, GIF, BMP, TIFF, WebP...)."
        ) from None
    except (OSError, SyntaxError, ValueError) as error:
        raise ImageError(f"{path} looks like an image but cannot be decoded: {error}") from None
    height, width = (int(side) for side in size)
    image = image.convert("RGB" if channels == 3 else "L")  # grey -> RGB, RGBA -> RGB, ...
    image = ImageOps.fit(image, (width, height), method=Image.Resampling.LANCZOS)
    pixels = np.asarray(image, dtype=np.float32) / 255
    return pixels.reshape(height, width, channels)


def draw_test_images(folder=IMAGES_DIR):
    """Draw the course's test images with Pillow and save them in ``folder``.

    A red car (PNG, 160 x 100, colour), a blue ship (JPEG, 300 x 200, colour) and a grey
    aeroplane (PNG, 64 x 48, greyscale): simple pictures, deterministic, no download.
    Returns the paths written.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)

    car = Image.new("RGB", (160, 100), (150, 200, 240))  # sky
    draw = ImageDraw.Draw(car)
    draw.rectangle([0, 75, 160, 100], fill=(90, 90, 90))  # road
    draw.rectangle([20, 45, 140, 75], fill=(200, 20, 30))  # body
    draw.polygon([(45, 45), (60, 25), (105, 25), (120, 45)], fill=(200, 20, 30))  # cabin
    draw.polygon([(52, 44), (63, 29), (80, 29), (80, 44)], fill=(210, 235, 250))  # windows
    draw.polygon([(85, 44), (85, 29), (102, 29), (113, 44)], fill=(210, 235, 250))
    for x in (50, 112):
        draw.ellipse([x - 13, 62, x + 13, 88], fill=(20, 20, 20))  # wheels
        draw.ellipse([x - 5, 70, x + 5, 80], fill=(180, 180, 180))

    ship = Image.new("RGB", (300, 200), (170, 210, 245))
    draw = ImageDraw.Draw(ship)
    draw.rectangle([0, 120, 300, 200], fill=(20, 70, 150))  # sea
    draw.polygon([(40, 110), (260, 110), (230, 150), (70, 150)], fill=(30, 40, 120))  # hull
    draw.rectangle([100, 80, 200, 110], fill=(240, 240, 240))  # deck house
    draw.rectangle([150, 45, 170, 80], fill=(200, 40, 40))  # funnel
    for x in range(110, 195, 18):
        draw.rectangle([x, 88, x + 8, 96], fill=(40, 60, 90))  # portholes

    plane = Image.new("L", (64, 48), 200)  # grey sky
    draw = ImageDraw.Draw(plane)
    draw.ellipse([8, 20, 56, 29], fill=60)  # fuselage
    draw.polygon([(26, 24), (40, 24), (30, 6), (24, 6)], fill=80)  # wing
    draw.polygon([(26, 25), (40, 25), (30, 42), (24, 42)], fill=80)
    draw.polygon([(8, 24), (16, 24), (8, 12)], fill=70)  # tail

    written = []
    for image, name, options in [
        (car, "red_car.png", {}),
        (ship, "blue_ship.jpg", {"quality": 90}),
        (plane, "grey_plane.png", {}),
    ]:
        image.save(folder / name, **options)
        written.append(folder / name)
    return written


def shipped_images():
    """The shipped test images, drawn by :func:`draw_test_images`."""
    return [IMAGES_DIR / name for name in TEST_IMAGES]


# ----------------------------------------------------------------------------------------------
# Models
# ----------------------------------------------------------------------------------------------


def classes_path(model_path):
    """Where :func:`save_model` keeps the class names: ``<model>.classes.json``."""
    model_path = Path(model_path)
    return model_path.with_name(model_path.stem + ".classes.json")


def save_model(model, path, class_names):
    """Save ``model`` in the native ``.keras`` format and its class names beside it."""
    path = Path(path)
    if path.suffix != ".keras":
        raise ModelError(f"{path}: save models in the native format, with the .keras suffix.")
    path.parent.mkdir(parents=True, exist_ok=True)
    model.save(path)
    classes_path(path).write_text(json.dumps(list(class_names), indent=1) + "\n")
    return path


def load_model(path):
    """Load a ``.keras`` model; ModelError names the file if that fails."""
    import keras

    path = Path(path)
    if not path.is_file():
        raise ModelError(f"{path}: no such model file.")
    if path.suffix != ".keras":
        raise ModelError(f"{path}: expected a model saved in the native .keras format.")
    try:
        return keras.saving.load_model(path)
    except Exception as error:
        raise ModelError(f"{path} cannot be loaded as a Keras model: {error}") from error


def input_size(model):
    """(height, width, channels) of the images ``model`` takes."""
    shape = tuple(model.input_shape[1:])
    if len(shape) != 3 or any(side is None for side in shape):
        raise ModelError(f"the model takes inputs of shape {shape}, not (height, width, channels).")
    return shape


def class_names_for(model_path, model, names=None):
    """The class names for ``model``: ``names`` if given, else those saved with it, else CIFAR-10's.

    Raises ModelError when their number differs from the model's number of outputs.
    """
    if names is None and classes_path(model_path).is_file():
        names = json.loads(classes_path(model_path).read_text())
    if names is None:
        names = list(CIFAR10_CLASSES)
    outputs = model.output_shape[-1]
    if len(names) != outputs:
        raise ModelError(
            f"{len(names)} class names for a model with {outputs} outputs: "
            "pass the model's class names with --classes."
        )
    return list(names)


def top_k(model, image, class_names, k=3):
    """The ``k`` most probable classes of one image.

    image: (H, W, C) as returned by :func:`load_image`; class_names: one per model output.
    Returns [(name, probability), ...], most probable first. Outputs that are not
    probabilities (logits: negative, or not summing to 1) go through a softmax first.
    """
    scores = np.asarray(model.predict(image[np.newaxis], verbose=0), dtype=np.float64)[0]
    if scores.min() < 0 or not np.isclose(scores.sum(), 1, atol=1e-3):
        scores = np.exp(scores - scores.max())
        scores /= scores.sum()
    order = np.argsort(-scores, kind="stable")[:k]
    return [(class_names[i], float(scores[i])) for i in order]


def classify_files(model_path, image_paths, class_names=None, k=3):
    """Classify each image file with the model saved at ``model_path``.

    Yields (path, [(name, probability), ...]) or (path, ImageError) for files that are not
    images, so that one bad file does not stop the others.
    """
    model = load_model(model_path)
    names = class_names_for(model_path, model, class_names)
    height, width, channels = input_size(model)
    for path in image_paths:
        try:
            image = load_image(path, (height, width), channels)
        except ImageError as error:
            yield path, error
            continue
        yield path, top_k(model, image, names, k)
