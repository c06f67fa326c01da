"""Wrong answers to notebook 02's distance matrices (the references are the solution
notebook's own functions).

Those with ``mistake=`` are recorded by ``make build``: their results on the checks' inputs
name the mistake (the keys of the messages in ``pixelschool/checks/knn_distances.py``). The
correct variants (``@right``) are distances as textbooks write them.
"""

import math

import numpy as np

from pixelschool_admin.answers.registry import right, solution_functions, wrong

solution = solution_functions("02_knn")

# --- distance_matrix_two_loops -----------------------------------------------------


@wrong("distance_matrix_two_loops", says="but not for uint8 images", mistake="uint8_wrap")
def two_loops_uint8(matrix1, matrix2):
    dists = np.zeros((len(matrix1), len(matrix2)))
    for i in range(len(matrix1)):
        for j in range(len(matrix2)):
            dists[i, j] = np.sqrt(np.sum((matrix1[i] - matrix2[j]) ** 2))
    return dists


@wrong("distance_matrix_two_loops", says="squared distances")
def two_loops_no_sqrt(matrix1, matrix2):
    matrix1, matrix2 = matrix1.astype(float), matrix2.astype(float)
    dists = np.zeros((len(matrix1), len(matrix2)))
    for i in range(len(matrix1)):
        for j in range(len(matrix2)):
            dists[i, j] = np.sum((matrix1[i] - matrix2[j]) ** 2)
    return dists


@wrong("distance_matrix_two_loops", says="rows and columns are swapped")
def two_loops_transposed(matrix1, matrix2):
    matrix1, matrix2 = matrix1.astype(float), matrix2.astype(float)
    dists = np.zeros((len(matrix2), len(matrix1)))
    for i in range(len(matrix1)):
        for j in range(len(matrix2)):
            dists[j, i] = np.linalg.norm(matrix1[i] - matrix2[j])
    return dists


@wrong("distance_matrix_two_loops", says="return float64")
def two_loops_zeros_like(matrix1, matrix2):
    dists = np.zeros_like(matrix1, shape=(len(matrix1), len(matrix2)))
    for i in range(len(matrix1)):
        for j in range(len(matrix2)):
            dists[i, j] = np.linalg.norm(matrix1[i].astype(float) - matrix2[j])
    return dists


@wrong("distance_matrix_two_loops", says="returned L1 distances", mistake="l1_instead")
def two_loops_manhattan(matrix1, matrix2):
    matrix1, matrix2 = matrix1.astype(float), matrix2.astype(float)
    dists = np.zeros((len(matrix1), len(matrix2)))
    for i in range(len(matrix1)):
        for j in range(len(matrix2)):
            dists[i, j] = np.sum(np.abs(matrix1[i] - matrix2[j]))
    return dists


@wrong("distance_matrix_two_loops", says="should use two nested loops")
def two_loops_vectorised(matrix1, matrix2):
    return solution.distance_matrix(matrix1, matrix2)


@wrong("distance_matrix_two_loops", says="before subtracting, squaring or summing")
def two_loops_uint8_result(matrix1, matrix2):
    """Raises OverflowError on uint8 images: a Python float above 255 into a uint8 array."""
    dists = np.zeros_like(matrix1, shape=(len(matrix1), len(matrix2)))
    for i in range(len(matrix1)):
        for j in range(len(matrix2)):
            dists[i, j] = math.sqrt(np.sum((matrix1[i].astype(float) - matrix2[j]) ** 2))
    return dists


@right("distance_matrix_two_loops")
def two_loops_norm(matrix1, matrix2):
    dists = np.zeros((len(matrix1), len(matrix2)))
    for i in range(len(matrix1)):
        for j in range(len(matrix2)):
            dists[i, j] = np.linalg.norm(matrix1[i].astype(np.float64) - matrix2[j])
    return dists


# --- distance_matrix_one_loop ------------------------------------------------------


@wrong("distance_matrix_one_loop", says="but not for uint8 images", mistake="uint8_wrap")
def one_loop_uint8(matrix1, matrix2):
    dists = np.zeros((len(matrix1), len(matrix2)))
    for i in range(len(matrix1)):
        dists[i] = np.sqrt(np.sum((matrix2 - matrix1[i]) ** 2, axis=1))
    return dists


