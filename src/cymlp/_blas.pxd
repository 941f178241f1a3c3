# Fused float/double wrappers over scipy.linalg.cython_blas for row-major
# (C-ordered) arrays. All sizes are 32-bit ints (LP64 BLAS); the facade checks
# dimensions before calling into the engine.
from cython cimport floating

cdef void gemm(bint trans_a, bint trans_b, int m, int n, int k, floating alpha,
               const floating* a, int lda, const floating* b, int ldb,
               floating beta, floating* c, int ldc) noexcept nogil
cdef floating dot(int n, const floating* x, const floating* y) noexcept nogil
