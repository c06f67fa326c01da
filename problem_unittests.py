"""Feedback checks for the course notebooks, imported as ``import problem_unittests as tests``.

Each ``tests.test_<name>(<name>)`` prints one line when the function is right and
raises ``AssertionError`` naming the mistake when it is not. The checks live in
``pixelschool.checks``, one module per notebook.
"""

from pixelschool.checks.backprop import *  # noqa: F403
from pixelschool.checks.cifar_cnn import *  # noqa: F403
from pixelschool.checks.data_preparation import *  # noqa: F403
from pixelschool.checks.keras_cnn import *  # noqa: F403
from pixelschool.checks.knn import *  # noqa: F403
from pixelschool.checks.mlp_deep import *  # noqa: F403
from pixelschool.checks.mlp_modular import *  # noqa: F403
from pixelschool.checks.mlp_optimisers import *  # noqa: F403
from pixelschool.checks.mlp_training import *  # noqa: F403
from pixelschool.checks.mlp_two_layer import *  # noqa: F403
from pixelschool.checks.softmax import *  # noqa: F403
from pixelschool.checks.softmax_training import *  # noqa: F403
