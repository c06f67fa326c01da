"""Wrong answers to notebook 08 (the references are the solution notebook's own functions)."""

import keras
import numpy as np

from pixelschool_admin.answers.registry import right, solution_functions, wrong

solution = solution_functions("08_cifar_cnn")

# --- data_augmentation --------------------------------------------------------------------


@wrong("data_augmentation", says="flips images vertically", mistake="vertical_flip")
def augmentation_default_flip():
    # RandomFlip's default mode is "horizontal_and_vertical"
    return keras.Sequential([keras.layers.RandomFlip(), keras.layers.RandomTranslation(0.1, 0.1)])


@wrong("data_augmentation", says="no keras.layers.RandomFlip", mistake="no_flip")
def augmentation_without_flip():
    return keras.Sequential(
        [keras.layers.RandomTranslation(0.1, 0.1), keras.layers.RandomRotation(0.05)]
    )


@wrong("data_augmentation", says="no keras.layers.RandomTranslation", mistake="no_translation")
def augmentation_without_shift():
    return keras.Sequential(
        [keras.layers.RandomFlip("horizontal"), keras.layers.RandomRotation(0.05)]
    )


@wrong("data_augmentation", says="changes the images at inference", mistake="augments_at_inference")
def augmentation_rescales_again():
    return keras.Sequential(
        [
            keras.layers.Rescaling(1 / 255),
            keras.layers.RandomFlip("horizontal"),
            keras.layers.RandomTranslation(0.1, 0.1),
        ]
    )


@wrong("data_augmentation", says="changes the shape of a batch", mistake="shape_changed")
def augmentation_crops():
    return keras.Sequential(
        [
            keras.layers.RandomCrop(24, 24),
            keras.layers.RandomFlip("horizontal"),
            keras.layers.RandomTranslation(0.1, 0.1),
        ]
    )


@wrong(
    "data_augmentation",
    says="wrap your list of layers in keras.Sequential",
    mistake="not_one_layer",
)
def augmentation_list():
    return [keras.layers.RandomFlip("horizontal"), keras.layers.RandomTranslation(0.1, 0.1)]


@wrong("data_augmentation", says="out of the frame", mistake="translation_too_far")
def augmentation_half_image_shift():
    return keras.Sequential(
        [keras.layers.RandomFlip("horizontal"), keras.layers.RandomTranslation(0.5, 0.5)]
    )


def flip_and_shift(*more):
    """The required flip and shift, then the layers ``more``."""
    return keras.Sequential(
        [keras.layers.RandomFlip("horizontal"), keras.layers.RandomTranslation(0.1, 0.1), *more]
    )


@wrong("data_augmentation", says="Pass value_range=(0, 1)", mistake="augmentation_range")
def augmentation_brightness_for_uint8():
    # value_range defaults to (0, 255): adds up to +-25.5 to pixels in [0, 1]
    return flip_and_shift(keras.layers.RandomBrightness(0.1))


@wrong(
    "data_augmentation", says="RandomContrast (value_range=(0, 255))", mistake="augmentation_range"
)
def augmentation_contrast_for_uint8():
    # stretches pixels in [0, 1] up to 1.1, and clips to (0, 255) instead of (0, 1)
    return flip_and_shift(keras.layers.RandomContrast(0.2))


@wrong(
    "data_augmentation", says="RandomContrast (value_range=(0, 2))", mistake="augmentation_range"
)
def augmentation_contrast_wrong_range():
    return flip_and_shift(keras.layers.RandomContrast(0.3, value_range=(0, 2)))


@wrong("data_augmentation", says="a GaussianNoise", mistake="augmentation_range")
def augmentation_unclipped_noise():
    return flip_and_shift(keras.layers.GaussianNoise(0.05))


@wrong(
    "data_augmentation", says="a layer such as Rescaling(1/255)", mistake="augments_at_inference"
)
def augmentation_rescaling_left_in():
    # the pipeline of a uint8 data set: back to [0, 255] before the brightness change
    return flip_and_shift(keras.layers.Rescaling(255), keras.layers.RandomBrightness(0.1))


@right("data_augmentation")
def augmentation_brightness_in_unit_range():
    return flip_and_shift(keras.layers.RandomBrightness(0.1, value_range=(0, 1)))


@right("data_augmentation")
def augmentation_contrast_in_unit_range():
    return flip_and_shift(keras.layers.RandomContrast(0.2, value_range=[0, 1]))


