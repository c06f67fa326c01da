"""Feedback checks for notebook 02, part 1: the distance matrices (two loops, one loop, no
loop, and L1).

The distances are judged against the solution's recorded ones (``knn_common.judge``), the
usual mistakes named from the recorded results of the wrong answers in
``pixelschool_admin/answers/knn_distances.py``. The loops, and the memory used (no (N1, N2, D)
array), are checked on the student's own function.
"""

import numpy as np

from pixelschool.checks.compare import RTOL
from pixelschool.checks.framework import (
    UINT8_ADVICE,
    expect,
    expect_array,
    feedback_check,
    peak_memory,
)
from pixelschool.checks.knn_common import judge
from pixelschool.checks.loops import forbid_loops, loop_depth
from pixelschool.checks.mistakes import named

__all__ = [
    "test_distance_matrix_two_loops",
    "test_distance_matrix_one_loop",
    "test_distance_matrix",
    "test_distance_matrix_l1",
]

FORMULA = {
    "L2": "sqrt(sum((matrix1[i] - matrix2[j]) ** 2))",
    "L1": "sum(|matrix1[i] - matrix2[j]|)",
}
EXPAND = (
    "Expand the square instead: |a - b|^2 = |a|^2 + |b|^2 - 2 a.b, where all the a.b are one "
    "matrix product, matrix1 @ matrix2.T."
)
ROW_BY_ROW = "Loop over the rows of matrix1 instead, so that each step holds an (N2, D) array only."


def distance_inputs(rng):
    """(matrix1 (N1, D), matrix2 (N2, D)) pairs: worked cases (ints, and uint8 where 0 - 255
    wraps to 1), float rows with a repeated row (distance 0, where rounding can go below 0),
    uint8 images and their float64 copies. N1 != N2 but once, so swapped axes show."""
    points = np.array([[0, 0], [3, 4]])
    cases = [
        (points, np.array([[0, 0]])),
        (points, np.array([[0, 0], [6, 8]])),
        (np.array([[0, 0]], np.uint8), np.array([[255, 255]], np.uint8)),
        (np.array([[3]], np.uint8), np.array([[5]], np.uint8)),
    ]
    n1 = int(rng.integers(3, 7))
    n2 = n1 + int(rng.integers(2, 6))
    d = int(rng.integers(5, 12))
    matrix1, matrix2 = rng.normal(0, 3, size=(n1, d)), rng.normal(0, 3, size=(n2, d))
    matrix2[1] = matrix1[0]
    d = int(rng.integers(20, 50))
    images1 = rng.integers(0, 256, size=(n2, d), dtype=np.uint8)
    images2 = rng.integers(0, 256, size=(n1 + 1, d), dtype=np.uint8)
    images2[0, :4] = images1[0, :4] + 1  # differences of -1: 255 where uint8 wraps
    floats = (images1.astype(np.float64), images2.astype(np.float64))
    return cases + [(matrix1, matrix2), (images1, images2), floats]


DISTANCE_MESSAGES = {  # after "<name> "
    "L2": {
        "uint8_wrap": "gives the right distances for float inputs but not for uint8 images. "
        + UINT8_ADVICE,
        "l1_instead": "returned L1 distances (sums of absolute differences); the Euclidean (L2) "
        f"distance sums the squared differences and takes the square root: {FORMULA['L2']}.",
    },
    "L1": {
        "uint8_wrap": "gives the right distances for float inputs but not for uint8 images. "
        f"np.abs(np.uint8(3) - np.uint8(5)) is 254, not 2, so {FORMULA['L1']} comes out wrong. "
        + UINT8_ADVICE,
        "l2_instead": "returned Euclidean (L2) distances; the L1 distance is the sum of the "
        f"absolute differences, {FORMULA['L1']}, with no squares and no square root.",
        "signed_differences": "sums the signed differences: take the absolute value of each "
        f"difference (np.abs) before summing, {FORMULA['L1']}, or positive and negative "
        "differences cancel out.",
    },
}
SQUARED = "returned squared distances: take the square root (np.sqrt) at the end."
SQUARE_ROOT = f"takes a square root: the L1 distance is the plain sum, {FORMULA['L1']}."
NAN = (
    "returned NaN: rounding makes |a|^2 + |b|^2 - 2 a.b slightly negative when two rows are "
    "equal, and np.sqrt of a negative number is NaN. Clip at 0 with np.maximum(..., 0) before "
    "the square root."
)