@wrong("distance_matrix_one_loop", says="uses 2 nested loops")
def one_loop_two_loops(matrix1, matrix2):
    matrix1, matrix2 = matrix1.astype(float), matrix2.astype(float)
    dists = np.zeros((len(matrix1), len(matrix2)))
    for i in range(len(matrix1)):
        for j in range(len(matrix2)):
            dists[i, j] = np.linalg.norm(matrix1[i] - matrix2[j])
    return dists


@wrong("distance_matrix_one_loop", says="squared distances")
def one_loop_no_sqrt(matrix1, matrix2):
    matrix1, matrix2 = matrix1.astype(float), matrix2.astype(float)
    dists = np.zeros((len(matrix1), len(matrix2)))
    for i in range(len(matrix1)):
        dists[i] = np.sum((matrix2 - matrix1[i]) ** 2, axis=1)
    return dists


@wrong("distance_matrix_one_loop", says="dists[")
def one_loop_sum_everything(matrix1, matrix2):
    matrix1, matrix2 = matrix1.astype(float), matrix2.astype(float)
    dists = np.zeros((len(matrix1), len(matrix2)))
    for i in range(len(matrix1)):
        dists[i] = np.sqrt(np.sum((matrix2 - matrix1[i]) ** 2))  # no axis: one number per row
    return dists


@wrong("distance_matrix_one_loop", says="uses no loop")
def one_loop_vectorised(matrix1, matrix2):
    return solution.distance_matrix(matrix1, matrix2)


@right("distance_matrix_one_loop")
def one_loop_norm(matrix1, matrix2):
    matrix1, matrix2 = matrix1.astype(np.float64), matrix2.astype(np.float64)
    dists = np.zeros((len(matrix1), len(matrix2)))
    for i in range(len(matrix1)):
        dists[i] = np.linalg.norm(matrix2 - matrix1[i], axis=1)
    return dists


# --- distance_matrix ----------------------------------------------------------------


@wrong("distance_matrix", says="uses a `for` loop")
def distance_matrix_loops(matrix1, matrix2):
    matrix1, matrix2 = matrix1.astype(float), matrix2.astype(float)
    dists = np.zeros((len(matrix1), len(matrix2)))
    for i in range(len(matrix1)):
        dists[i] = np.sqrt(np.sum((matrix2 - matrix1[i]) ** 2, axis=1))
    return dists


@wrong("distance_matrix", says="list comprehension")
def distance_matrix_comprehension(matrix1, matrix2):
    matrix1, matrix2 = matrix1.astype(float), matrix2.astype(float)
    return np.array([np.linalg.norm(matrix2 - row, axis=1) for row in matrix1])


@wrong("distance_matrix", says="squared distances")
def distance_matrix_no_sqrt(matrix1, matrix2):
    matrix1, matrix2 = matrix1.astype(float), matrix2.astype(float)
    squares1 = np.sum(matrix1**2, axis=1)[:, np.newaxis]
    squares2 = np.sum(matrix2**2, axis=1)
    return np.maximum(squares1 + squares2 - 2 * matrix1 @ matrix2.T, 0)


@wrong("distance_matrix", says="but not for uint8 images", mistake="uint8_wrap")
def distance_matrix_uint8(matrix1, matrix2):
    squares1 = np.sum(matrix1**2, axis=1)[:, np.newaxis]
    squares2 = np.sum(matrix2**2, axis=1)
    return np.sqrt(np.maximum(squares1 + squares2 - 2.0 * (matrix1 @ matrix2.T), 0))


@wrong("distance_matrix", says="rows and columns are swapped")
def distance_matrix_transposed(matrix1, matrix2):
    return solution.distance_matrix(matrix2, matrix1)


@wrong("distance_matrix", says="Return float64")
def distance_matrix_float32(matrix1, matrix2):
    matrix1, matrix2 = matrix1.astype(np.float32), matrix2.astype(np.float32)
    squares1 = np.sum(matrix1**2, axis=1)[:, np.newaxis]
    squares2 = np.sum(matrix2**2, axis=1)
    return np.sqrt(np.maximum(squares1 + squares2 - 2 * matrix1 @ matrix2.T, 0))


@wrong("distance_matrix", says="builds an array as large as (N1, N2, D)")
def distance_matrix_broadcast_cube(matrix1, matrix2):
    difference = matrix1.astype(float)[:, np.newaxis, :] - matrix2.astype(float)[np.newaxis]
    return np.sqrt(np.sum(difference**2, axis=2))


