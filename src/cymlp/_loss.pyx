"""Output activation, loss and dLoss/dz fused in one pass over the batch.

Design:
a) Each loss is paired with its canonical link (softmax + log-loss, logistic +
   binary log-loss, identity + squared error, exp + Poisson deviance), so the
   gradient with respect to the pre-activation z is simply (a - y), times the
   sample weight when there is one.
b) The loss is accumulated in double. As in scikit-learn, probabilities are
   clipped to [eps, 1 - eps] (eps of the dtype) before the log, for the loss
   value only; the gradient uses the unclipped probabilities.
c) The value returned is the *weighted sum* over rows of the per-row loss;
   the caller divides by the row count (or the weight sum).
"""
from cython cimport floating
from libc.math cimport log
from libc.float cimport FLT_EPSILON, DBL_EPSILON

import numpy as np

from cymlp._activations cimport bias_activation, SOFTMAX, LOGISTIC, IDENTITY, EXP

LOSS_CODES = {
    "log_loss": LOG_LOSS,
    "binary_log_loss": BINARY_LOG_LOSS,
    "squared_error": SQUARED_ERROR,
    "poisson": POISSON,
}

cdef int[4] _OUTPUT_OF = [SOFTMAX, LOGISTIC, IDENTITY, EXP]


cdef inline floating _clip(floating p) noexcept nogil:
    cdef floating eps
    if floating is float:
        eps = FLT_EPSILON
    else:
        eps = DBL_EPSILON
    if p < eps:
        return eps
    if p > 1 - eps:
        return 1 - eps
    return p


cdef double loss_and_delta(int loss, floating* z, const floating* bias,
                           const floating* y, const floating* sw, floating* delta,
                           Py_ssize_t rows, Py_ssize_t cols) noexcept nogil:
    """Apply the output activation to z (+bias) in place, return sum_i w_i loss_i
    and write delta = w_i (a - y) (rows x cols).

    z : IN pre-activation, OUT activation.  bias : IN (cols,) or NULL.
    y : IN targets (rows x cols).  sw : IN (rows,) or NULL.  delta : OUT.
    """
    cdef Py_ssize_t i, j
    cdef double total = 0.0, row_loss, yv, av
    cdef floating p, wf
    cdef const floating* yr
    cdef floating* zr
    cdef floating* dr
    bias_activation(_OUTPUT_OF[loss], z, bias, rows, cols)
    for i in range(rows):
        yr = y + i * cols
        zr = z + i * cols
        dr = delta + i * cols
        for j in range(cols):
            dr[j] = zr[j] - yr[j]
        row_loss = 0.0
        if loss == LOG_LOSS:
            for j in range(cols):
                if yr[j] != 0:
                    row_loss -= yr[j] * log(<double>_clip(zr[j]))
        elif loss == BINARY_LOG_LOSS:
            for j in range(cols):
                p = _clip(zr[j])
                yv = yr[j]
                if yv != 0:
                    row_loss -= yv * log(<double>p)
                if yv != 1:
                    row_loss -= (1 - yv) * log(<double>(1 - p))
        elif loss == SQUARED_ERROR:
            for j in range(cols):
                av = <double>yr[j] - zr[j]
                row_loss += av * av
            row_loss *= 0.5   # summed over outputs, as its gradient (sklearn #8349)
        else:  # POISSON: xlogy(y, y / a) - y + a
            for j in range(cols):
                yv = yr[j]
                av = zr[j]
                if yv != 0:
                    row_loss += yv * log(yv / av)
                row_loss += av - yv
        if sw != NULL:
            wf = sw[i]
            total += row_loss * wf
            for j in range(cols):
                dr[j] *= wf
        else:
            total += row_loss
    return total


def output_loss_and_delta(name, floating[:, ::1] z, const floating[::1] bias,
                          const floating[:, ::1] y, sample_weight=None):
    """Test hook: return (weighted loss sum, delta); z becomes the activation.

    Parameters
    ----------
    name : str
        One of ``LOSS_CODES``.
    z : ndarray (rows, cols), C-contiguous; overwritten by the output activation.
    bias : ndarray (cols,)
    y : ndarray (rows, cols), targets in z's dtype.
    sample_weight : ndarray (rows,) or None
    """
    cdef const floating[::1] sw
    cdef const floating* swp = NULL
    cdef floating[:, ::1] delta = np.empty_like(np.asarray(z))
    if sample_weight is not None:
        sw = np.ascontiguousarray(sample_weight, dtype=np.asarray(z).dtype)
        swp = &sw[0]
    cdef int kind = LOSS_CODES[name]
    total = loss_and_delta(kind, &z[0, 0], &bias[0], &y[0, 0], swp,
                           &delta[0, 0], z.shape[0], z.shape[1])
    return total, np.asarray(delta)
