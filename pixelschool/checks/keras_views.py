"""Keras objects as plain data: what the model checks read of a student's network.

A model check sees the student's model only through a :class:`ModelView`, made in the
kernel as the student's function returns (``call(..., described_by=describer(...))``):
its layers (kind, base classes, sizes, activation), shapes, parameter count, and the
*probes* the check asks for (outputs on a batch, one training step), each run there on the
student's model. The grader then runs the same check on the same views, recorded in the
transcript (``transcript.py``), without Keras. Keras is imported only where a view is made.
"""

import numpy as np

from pixelschool.checks.framework import describe

# Layer attributes the checks read (each as plain data, when the layer has it).
LAYER_FIELDS = (
    "filters",
    "kernel_size",
    "strides",
    "padding",
    "units",
    "pool_size",
    "mode",
    "height_factor",
    "width_factor",
    "rate",
    "factor",
    "value_range",
)


def plain(value):
    """``value`` as plain data: numbers, strings, tuples of them; anything else as text."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (tuple, list)):
        return tuple(plain(v) for v in value)
    return str(value)


def layer_data(layer):
    """One layer (and the layers inside it) as plain data."""
    data = {
        "kind": type(layer).__name__,
        "bases": [cls.__name__ for cls in type(layer).__mro__],
        "name": str(getattr(layer, "name", "")),
        "activation": getattr(getattr(layer, "activation", None), "__name__", "linear"),
        "trainable_weights": len(getattr(layer, "trainable_weights", []) or []),
        "layers": [layer_data(inner) for inner in getattr(layer, "layers", []) or []],
    }
    for field in LAYER_FIELDS:
        if hasattr(layer, field):
            data[field] = plain(getattr(layer, field))
    return data


def attribute(obj, name):
    """``obj.<name>`` as plain data, or None when asking raises (an unbuilt model)."""
    try:
        value = getattr(obj, name)
        return plain(value() if callable(value) else value)
    except Exception:  # noqa: BLE001  (what a student's object does is its own affair)
        return None


def describer(probes=()):
    """``described_by`` for a check's call: the view's data of what the student's function
    returned, with ``probes`` (``[(name, probe(model))]``) run on it when it is a Keras layer
    or model. A probe's exception is kept as ``{"error": "Type: message"}``."""

    def describe_result(obj):
        import keras

        data = {
            "shown": describe(obj),
            "kind": type(obj).__name__,
            "is_model": isinstance(obj, keras.Model),
            "is_layer": isinstance(obj, keras.layers.Layer),
        }
        if not data["is_layer"]:
            return data
        data.update(
            layer_data(obj),
            built=bool(getattr(obj, "built", False)),
            input_shape=attribute(obj, "input_shape"),
            output_shape=attribute(obj, "output_shape"),
            count_params=attribute(obj, "count_params"),
            compiled=getattr(obj, "optimizer", None) is not None,
            probes={},
        )
        for name, probe in probes:
            try:
                data["probes"][name] = probe(obj)
            except Exception as error:  # noqa: BLE001  (the check says what failed)
                data["probes"][name] = {"error": f"{type(error).__name__}: {str(error)[:300]}"}
        return data

    return describe_result


class LayerView:
    """A layer as the checks read it: ``kind``, ``is_a(name)``, the sizes of
    ``LAYER_FIELDS``, ``activation``, ``layers`` (the layers inside it)."""

    def __init__(self, data):
        data = data if isinstance(data, dict) else {}
        self.data = data
        self.kind = str(data.get("kind", ""))
        self.name = str(data.get("name", ""))
        self.activation = str(data.get("activation", "linear"))
        self.trainable_weights = data.get("trainable_weights") or 0
        self.layers = [LayerView(inner) for inner in data.get("layers") or []]
        for field in LAYER_FIELDS:
            setattr(self, field, data.get(field))

    def is_a(self, class_name):
        """True when the layer is a ``class_name`` (or a subclass of it)."""
        return class_name in (self.data.get("bases") or [])

    def has(self, field):
        return field in self.data


class ModelView(LayerView):
    """What a student's function returned, as the model checks read it."""

    def __init__(self, data):
        super().__init__(data)
        self.shown = str(self.data.get("shown", self.kind))
        self.is_model = bool(self.data.get("is_model"))
        self.is_layer = bool(self.data.get("is_layer"))
        self.built = bool(self.data.get("built"))
        self.input_shape = self.data.get("input_shape")
        self.output_shape = self.data.get("output_shape")
        self.compiled = bool(self.data.get("compiled"))
        self.probes = self.data.get("probes") or {}

    def count_params(self):
        return self.data.get("count_params")

    def probe(self, name):
        """``(result, None)`` of the probe ``name``, or ``(None, "Type: message")``."""
        found = self.probes.get(name)
        if isinstance(found, dict) and "error" in found:
            return None, str(found["error"])
        return found, None


def all_layers(layer):
    """``layer`` and every layer nested inside it (Sequential and functional models)."""
    found = [layer]
    for inner in layer.layers:
        found += all_layers(inner)
    return found


def to_numpy(tensor):
    import keras

    return np.asarray(keras.ops.convert_to_numpy(tensor))