@wrong("distance_matrix", says="Clip at 0")
def distance_matrix_no_clip(matrix1, matrix2):
    matrix1, matrix2 = matrix1.astype(float), matrix2.astype(float)
    squares1 = np.sum(matrix1**2, axis=1)[:, np.newaxis]
    squares2 = np.sum(matrix2**2, axis=1)
    squared = squares1 + squares2 - 2 * matrix1 @ matrix2.T
    squared[np.abs(squared) < 1e-6] = -1e-9  # what rounding does to some equal rows, made sure
    with np.errstate(invalid="ignore"):  # NaN, as the student sees it, without the warning
        return np.sqrt(squared)


@right("distance_matrix")
def distance_matrix_abs_before_sqrt(matrix1, matrix2):
    matrix1, matrix2 = matrix1.astype(np.float64), matrix2.astype(np.float64)
    squared = (matrix1**2).sum(axis=1)[:, None] + (matrix2**2).sum(axis=1) - 2 * matrix1 @ matrix2.T
    return np.sqrt(np.abs(squared))


# --- distance_matrix_l1 --------------------------------------------------------------


@wrong("distance_matrix_l1", says="np.abs(np.uint8(3) - np.uint8(5)) is 254", mistake="uint8_wrap")
def l1_uint8(matrix1, matrix2):
    dists = np.zeros((len(matrix1), len(matrix2)))
    for i in range(len(matrix1)):
        dists[i] = np.sum(np.abs(matrix2 - matrix1[i]), axis=1)
    return dists


@wrong("distance_matrix_l1", says="returned Euclidean (L2) distances", mistake="l2_instead")
def l1_euclidean(matrix1, matrix2):
    return solution.distance_matrix(matrix1, matrix2)


@wrong("distance_matrix_l1", says="takes a square root")
def l1_with_sqrt(matrix1, matrix2):
    return np.sqrt(solution.distance_matrix_l1(matrix1, matrix2))


@wrong("distance_matrix_l1", says="sums the signed differences", mistake="signed_differences")
def l1_no_abs(matrix1, matrix2):
    matrix1, matrix2 = matrix1.astype(float), matrix2.astype(float)
    return matrix1.sum(axis=1)[:, np.newaxis] - matrix2.sum(axis=1)


@wrong("distance_matrix_l1", says="sums the signed differences", mistake="signed_differences")
def l1_no_abs_other_sign(matrix1, matrix2):
    matrix1, matrix2 = matrix1.astype(float), matrix2.astype(float)
    dists = np.zeros((len(matrix1), len(matrix2)))
    for i in range(len(matrix1)):
        dists[i] = np.sum(matrix2 - matrix1[i], axis=1)
    return dists


@wrong("distance_matrix_l1", says="sums the signed differences", mistake="signed_differences")
def l1_abs_of_the_sum(matrix1, matrix2):
    matrix1, matrix2 = matrix1.astype(float), matrix2.astype(float)
    dists = np.zeros((len(matrix1), len(matrix2)))
    for i in range(len(matrix1)):
        dists[i] = np.abs(np.sum(matrix2 - matrix1[i], axis=1))
    return dists


@wrong("distance_matrix_l1", says="uses 2 nested loops")
def l1_two_loops(matrix1, matrix2):
    matrix1, matrix2 = matrix1.astype(float), matrix2.astype(float)
    dists = np.zeros((len(matrix1), len(matrix2)))
    for i in range(len(matrix1)):
        for j in range(len(matrix2)):
            dists[i, j] = np.sum(np.abs(matrix1[i] - matrix2[j]))
    return dists


@wrong("distance_matrix_l1", says="builds an array as large as (N1, N2, D)")
def l1_broadcast_cube(matrix1, matrix2):
    difference = matrix1.astype(float)[:, np.newaxis, :] - matrix2.astype(float)[np.newaxis]
    return np.sum(np.abs(difference), axis=2)


@right("distance_matrix_l1")
def l1_norm_ord_1(matrix1, matrix2):
    matrix1, matrix2 = matrix1.astype(np.float64), matrix2.astype(np.float64)
    return np.array([np.linalg.norm(matrix2 - row, ord=1, axis=1) for row in matrix1])
