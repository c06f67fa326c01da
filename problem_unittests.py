"""Feedback checks for the course notebooks, imported as ``import problem_unittests as tests``.

Each ``tests.test_<name>(<name>)`` prints one line when the function is right and
raises ``AssertionError`` naming the mistake when it is not. The checks live in
``coursekit.checks``, one module per notebook.
"""

from coursekit.checks.backprop import *  # noqa: F403
from coursekit.checks.cifar_cnn import *  # noqa: F403
from coursekit.checks.data_preparation import *  # noqa: F403
from coursekit.checks.keras_cnn import *  # noqa: F403
from coursekit.checks.knn import *  # noqa: F403
from coursekit.checks.mlp_deep import *  # noqa: F403
from coursekit.checks.mlp_modular import *  # noqa: F403
from coursekit.checks.mlp_optimisers import *  # noqa: F403
from coursekit.checks.mlp_training import *  # noqa: F403
from coursekit.checks.mlp_two_layer import *  # noqa: F403
from coursekit.checks.softmax import *  # noqa: F403
from coursekit.checks.softmax_training import *  # noqa: F403
