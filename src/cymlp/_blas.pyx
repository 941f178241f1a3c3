"""Row-major BLAS wrappers over ``scipy.linalg.cython_blas``.

scipy's BLAS is Fortran (column-major). A C-ordered matrix X (r x c, leading
dimension ld) is, to Fortran, the column-major matrix X^T (c x r, same ld). So
the row-major product C = op(A) op(B) is computed as C^T = op(B)^T op(A)^T,
i.e. ``?gemm(tb, ta, n, m, k, alpha, B, ldb, A, lda, beta, C, ldc)``. This is
the one place that knows it; ``tests/test_blas.py`` guards it with the
dtype x transA x transB grid. The layout is also the one NumPy's cblas
RowMajor calls produce, which keeps results bit-compatible with NumPy.
"""
from cython cimport floating
from scipy.linalg.cython_blas cimport sgemm, dgemm, sdot, ddot


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
