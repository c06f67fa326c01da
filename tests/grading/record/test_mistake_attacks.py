"""A hostile kernel against the mistake keys (``pixelschool/checks/mistakes.py``): the kernel
sends only results, but some results are text the check quotes (what a Keras model's probe
raised, in ``cifar_cnn`` and ``keras_cnn``). A key must not follow from what that text says.
"""

import pytest

from pixelschool.checks import mistakes
from pixelschool.checks.mistakes import PLACEHOLDER_TEXTS, mistake_of

# cifar_cnn.check_value_range: the probe's error is the kernel's text, quoted at the end.
QUOTING = "your augmentation failed in training on 8 images: {}"
CHECK = f"""
def check_value_range(error):
    raise AssertionError({QUOTING!r}.format(error))
"""


def raised_by_a_check(error_text):
    """The AssertionError a check module's rule raises, quoting ``error_text``."""
    namespace = {"__name__": "pixelschool.checks.cifar_cnn"}
    exec(compile(CHECK, "cifar_cnn.py", "exec"), namespace)
    with pytest.raises(AssertionError) as caught:
        namespace["check_value_range"](error_text)
    return caught.value


@pytest.mark.parametrize("text", PLACEHOLDER_TEXTS)
def test_hostile_probe_error_cannot_claim_the_placeholder_key(text):
    error = raised_by_a_check(f"ValueError: {text}")  # what a kernel's probe may report
    assert mistake_of(error) == "code:cifar_cnn.check_value_range+1"


@pytest.mark.parametrize("text", PLACEHOLDER_TEXTS)
def test_the_checks_own_placeholder_message_keeps_its_key(text):
    # as data_preparation, backprop_numerical, knn_common, mlp_common say it: `<function>: <text>`
    assert mistake_of(AssertionError(f"normalise_images: {text}")) == mistakes.PLACEHOLDER