@right("data_augmentation")
def augmentation_default_fill_and_zoom():
    return flip_and_shift(keras.layers.RandomRotation(0.05), keras.layers.RandomZoom(0.1))


@right("data_augmentation")
def augmentation_black_borders():
    return keras.Sequential(
        [
            keras.layers.RandomFlip("horizontal"),
            keras.layers.RandomTranslation(0.1, 0.1, fill_mode="constant"),
            keras.layers.RandomRotation(0.05, fill_mode="constant"),
        ]
    )


@right("data_augmentation")
def augmentation_colour_jitter():
    jitter = keras.layers.RandomColorJitter(
        value_range=(0, 1), brightness_factor=0.1, contrast_factor=0.1, saturation_factor=0.1
    )
    return flip_and_shift(jitter)


# --- cifar_net ----------------------------------------------------------------------------


def network(
    sample_shape,
    nb_classes,
    *,
    batch_norm=True,
    dropout=True,
    softmax=True,
    pool=True,
    compiled=True,
    loss="categorical_crossentropy",
):
    """A VGG-style network like the solution's, with one ingredient changed by the caller."""
    inputs = keras.Input(shape=sample_shape)
    x = solution.data_augmentation()(inputs)
    for filters in (32, 64, 128):
        for _ in range(2):
            x = keras.layers.Conv2D(filters, 3, padding="same")(x)
            if batch_norm:
                x = keras.layers.BatchNormalization()(x)
            x = keras.layers.Activation("relu")(x)
        if pool or filters == 32:
            x = keras.layers.MaxPooling2D(2)(x)
        if dropout:
            x = keras.layers.Dropout(0.3)(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(128, activation="relu")(x)
    outputs = keras.layers.Dense(nb_classes, activation="softmax" if softmax else None)(x)
    model = keras.Model(inputs, outputs)
    if compiled:
        model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=loss, metrics=["accuracy"])
    return model


@wrong("cifar_net", says="rather than a hard-coded shape", mistake="input_shape_hard_coded")
def net_hard_coded_input(sample_shape, nb_classes):
    return network((32, 32, 3), nb_classes)


@wrong(
    "cifar_net", says="the last Dense layer needs nb_classes units", mistake="classes_hard_coded"
)
def net_ten_classes(sample_shape, nb_classes):
    return network(sample_shape, 10)


@wrong("cifar_net", says="no BatchNormalization layer", mistake="no_batch_normalisation")
def net_without_batch_norm(sample_shape, nb_classes):
    return network(sample_shape, nb_classes, batch_norm=False)


@wrong("cifar_net", says="no Dropout layer", mistake="no_dropout")
def net_without_dropout(sample_shape, nb_classes):
    return network(sample_shape, nb_classes, dropout=False)


@wrong("cifar_net", says="activation='softmax'", mistake="not_probabilities")
def net_without_softmax(sample_shape, nb_classes):
    return network(sample_shape, nb_classes, softmax=False)


@wrong("cifar_net", says="is not compiled", mistake="not_compiled")
def net_not_compiled(sample_shape, nb_classes):
    return network(sample_shape, nb_classes, compiled=False)


@wrong(
    "cifar_net", says="compile with loss='categorical_crossentropy'", mistake="training_step_failed"
)
def net_sparse_loss(sample_shape, nb_classes):
    return network(sample_shape, nb_classes, loss="sparse_categorical_crossentropy")


@wrong("cifar_net", says="more than 3,000,000", mistake="too_many_parameters")
def net_pools_once(sample_shape, nb_classes):
    return network(sample_shape, nb_classes, pool=False)  # Flatten of a 16 x 16 x 128 map


