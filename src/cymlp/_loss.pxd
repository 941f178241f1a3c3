from cython cimport floating

cdef enum:
    LOG_LOSS = 0          # softmax output, multiclass cross-entropy
    BINARY_LOG_LOSS = 1   # logistic outputs (binary, multilabel)
    SQUARED_ERROR = 2     # identity output
    POISSON = 3           # exp output, half Poisson deviance

cdef double loss_and_delta(int loss, floating* z, const floating* bias,
                           const floating* y, const floating* sw, floating* delta,
                           Py_ssize_t rows, Py_ssize_t cols) noexcept nogil
