"""Wrong answers to notebook 07 (the references are the solution notebook's own functions).

``normalise_images``, ``add_channel_axis`` and ``one_hot`` are notebook 01's exercises with
notebook 01's checks; their wrong answers live in ``data_preparation``.
"""

import math

import keras

from pixelschool_admin.answers.registry import solution_functions, wrong

solution = solution_functions("07_keras_cnn")
layers = keras.layers

# --- conv_output_size -------------------------------------------------------------------


@wrong("conv_output_size", says="forgot the + 1", mistake="no_plus_one")
def conv_output_size_without_plus_one(input_size, kernel_size, stride=1, padding=0):
    return (input_size + 2 * padding - kernel_size) // stride


@wrong("conv_output_size", says="added the padding once", mistake="padding_once")
def conv_output_size_padding_one_side(input_size, kernel_size, stride=1, padding=0):
    return (input_size + padding - kernel_size) // stride + 1


@wrong("conv_output_size", says="ignored the stride", mistake="no_stride")
def conv_output_size_ignores_stride(input_size, kernel_size, stride=1, padding=0):
    return input_size + 2 * padding - kernel_size + 1


@wrong("conv_output_size", says="Use floor division `//`")
def conv_output_size_true_division(input_size, kernel_size, stride=1, padding=0):
    return (input_size + 2 * padding - kernel_size) / stride + 1


@wrong("conv_output_size", says="you rounded up", mistake="rounds_up")
def conv_output_size_rounds_up(input_size, kernel_size, stride=1, padding=0):
    return math.ceil((input_size + 2 * padding - kernel_size) / stride) + 1


@wrong("conv_output_size", says="subtracted the padding", mistake="minus_padding")
def conv_output_size_subtracts_padding(input_size, kernel_size, stride=1, padding=0):
    return (input_size - 2 * padding - kernel_size) // stride + 1


@wrong("conv_output_size", says="Give `stride` the default 1", mistake="no_defaults")
def conv_output_size_no_defaults(input_size, kernel_size, stride=None, padding=None):
    return (input_size + 2 * (padding or 0) - kernel_size) // (stride or 2) + 1


# --- net_1 ------------------------------------------------------------------------------


def seed_cnn(sample_shape, nb_classes, *, middle, last_activation="softmax", flatten=True):
    """The seed's network with ``middle`` (layers after the first convolution) swapped in."""
    return keras.Sequential(
        [
            keras.Input(shape=sample_shape),
            layers.Conv2D(32, kernel_size=3, activation="relu"),
            *middle,
            *([layers.Flatten()] if flatten else []),
            layers.Dense(128, activation="relu"),
            layers.Dense(nb_classes, activation=last_activation),
        ]
    )


def pooled():
    return [layers.Conv2D(64, kernel_size=3, activation="relu"), layers.MaxPooling2D(2)]


def strided():
    return [layers.Conv2D(64, kernel_size=3, strides=2, activation="relu")]


@wrong("net_1", says="activation='softmax'", mistake="not_probabilities")
def net_1_without_softmax(sample_shape, nb_classes):
    return seed_cnn(sample_shape, nb_classes, middle=pooled(), last_activation=None)


@wrong("net_1", says="hard-coded the input shape", mistake="input_shape_hard_coded")
def net_1_hard_coded_input(sample_shape, nb_classes):
    return seed_cnn((28, 28, 1), nb_classes, middle=pooled())


@wrong("net_1", says="do not hard-code 10", mistake="classes_hard_coded")
def net_1_ten_classes(sample_shape, nb_classes):
    return seed_cnn(sample_shape, 10, middle=pooled())


@wrong("net_1", says="forgot keras.layers.Flatten()", mistake="no_flatten")
def net_1_without_flatten(sample_shape, nb_classes):
    return seed_cnn(sample_shape, nb_classes, middle=pooled(), flatten=False)


@wrong("net_1", says="net_1 has no pooling layer", mistake="no_pooling")
def net_1_without_pooling(sample_shape, nb_classes):
    return seed_cnn(sample_shape, nb_classes, middle=pooled()[:1])


@wrong("net_1", says="has no ReLU activation", mistake="no_relu")
def net_1_linear_convolutions(sample_shape, nb_classes):
    return seed_cnn(sample_shape, nb_classes, middle=[layers.Conv2D(64, 3), layers.MaxPooling2D()])


@wrong("net_1", says="expected 32 then 64", mistake="filters_order")
def net_1_filters_swapped(sample_shape, nb_classes):
    return keras.Sequential(
        [
            keras.Input(shape=sample_shape),
            layers.Conv2D(64, 3, activation="relu"),
            layers.Conv2D(32, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Flatten(),
            layers.Dense(128, activation="relu"),
            layers.Dense(nb_classes, activation="softmax"),
        ]
    )


@wrong("net_1", says="padding='same'", mistake="padding_same")
def net_1_same_padding(sample_shape, nb_classes):
    middle = [layers.Conv2D(64, 3, padding="same", activation="relu"), layers.MaxPooling2D(2)]
    return seed_cnn(sample_shape, nb_classes, middle=middle)


@wrong("net_1", says="return the keras.Model itself", mistake="returned_none")
def net_1_returns_summary(sample_shape, nb_classes):
    model = seed_cnn(sample_shape, nb_classes, middle=pooled())
    return model.summary(print_fn=lambda *args, **kwargs: None)


# --- net_2 ------------------------------------------------------------------------------


@wrong("net_2", says="still has a pooling layer", mistake="still_pooling")
def net_2_pooling_left_in(sample_shape, nb_classes):
    middle = [layers.Conv2D(64, 3, strides=2, activation="relu"), layers.MaxPooling2D(2)]
    return seed_cnn(sample_shape, nb_classes, middle=middle)


@wrong("net_2", says="the second Conv2D strides=2", mistake="still_pooling")
def net_2_net_1_copied(sample_shape, nb_classes):
    return solution.net_1(sample_shape, nb_classes)


@wrong("net_2", says="strides=2", mistake="no_strides")
def net_2_no_stride(sample_shape, nb_classes):
    return seed_cnn(sample_shape, nb_classes, middle=[layers.Conv2D(64, 3, activation="relu")])


@wrong("net_2", says="activation='softmax'", mistake="not_probabilities")
def net_2_without_softmax(sample_shape, nb_classes):
    return seed_cnn(sample_shape, nb_classes, middle=strided(), last_activation="relu")


@wrong("net_2", says="hard-coded the input shape", mistake="input_shape_hard_coded")
def net_2_hard_coded_input(sample_shape, nb_classes):
    return seed_cnn((28, 28, 1), nb_classes, middle=strided())


@wrong("net_2", says="do not hard-code 10", mistake="classes_hard_coded")
def net_2_ten_classes(sample_shape, nb_classes):
    return seed_cnn(sample_shape, 10, middle=strided())


@wrong("net_2", says="forgot keras.layers.Flatten()", mistake="no_flatten")
def net_2_without_flatten(sample_shape, nb_classes):
    return seed_cnn(sample_shape, nb_classes, middle=strided(), flatten=False)


@wrong("net_2", says="only the second one is strided", mistake="first_conv_strided")
def net_2_both_strided(sample_shape, nb_classes):
    return keras.Sequential(
        [
            keras.Input(shape=sample_shape),
            layers.Conv2D(32, 3, strides=2, activation="relu"),
            layers.Conv2D(64, 3, strides=2, activation="relu"),
            layers.Flatten(),
            layers.Dense(128, activation="relu"),
            layers.Dense(nb_classes, activation="softmax"),
        ]
    )
