from cython cimport floating

cdef void sgd_update(floating* w, const floating* g, floating* v, Py_ssize_t n,
                     floating lr, floating momentum, bint nesterov,
                     floating alpha, floating n_rows) noexcept nogil
cdef void adam_update(floating* w, const floating* g, floating* m, floating* v,
                      Py_ssize_t n, double lr_t, double beta1, double beta2,
                      floating epsilon, floating alpha, floating n_rows) noexcept nogil
