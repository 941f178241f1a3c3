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
"""
from cython cimport floating
from libc.math cimport sqrt, sqrtf

import numpy as np


cdef void sgd_update(floating* w, const floating* g, floating* v, Py_ssize_t n,
                     floating lr, floating momentum, bint nesterov,
                     floating alpha, floating n_rows) noexcept nogil:
    """w, v (IN/OUT), g (IN): one SGD-with-momentum step over n elements."""
    cdef Py_ssize_t i
    cdef floating ge, vi
    if nesterov:
        for i in range(n):
            ge = (g[i] + alpha * w[i]) / n_rows
            vi = momentum * v[i] - lr * ge
            v[i] = vi
            w[i] += momentum * vi - lr * ge
    else:
        for i in range(n):
            ge = (g[i] + alpha * w[i]) / n_rows
            vi = momentum * v[i] - lr * ge
            v[i] = vi
            w[i] += vi


cdef void adam_update(floating* w, const floating* g, floating* m, floating* v,
                      Py_ssize_t n, double lr_t, double beta1, double beta2,
                      floating epsilon, floating alpha, floating n_rows) noexcept nogil:
    """w, m, v (IN/OUT), g (IN): one Adam step over n elements."""
    cdef Py_ssize_t i
    cdef floating ge, mi, vi
    # 1 - beta formed in double, then rounded, as NumPy does with Python floats
    cdef floating one_b1 = <floating>(1.0 - <double>beta1)
    cdef floating one_b2 = <floating>(1.0 - <double>beta2)
    cdef double lr_d = lr_t
    cdef floating b1 = <floating>beta1, b2 = <floating>beta2
    for i in range(n):
        ge = (g[i] + alpha * w[i]) / n_rows
        mi = b1 * m[i] + one_b1 * ge
        vi = b2 * v[i] + one_b2 * (ge * ge)
        m[i] = mi
        v[i] = vi
        if floating is float:
            # scikit-learn (NumPy >= 2, NEP 50) forms this step in float64
            # (its step size is a float64 scalar) and rounds once on w +=
            w[i] = <float>(<double>w[i] + (-lr_d * mi) / <double>(sqrtf(vi) + epsilon))
        else:
            w[i] += -lr_t * mi / (sqrt(vi) + epsilon)


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
