from cython cimport floating

# Activation codes shared by the engine and the facade (see ACTIVATION_CODES).
cdef enum:
    IDENTITY = 0
    LOGISTIC = 1
    TANH = 2
    RELU = 3
    SOFTMAX = 4
    EXP = 5

cdef void bias_activation(int kind, floating* z, const floating* bias,
                          Py_ssize_t rows, Py_ssize_t cols) noexcept nogil
cdef void multiply_derivative(int kind, const floating* a, floating* delta,
                              Py_ssize_t n) noexcept nogil
