"""Row-major BLAS wrappers over ``scipy.linalg.cython_blas``.

scipy's BLAS is Fortran (column-major). A C-ordered matrix X (r x c, leading
dimension ld) is, to Fortran, the column-major matrix X^T (c x r, same ld). So
the row-major product C = op(A) op(B) is computed as C^T = op(B)^T op(A)^T,
i.e. ``?gemm(tb, ta, n, m, k, alpha, B, ldb, A, lda, beta, C, ldc)``. This is
the one place that knows it; ``tests/test_blas.py`` guards it with the
dtype x transA x transB grid. The layout is also the one NumPy's cblas
RowMajor calls produce, which keeps results bit-compatible with NumPy.
"""
cimport cython
from cython cimport floating
from scipy.linalg.cython_blas cimport sgemm, dgemm, sdot, ddot, saxpy, daxpy, sscal, dscal

import time

import numpy as np


cdef void gemm(bint trans_a, bint trans_b, int m, int n, int k, floating alpha,
               const floating* a, int lda, const floating* b, int ldb,
               floating beta, floating* c, int ldc) noexcept nogil:
    """C (m x n, row-major) = alpha op(A) op(B) + beta C, op(A) m x k, op(B) k x n."""
    cdef char ta = b'T' if trans_a else b'N'
    cdef char tb = b'T' if trans_b else b'N'
    if m == 0 or n == 0:
        return
    if floating is float:
        sgemm(&tb, &ta, &n, &m, &k, &alpha, <float*>b, &ldb, <float*>a, &lda,
              &beta, c, &ldc)
    else:
        dgemm(&tb, &ta, &n, &m, &k, &alpha, <double*>b, &ldb, <double*>a, &lda,
              &beta, c, &ldc)


cdef floating dot(int n, const floating* x, const floating* y) noexcept nogil:
    """Return x . y (unit strides)."""
    cdef int one = 1
    if floating is float:
        return sdot(&n, <float*>x, &one, <float*>y, &one)
    else:
        return ddot(&n, <double*>x, &one, <double*>y, &one)


cdef void axpy(int n, floating alpha, const floating* x, floating* y) noexcept nogil:
    """y += alpha x (unit strides)."""
    cdef int one = 1
    if floating is float:
        saxpy(&n, &alpha, <float*>x, &one, y, &one)
    else:
        daxpy(&n, &alpha, <double*>x, &one, y, &one)


cdef void scal(int n, floating alpha, floating* x) noexcept nogil:
    """x *= alpha (unit stride)."""
    cdef int one = 1
    if floating is float:
        sscal(&n, &alpha, x, &one)
    else:
        dscal(&n, &alpha, x, &one)


def _gemm_memview(bint trans_a, bint trans_b, const floating[:, ::1] A,
                  const floating[:, ::1] B, floating[:, ::1] C, double alpha=1.0,
                  double beta=0.0):
    """Test hook: C = alpha op(A) op(B) + beta C on C-contiguous arrays, in place.

    Parameters
    ----------
    trans_a, trans_b : bool
        Whether A, B enter the product transposed.
    A, B : ndarray, C-contiguous
        Factors. op(A) must be (m, k) and op(B) (k, n).
    C : ndarray of shape (m, n), C-contiguous
        Updated in place.
    alpha, beta : float
        Scalars of the BLAS update.
    """
    cdef int m = C.shape[0]
    cdef int n = C.shape[1]
    cdef int k = A.shape[0] if trans_a else A.shape[1]
    if (A.shape[1] if trans_a else A.shape[0]) != m:
        raise ValueError("op(A) rows do not match C")
    if (B.shape[0] if trans_b else B.shape[1]) != n:
        raise ValueError("op(B) columns do not match C")
    if (B.shape[1] if trans_b else B.shape[0]) != k:
        raise ValueError("inner dimensions do not match")
    with nogil:
        gemm(trans_a, trans_b, m, n, k, <floating>alpha, &A[0, 0], A.shape[1],
             &B[0, 0], B.shape[1], <floating>beta, &C[0, 0], C.shape[1])