@wrong("cifar_net", says="has no augmentation", mistake="no_augmentation")
def net_without_augmentation(sample_shape, nb_classes):
    model = keras.Sequential(
        [
            keras.Input(shape=sample_shape),
            keras.layers.Conv2D(32, 3, padding="same"),
            keras.layers.BatchNormalization(),
            keras.layers.Activation("relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Conv2D(64, 3, padding="same"),
            keras.layers.BatchNormalization(),
            keras.layers.Activation("relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Dropout(0.3),
            keras.layers.Flatten(),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(nb_classes, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return model


# --- per_class_accuracy -------------------------------------------------------------------


@wrong("per_class_accuracy", says="is the overall accuracy", mistake="overall")
def per_class_overall(labels, predictions, nb_classes):
    return np.full(nb_classes, np.mean(labels == predictions))


@wrong("per_class_accuracy", says="that is the precision", mistake="precision")
def per_class_precision(labels, predictions, nb_classes):
    correct = np.bincount(labels[predictions == labels], minlength=nb_classes)
    return correct / np.bincount(predictions, minlength=nb_classes)


@wrong("per_class_accuracy", says="that is the precision", mistake="precision")
def per_class_matrix_transposed(labels, predictions, nb_classes):
    matrix = np.zeros((nb_classes, nb_classes))
    np.add.at(matrix, (predictions, labels), 1)  # rows and columns swapped
    return np.diag(matrix) / matrix.sum(axis=1)


@wrong("per_class_accuracy", says="off by one class")
def per_class_from_one(labels, predictions, nb_classes):
    result = np.zeros(nb_classes)
    for k in range(1, nb_classes + 1):
        mine = labels == k
        result[k - 1] = np.mean(predictions[mine] == k) if mine.any() else 0.0
    return result


@wrong("per_class_accuracy", says="unless you pass minlength=nb_classes")
def per_class_bincount_without_minlength(labels, predictions, nb_classes):
    correct = np.bincount(predictions[predictions == labels])
    return correct / np.bincount(labels)[: len(correct)]


@wrong("per_class_accuracy", says="returns the number of correct predictions", mistake="counts")
def per_class_counts(labels, predictions, nb_classes):
    return np.bincount(labels[predictions == labels], minlength=nb_classes).astype(float)


@wrong("per_class_accuracy", says="returns percentages")
def per_class_percentages(labels, predictions, nb_classes):
    correct = np.bincount(labels[predictions == labels], minlength=nb_classes)
    return 100 * correct / np.bincount(labels, minlength=nb_classes)


@wrong("per_class_accuracy", says="in place")
def per_class_sorts_labels(labels, predictions, nb_classes):
    order = np.argsort(labels, kind="stable")
    labels[:], predictions[:] = labels[order], predictions[order]
    correct = np.bincount(labels[predictions == labels], minlength=nb_classes)
    return correct / np.bincount(labels, minlength=nb_classes)


@right("per_class_accuracy")
def per_class_recall_score(labels, predictions, nb_classes):
    from sklearn.metrics import recall_score

    return recall_score(labels, predictions, labels=np.arange(nb_classes), average=None)


@right("per_class_accuracy")
def per_class_confusion_matrix(labels, predictions, nb_classes):
    from sklearn.metrics import confusion_matrix

    matrix = confusion_matrix(labels, predictions, labels=np.arange(nb_classes))
    return np.diag(matrix) / matrix.sum(axis=1)


@right("per_class_accuracy")
def per_class_loop(labels, predictions, nb_classes):
    return np.array([np.mean(predictions[labels == k] == k) for k in range(nb_classes)])


@wrong("data_augmentation", says="width_factor 0", mistake="translation_no_width")
def data_augmentation_height_shift_only():
    return keras.Sequential(
        [keras.layers.RandomFlip("horizontal"), keras.layers.RandomTranslation(0.1, 0.0)]
    )


@wrong("data_augmentation", says="fraction of a full turn", mistake="rotation_too_far")
def data_augmentation_large_rotation():
    return keras.Sequential(
        [
            keras.layers.RandomFlip("horizontal"),
            keras.layers.RandomTranslation(0.1, 0.1),
            keras.layers.RandomRotation(0.5),  # read as a fraction of a right angle: 180 degrees
        ]
    )


@right("data_augmentation")
def data_augmentation_zoom_and_contrast():
    return keras.Sequential(
        [
            keras.layers.RandomFlip(mode="horizontal"),
            keras.layers.RandomTranslation(height_factor=(-0.1, 0.1), width_factor=(-0.1, 0.1)),
            keras.layers.RandomZoom(0.1),
            keras.layers.RandomContrast(0.1, value_range=(0, 1)),
        ]
    )


@right("data_augmentation")
def data_augmentation_separate_shifts_nearest():
    return keras.Sequential(
        [
            keras.layers.RandomFlip("horizontal"),
            keras.layers.RandomTranslation(0.1, 0.0, fill_mode="nearest"),
            keras.layers.RandomTranslation(0.0, 0.1, fill_mode="nearest"),
            keras.layers.RandomRotation(0.05),
        ]
    )