def check_distance_array(result, case, name, metric):
    """Type, shape and dtype of one distance matrix: (N1, N2) float64."""
    matrix1, matrix2 = case.args
    n1, n2 = len(matrix1), len(matrix2)
    expect_array(result, f"{name}'s result")
    expect(
        n1 == n2 or result.shape != (n2, n1),
        f"rows and columns are swapped: {name}(matrix1, matrix2) has one row per row of "
        f"matrix1 and one column per row of matrix2, shape (N1, N2) = ({n1}, {n2}); you "
        f"returned {result.shape}.",
        mistake="swapped",
    )
    expect(
        result.shape == (n1, n2),
        f"{name} returned shape {result.shape} for matrix1 {matrix1.shape} and matrix2 "
        f"{matrix2.shape}; expected (N1, N2) = ({n1}, {n2}), one distance per pair of rows.",
    )
    expect(
        result.dtype.kind == "f",
        f"{name} returned {result.dtype} values: distances are real numbers, return float64 "
        "(np.zeros((N1, N2)) is float64, but np.zeros_like(matrix1) takes the integer dtype "
        "of integer images and cuts off the decimals).",
        mistake="integer_distances",
    )
    why = (
        "as the exercise asks: convert both matrices with .astype(np.float64) first."
        if metric == "L1"
        else "the distances come out of |a|^2 + |b|^2 - 2 a.b, a difference of large numbers "
        "(up to 3072 * 255^2 = 2 * 10^8 for CIFAR-10 images) that needs float64's 16 digits."
    )
    expect(
        result.dtype == np.float64,
        f"Return float64 (you returned {result.dtype}): {why}",
        mistake="float32",
    )


def distance_judge(name, metric):
    """The judge of a distance matrix exercise, ``metric`` "L1" or "L2"."""

    def first_wrong_entry(result, case):
        expected = case.expected
        atol = RTOL * (1 + np.abs(expected).max(initial=0))
        i, j = np.argwhere(~np.isclose(result, expected, rtol=RTOL, atol=atol))[0]
        return (
            f"{name}: dists[{i}, {j}] should be the {metric} distance {FORMULA[metric]} "
            f"between matrix1[{i}] and matrix2[{j}], {expected[i, j]:.6g}; yours is "
            f"{result[i, j]:.6g}."
        )

    def nan(result, case):
        return metric == "L2" and np.isnan(result).any() and f"{name} {NAN}"

    return judge(
        name,
        lambda result, case: check_distance_array(result, case, name, metric),
        lambda result, case: f"{name} ",
        DISTANCE_MESSAGES[metric],
        [(lambda c: c.expected**2, SQUARED)]
        if metric == "L2"
        else [(lambda c: np.sqrt(c.expected), SQUARE_ROOT)],
        first=[nan],
        otherwise=first_wrong_entry,
    )


def loops(wanted, at_most=False):
    """A property check: the function nests exactly ``wanted`` loops (or at most)."""

    def check(fn, name, rng):
        depth = loop_depth(fn)
        if depth is None or depth == wanted or (at_most and depth < wanted):
            return
        if wanted == 2:
            raise named(
                f"{name} should use two nested loops (you have {depth}): over the rows of "
                "matrix1 and, inside, over the rows of matrix2, computing one distance per "
                "step. It is the slow version the others are timed against.",
                "too_few_loops",
            )
        if depth > wanted:
            raise named(
                f"{name} uses {depth} nested loops; use one loop, over the rows of matrix1, and "
                "compute a whole row of distances per step: matrix2 - matrix1[i] broadcasts to "
                "(N2, D).",
                "too_many_loops",
            )
        raise named(
            f"{name} uses no loop: this exercise asks for one loop over the rows of matrix1 "
            "(the loop-free version is distance_matrix), so that you can time the three "
            "versions.",
            "no_loop",
        )

    return check


def no_cube(advice):
    """A property check: the function builds no (N1, N2, D) array.

    On 40 x 50 rows of 3072 values that array takes 47 MiB; the inputs take 2 MiB.
    """

    def check(fn, name, rng):
        n1, n2, d = 40, 50, 3072
        peak = peak_memory(fn, rng.normal(size=(n1, d)), rng.normal(size=(n2, d)))
        expect(
            isinstance(peak, int | float) and not isinstance(peak, bool),
            f"{name}: the memory it used was not measured in your kernel.",
        )
        expect(
            peak < n1 * n2 * d * 8 / 2,
            f"{name} builds an array as large as (N1, N2, D): for {n1} x {n2} rows of {d} "
            f"values it used {peak / 2**20:.0f} MiB (the inputs take "
            f"{(n1 + n2) * d * 8 / 2**20:.0f} MiB), and for 500 test and 5000 training "
            f"CIFAR-10 images it would need 61 GB. {advice}",
            mistake="cube_in_memory",
        )

    return check


def distance_check(name, metric, *properties):
    """``test_<name>``: the recorded distances, then ``properties`` (``check(fn, name, rng)``)
    on the student's function."""

    @feedback_check(name, inputs=distance_inputs, judge=distance_judge(name, metric))
    def check(fn, cases):
        cases.call_all(fn)
        for check_property in properties:
            check_property(fn, name, cases.rng)

    check.__name__ = check.__qualname__ = f"test_{name}"
    return check


# distance_matrix must not hand its work to these (the rule on loops reads its source only)
LOOP_VERSIONS = ("distance_matrix_two_loops", "distance_matrix_one_loop")

test_distance_matrix_two_loops = distance_check("distance_matrix_two_loops", "L2", loops(2))
test_distance_matrix_one_loop = distance_check("distance_matrix_one_loop", "L2", loops(1))
test_distance_matrix = distance_check(
    "distance_matrix",
    "L2",
    lambda fn, name, rng: forbid_loops(fn, loop_versions=LOOP_VERSIONS),
    no_cube(EXPAND),
)
test_distance_matrix_l1 = distance_check(
    "distance_matrix_l1", "L1", loops(1, at_most=True), no_cube(ROW_BY_ROW)
)