def _dot_memview(const floating[::1] x, const floating[::1] y):
    """Test hook: x . y."""
    return dot(x.shape[0], &x[0], &y[0])


def _axpy_memview(const floating[::1] x, floating[::1] y, double alpha):
    """Test hook: y += alpha x, in place."""
    axpy(x.shape[0], <floating>alpha, &x[0], &y[0])


def _scal_memview(floating[::1] x, double alpha):
    """Test hook: x *= alpha, in place."""
    scal(x.shape[0], <floating>alpha, &x[0])


cdef void _gemm_steps(floating* ws, const Py_ssize_t[:, ::1] plan, int n_steps) noexcept nogil:
    cdef int s, j
    for s in range(n_steps):
        for j in range(plan.shape[0]):
            gemm(<bint>plan[j, 0], <bint>plan[j, 1], <int>plan[j, 2], <int>plan[j, 3],
                 <int>plan[j, 4], <floating>1.0, ws + plan[j, 5], <int>plan[j, 6],
                 ws + plan[j, 7], <int>plan[j, 8], <floating>0.0, ws + plan[j, 9],
                 <int>plan[j, 10])


def _run_plan(floating[::1] ws, const Py_ssize_t[:, ::1] plan, int n_steps):
    with nogil:
        _gemm_steps(&ws[0], plan, n_steps)


@cython.wraparound(True)
def gemm_only_seconds(layer_units, int batch_size, dtype=np.float32, int n_steps=20,
                      bint forward_only=False):
    """Time the matrix products of ``n_steps`` training steps, and nothing else.

    Per step and layer (fan_in -> fan_out): the forward product
    (batch x fan_in)(fan_in x fan_out), the weight gradient
    (fan_in x batch)(batch x fan_out) and, except for the first layer, the
    input gradient (batch x fan_out)(fan_out x fan_in): the same calls, shapes,
    dtype and BLAS (and so the same threads) as the training engine. This is
    the ceiling the engine is measured against.

    Parameters
    ----------
    layer_units : sequence of int
        Units per layer, input first, e.g. ``[784, 256, 128, 10]``.
    batch_size : int
        Rows per step.
    dtype : {np.float32, np.float64}
    n_steps : int
        Steps to time.
    forward_only : bool
        Time only the forward products (the prediction ceiling).

    Returns
    -------
    seconds : float
        Wall time of the ``n_steps`` steps.
    """
    units = [int(u) for u in layer_units]
    B = int(batch_size)
    sizes = []
    rows = []

    def alloc(n):
        off = sum(sizes)
        sizes.append(n)
        return off

    acts = [alloc(B * u) for u in units]
    weights = [alloc(a * b) for a, b in zip(units[:-1], units[1:])]
    grads = [alloc(a * b) for a, b in zip(units[:-1], units[1:])]
    dins = [alloc(B * u) for u in units]
    for i, (fi, fo) in enumerate(zip(units[:-1], units[1:])):
        # forward: acts[i+1] = acts[i] @ W
        rows.append((0, 0, B, fo, fi, acts[i], fi, weights[i], fo, acts[i + 1], fo))
    if not forward_only:
        for i in range(len(units) - 2, -1, -1):
            fi, fo = units[i], units[i + 1]
            if i > 0:   # dins[i] = dins[i+1] @ W.T
                rows.append((0, 1, B, fi, fo, dins[i + 1], fo, weights[i], fo, dins[i], fi))
            # grads = acts[i].T @ dins[i+1]
            rows.append((1, 0, fi, fo, B, acts[i], fi, dins[i + 1], fo, grads[i], fo))
    ws = np.random.RandomState(0).uniform(-0.1, 0.1, sum(sizes)).astype(dtype)
    plan = np.ascontiguousarray(rows, dtype=np.intp)
    _run_plan(ws, plan, 1)   # warm up
    t0 = time.perf_counter()
    _run_plan(ws, plan, n_steps)
    return time.perf_counter() - t0
