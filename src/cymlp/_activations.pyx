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
d) ReLU, the hidden activation of nearly every network, runs in the SIMD
   variants of _simd.pxd (bias + ReLU forward, the mask backward): these are
   the serial passes between the products, which count most when the BLAS
   runs the products on several threads.
"""
from cython cimport floating
from libc.math cimport exp, expf, tanh, tanhf

import numpy as np

from cymlp._simd cimport CYMLP_CLONED  # noqa: F401  (defines CYMLP_CLONES)

cdef extern from *:
    """
    /* z <- max(z + b, 0) row by row (NaN -> 0, as the select below); and
       delta <- a != 0 ? delta : 0, a select rather than a branch (the sign
       pattern is random: a branch would mispredict half the time). */
    #define CYMLP_RELU(BIAS_RELU, MASK, T)                                       \
    CYMLP_CLONES static void BIAS_RELU(T* z, const T* b, Py_ssize_t rows,        \
                                       Py_ssize_t cols) {                        \
        for (Py_ssize_t i = 0; i < rows; i++) {                                  \
            T* row = z + i * cols;                                               \
            for (Py_ssize_t j = 0; j < cols; j++) {                              \
                T v = row[j] + b[j];                                             \
                row[j] = v > 0 ? v : 0;                                          \
            }                                                                    \
        }                                                                        \
    }                                                                            \
    CYMLP_CLONES static void MASK(const T* a, T* d, Py_ssize_t n) {              \
        for (Py_ssize_t i = 0; i < n; i++)                                       \
            d[i] = a[i] != 0 ? d[i] : 0;                                         \
    }
    CYMLP_RELU(cymlp_bias_relu_f32, cymlp_relu_mask_f32, float)
    CYMLP_RELU(cymlp_bias_relu_f64, cymlp_relu_mask_f64, double)

    /* exp(x) in arithmetic alone, so that a loop of them vectorizes (a call
       to libm's exp does not). Cephes' method: x = n ln2 + r with |r| <=
       ln2 / 2 (ln2 in two parts, Cody-Waite), e^r by a polynomial (float)
       or a Pade form (double), times 2^n built in the exponent bits, in two
       factors so that results down to the subnormals come out right.
       Within 2 ulp of the exact value (tests/test_activations.py checks
       it against NumPy); NaN in, NaN out; 0 below the subnormals. */
    static CYTHON_INLINE float cymlp_expf(float x) {
        float c = x < -104.0f ? -104.0f : (x > 89.0f ? 89.0f : x);
        float n = (c * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
        float r = (c - n * 0.693359375f) - n * -2.12194440e-4f;
        float p = 1.9875691500e-4f;
        p = p * r + 1.3981999507e-3f;
        p = p * r + 8.3334519073e-3f;
        p = p * r + 4.1665795894e-2f;
        p = p * r + 1.6666665459e-1f;
        p = p * r + 5.0000001201e-1f;
        p = (p * (r * r) + r) + 1.0f;
        int ni = (int)n, n1 = ni >> 1, n2 = ni - n1;
        union { unsigned int u; float f; } s1, s2;
        s1.u = (unsigned int)(n1 + 127) << 23;
        s2.u = (unsigned int)(n2 + 127) << 23;
        float y = (p * s1.f) * s2.f;
        return x != x ? x : y;
    }
    static CYTHON_INLINE double cymlp_exp(double x) {
        double c = x < -746.0 ? -746.0 : (x > 710.0 ? 710.0 : x);
        double n = (c * 1.4426950408889634074 + 6755399441055744.0) - 6755399441055744.0;
        double r = (c - n * 6.93145751953125e-1) - n * 1.42860682030941723212e-6;
        double rr = r * r;
        double px = r * ((1.26177193074810590878e-4 * rr + 3.02994407707441961300e-2) * rr
                         + 9.99999999999999999910e-1);
        double qx = ((3.00198505138664455042e-6 * rr + 2.52448340349684104192e-3) * rr
                     + 2.27265548208155028766e-1) * rr + 2.00000000000000000009e0;
        double p = 1.0 + 2.0 * (px / (qx - px));
        long long ni = (long long)n, n1 = ni >> 1, n2 = ni - n1;
        union { unsigned long long u; double f; } s1, s2;
        s1.u = (unsigned long long)(n1 + 1023) << 52;
        s2.u = (unsigned long long)(n2 + 1023) << 52;
        double y = (p * s1.f) * s2.f;
        return x != x ? x : y;
    }

    /* softmax row by row, z <- exp(z + b - max) / sum: the exponentials in
       one flat loop over the batch (vectorized), the row maxima and sums in
       NumPy's order around it. */
    #define CYMLP_SOFTMAX(NAME, T, EXP)                                          \
    CYMLP_CLONES static void NAME(T* z, const T* b, Py_ssize_t rows,             \
                                  Py_ssize_t cols) {                             \
        for (Py_ssize_t i = 0; i < rows; i++) {                                  \
            T* row = z + i * cols;                                               \
            if (b != NULL)                                                       \
                for (Py_ssize_t j = 0; j < cols; j++)                            \
                    row[j] += b[j];                                              \
            T m = row[0];                                                        \
            for (Py_ssize_t j = 1; j < cols; j++)                                \
                if (row[j] > m)                                                  \
                    m = row[j];                                                  \
            for (Py_ssize_t j = 0; j < cols; j++)                                \
                row[j] -= m;                                                     \
        }                                                                        \
        for (Py_ssize_t k = 0; k < rows * cols; k++)                             \
            z[k] = EXP(z[k]);                                                    \
        for (Py_ssize_t i = 0; i < rows; i++) {                                  \
            T* row = z + i * cols;                                               \
            T sum = 0;                                                           \
            for (Py_ssize_t j = 0; j < cols; j++)                                \
                sum += row[j];                                                   \
            for (Py_ssize_t j = 0; j < cols; j++)                                \
                row[j] /= sum;                                                   \
        }                                                                        \
    }
    CYMLP_SOFTMAX(cymlp_softmax_f32, float, cymlp_expf)
    CYMLP_SOFTMAX(cymlp_softmax_f64, double, cymlp_exp)
    """
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
                row[j] = v if v > 0 else 0
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
