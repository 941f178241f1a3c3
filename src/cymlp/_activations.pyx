"""Activations and their derivatives, in place.

Design:
a) The forward kernel fuses the bias add with the activation: one pass over
   z (rows x cols, C-contiguous) computes z <- f(z + b).
b) Derivatives are taken from the activation *output* a = f(z), as
   scikit-learn does: relu' = [a != 0], tanh' = 1 - a^2,
   logistic' = a (1 - a); the backward delta is multiplied in place.
c) softmax subtracts the row max before exp; logistic and exp never overflow
   into NaN (logistic picks the stable branch by sign). Softmax's
   exponentials are computed in arithmetic alone (Cephes' method, within
   2 ulp), in one vectorized loop over the batch: with small output layers
   (10 classes) they were the costliest serial pass of a small network.
   The C of these kernels is in _kernels/activations.h.
d) ReLU, the hidden activation of nearly every network, runs in the SIMD
   variants of _kernels/simd.h (bias + ReLU forward, the mask backward): these are
   the serial passes between the products, which count most when the BLAS
   runs the products on several threads.
"""
from cython cimport floating
from libc.math cimport exp, expf, tanh, tanhf

import numpy as np

from cymlp._simd cimport choose_variant, cymlp_simd_name

cdef extern from "_kernels/activations.h":
    void cymlp_activations_select(int variant) noexcept nogil
    void cymlp_bias_relu_f32(float* z, const float* b, Py_ssize_t rows,
                             Py_ssize_t cols) noexcept nogil
    void cymlp_bias_relu_f64(double* z, const double* b, Py_ssize_t rows,
                             Py_ssize_t cols) noexcept nogil
    void cymlp_relu_mask_f32(const float* a, float* d, Py_ssize_t n) noexcept nogil
    void cymlp_relu_mask_f64(const double* a, double* d, Py_ssize_t n) noexcept nogil
    float cymlp_expf(float x) noexcept nogil
    double cymlp_exp(double x) noexcept nogil
    void cymlp_softmax_f32(float* z, const float* b, Py_ssize_t rows,
                           Py_ssize_t cols) noexcept nogil
    void cymlp_softmax_f64(double* z, const double* b, Py_ssize_t rows,
                           Py_ssize_t cols) noexcept nogil

# The SIMD variant of this module's kernels, chosen once (see _simd.pxd).
cdef int _simd_variant = choose_variant()
cymlp_activations_select(_simd_variant)
SIMD_VARIANT = cymlp_simd_name(_simd_variant).decode()

ACTIVATION_CODES = {
    "identity": IDENTITY,
    "logistic": LOGISTIC,
    "tanh": TANH,
    "relu": RELU,
    "softmax": SOFTMAX,
    "exp": EXP,
}


cdef inline floating _exp(floating x) noexcept nogil:
    if floating is float:
        return expf(x)
    else:
        return exp(x)


cdef inline floating _logistic(floating x) noexcept nogil:
    cdef floating e
    if x >= 0:
        return 1 / (1 + _exp(-x))
    e = _exp(x)
    return e / (1 + e)


cdef void bias_activation(int kind, floating* z, const floating* bias,
                          Py_ssize_t rows, Py_ssize_t cols) noexcept nogil:
    """z[i, j] <- f(z[i, j] + bias[j]) in place; bias may be NULL."""
    cdef Py_ssize_t i, j
    cdef floating* row
    cdef floating v
    if kind == RELU and bias != NULL:
        # the common case, in one pass
        if floating is float:
            cymlp_bias_relu_f32(z, bias, rows, cols)
        else:
            cymlp_bias_relu_f64(z, bias, rows, cols)
        return
    if kind == SOFTMAX:
        if floating is float:
            cymlp_softmax_f32(z, bias, rows, cols)
        else:
            cymlp_softmax_f64(z, bias, rows, cols)
        return
    for i in range(rows):
        row = z + i * cols
        if bias != NULL:
            for j in range(cols):
                row[j] += bias[j]
        if kind == RELU:
            for j in range(cols):
                v = row[j]
                row[j] = 0 if v <= 0 else v   # NaN stays NaN (np.maximum's)
        elif kind == TANH:
            for j in range(cols):
                if floating is float:
                    row[j] = tanhf(row[j])
                else:
                    row[j] = tanh(row[j])
        elif kind == LOGISTIC:
            for j in range(cols):
                row[j] = _logistic(row[j])
        elif kind == EXP:
            for j in range(cols):
                row[j] = _exp(row[j])
        # IDENTITY: nothing


cdef void multiply_derivative(int kind, const floating* a, floating* delta,
                              Py_ssize_t n) noexcept nogil:
    """delta *= f'(z), with f'(z) expressed through a = f(z), over n elements."""
    cdef Py_ssize_t i
    if kind == RELU:
        if floating is float:
            cymlp_relu_mask_f32(a, delta, n)
        else:
            cymlp_relu_mask_f64(a, delta, n)
    elif kind == TANH:
        for i in range(n):
            delta[i] *= 1 - a[i] * a[i]
    elif kind == LOGISTIC:
        for i in range(n):
            delta[i] *= a[i]
            delta[i] *= 1 - a[i]
    # IDENTITY: derivative 1


def apply_activation(name, floating[:, ::1] z, bias=None):
    """Test hook: z <- f(z + bias) in place.

    Parameters
    ----------
    name : str
        One of ``ACTIVATION_CODES``.
    z : ndarray of shape (rows, cols), C-contiguous, float32 or float64
    bias : ndarray of shape (cols,) or None
    """
    cdef const floating[::1] b
    cdef const floating* bp = NULL
    if bias is not None:
        b = np.ascontiguousarray(bias, dtype=np.asarray(z).dtype)
        bp = &b[0]
    cdef int kind = ACTIVATION_CODES[name]
    bias_activation(kind, &z[0, 0], bp, z.shape[0], z.shape[1])


def apply_derivative(name, const floating[:, ::1] a, floating[:, ::1] delta):
    """Test hook: delta *= f'(z) in place, given a = f(z)."""
    cdef int kind = ACTIVATION_CODES[name]
    multiply_derivative(kind, &a[0, 0], &delta[0, 0], a.shape[0] * a.shape[1])


def softmax_exp(floating[::1] x):
    """Test hook: x <- exp(x) in place, by the exponential softmax uses."""
    cdef Py_ssize_t i
    for i in range(x.shape[0]):
        if floating is float:
            x[i] = cymlp_expf(x[i])
        else:
            x[i] = cymlp_exp(x[i])
