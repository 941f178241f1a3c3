"""Optimizer steps over one contiguous region of the flat parameter buffer.

Design:
a) The engine calls these once per layer region (coefficients, then
   intercepts) right after that layer's gradient is formed, while it is still
   in cache. The gradient arrives unscaled (a^T delta) and is finished on the
   fly, g_eff = (g + alpha w) / n, exactly as scikit-learn forms it (alpha = 0,
   n = 1 for intercepts, whose g is already the mean), so no separate pass over
   the weights or the gradient is needed.
b) SGD (scikit-learn's SGDOptimizer): v <- momentum v - lr g_eff; the update
   is v, or momentum v - lr g_eff with Nesterov; w += update.
c) Adam (scikit-learn's AdamOptimizer): m, v moments, and the bias-corrected
   step size lr_t = lr0 sqrt(1 - beta2^t) / (1 - beta1^t) computed by the caller;
   w -= lr_t m / (sqrt(v) + epsilon), epsilon on the uncorrected sqrt(v).
d) Plain SGD (momentum 0) never comes here: the engine folds it into the
   weight-gradient gemm itself (see _train.pyx).
e) These loops touch every parameter every step, so they are the one place
   where SIMD width shows against the gemm time: each is compiled in the
   SIMD variants of ``_kernels/simd.h`` (AVX-512, AVX2, baseline). The C is
   in ``_kernels/optimizers.h`` (Cython cannot attach function attributes);
   the arithmetic order is NumPy's, and contraction into FMA is off
   (setup.py), so results do not depend on the variant chosen.
"""
from cython cimport floating
from libc.math cimport frexp

import numpy as np

from cymlp._simd cimport choose_variant, cymlp_simd_name

cdef extern from "_kernels/optimizers.h":
    void cymlp_optimizers_select(int variant) noexcept nogil
    void cymlp_sgd_f32(float* w, const float* g, float* v, Py_ssize_t n, float lr,
                       float mom, int nesterov, float alpha, float n_rows, float inv_n,
                       int exact_inv) noexcept nogil
    void cymlp_sgd_f64(double* w, const double* g, double* v, Py_ssize_t n, double lr,
                       double mom, int nesterov, double alpha, double n_rows, double inv_n,
                       int exact_inv) noexcept nogil
    void cymlp_adam_f32(float* w, const float* g, float* m, float* v, Py_ssize_t n,
                        float lr_t, float b1, float b2, float one_b1, float one_b2,
                        float eps, float alpha, float n_rows, float inv_n,
                        int exact_inv) noexcept nogil
    void cymlp_adam_f64(double* w, const double* g, double* m, double* v, Py_ssize_t n,
                        double lr_t, double b1, double b2, double one_b1, double one_b2,
                        double eps, double alpha, double n_rows, double inv_n,
                        int exact_inv) noexcept nogil


# The SIMD variant of this module's kernels, chosen once (see _simd.pxd).
cdef int _simd_variant = choose_variant()
cymlp_optimizers_select(_simd_variant)
SIMD_VARIANT = cymlp_simd_name(_simd_variant).decode()

cdef inline bint _exact_inverse(double n) noexcept nogil:
    """1 / n is exact in binary floating point: n is a power of two."""
    cdef int e
    return n > 0 and frexp(n, &e) == 0.5


cdef void sgd_update(floating* w, const floating* g, floating* v, Py_ssize_t n,
                     floating lr, floating momentum, bint nesterov,
                     floating alpha, floating n_rows) noexcept nogil:
    """w, v (IN/OUT), g (IN): one SGD-with-momentum step over n elements."""
    cdef floating inv_n = <floating>(1.0 / n_rows)
    cdef bint exact = _exact_inverse(n_rows)
    if floating is float:
        cymlp_sgd_f32(w, g, v, n, lr, momentum, nesterov, alpha, n_rows, inv_n, exact)
    else:
        cymlp_sgd_f64(w, g, v, n, lr, momentum, nesterov, alpha, n_rows, inv_n, exact)


cdef void adam_update(floating* w, const floating* g, floating* m, floating* v,
                      Py_ssize_t n, double lr_t, double beta1, double beta2,
                      floating epsilon, floating alpha, floating n_rows) noexcept nogil:
    """w, m, v (IN/OUT), g (IN): one Adam step over n elements."""
    # 1 - beta formed in double, then rounded, as NumPy does with Python floats
    cdef floating one_b1 = <floating>(1.0 - beta1)
    cdef floating one_b2 = <floating>(1.0 - beta2)
    cdef floating inv_n = <floating>(1.0 / n_rows)
    cdef bint exact = _exact_inverse(n_rows)
    if floating is float:
        cymlp_adam_f32(w, g, m, v, n, <float>lr_t, <float>beta1, <float>beta2, one_b1, one_b2,
                       epsilon, alpha, n_rows, inv_n, exact)
    else:
        cymlp_adam_f64(w, g, m, v, n, lr_t, beta1, beta2, one_b1, one_b2,
                       epsilon, alpha, n_rows, inv_n, exact)


def sgd_step(floating[::1] w, const floating[::1] g, floating[::1] v, double lr,
             double momentum, bint nesterov, double alpha=0.0, double n_rows=1.0):
    """Test hook: one in-place SGD step on w and v, gradient (g + alpha w) / n_rows."""
    sgd_update(&w[0], &g[0], &v[0], w.shape[0], <floating>lr, <floating>momentum,
               nesterov, <floating>alpha, <floating>n_rows)


def adam_step(floating[::1] w, const floating[::1] g, floating[::1] m, floating[::1] v,
              double lr_t, double beta1, double beta2, double epsilon, double alpha=0.0,
              double n_rows=1.0):
    """Test hook: one in-place Adam step on w, m and v (lr_t already bias-corrected),
    gradient (g + alpha w) / n_rows."""
    adam_update(&w[0], &g[0], &m[0], &v[0], w.shape[0], lr_t, beta1, beta2,
                <floating>epsilon, <floating>alpha, <floating>n_rows)
