/* Optimizer steps of _optimizers.pyx over one contiguous region of the flat
   parameter buffer, in the SIMD variants of simd.h: these loops touch every
   parameter every step, so they are where SIMD width shows against the gemm
   time. The arithmetic order is NumPy's (scikit-learn's optimizers). */
#ifndef CYMLP_OPTIMIZERS_H
#define CYMLP_OPTIMIZERS_H

#include <math.h>
#include <stddef.h>
#include "simd.h"
#include "cymlp_t.h"

#define CYMLP_T float
#define CYMLP_SUFFIX f32
#define CYMLP_SQRT sqrtf
#include "optimizers_impl.h"
#undef CYMLP_T
#undef CYMLP_SUFFIX
#undef CYMLP_SQRT

#define CYMLP_T double
#define CYMLP_SUFFIX f64
#define CYMLP_SQRT sqrt
#include "optimizers_impl.h"
#undef CYMLP_T
#undef CYMLP_SUFFIX
#undef CYMLP_SQRT

CYMLP_VARIANTS_VOID(cymlp_sgd_f32,
                    (float* w, const float* g, float* v, ptrdiff_t n, float lr, float mom,
                     int nesterov, float alpha, float n_rows, float inv_n, int exact_inv),
                    (w, g, v, n, lr, mom, nesterov, alpha, n_rows, inv_n, exact_inv))
CYMLP_VARIANTS_VOID(cymlp_sgd_f64,
                    (double* w, const double* g, double* v, ptrdiff_t n, double lr, double mom,
                     int nesterov, double alpha, double n_rows, double inv_n, int exact_inv),
                    (w, g, v, n, lr, mom, nesterov, alpha, n_rows, inv_n, exact_inv))
CYMLP_VARIANTS_VOID(cymlp_adam_f32,
                    (float* w, const float* g, float* m, float* v, ptrdiff_t n, float lr_t,
                     float b1, float b2, float one_b1, float one_b2, float eps, float alpha,
                     float n_rows, float inv_n, int exact_inv),
                    (w, g, m, v, n, lr_t, b1, b2, one_b1, one_b2, eps, alpha, n_rows, inv_n,
                     exact_inv))
CYMLP_VARIANTS_VOID(cymlp_adam_f64,
                    (double* w, const double* g, double* m, double* v, ptrdiff_t n, double lr_t,
                     double b1, double b2, double one_b1, double one_b2, double eps,
                     double alpha, double n_rows, double inv_n, int exact_inv),
                    (w, g, m, v, n, lr_t, b1, b2, one_b1, one_b2, eps, alpha, n_rows, inv_n,
                     exact_inv))

/* Point every kernel of this file at its variant (a CYMLP_SIMD_* code the
   caller has checked: compiled in and supported by the CPU). */
static inline CYMLP_UNUSED void cymlp_optimizers_select(int variant) {
    CYMLP_SELECT(cymlp_sgd_f32, variant);
    CYMLP_SELECT(cymlp_sgd_f64, variant);
    CYMLP_SELECT(cymlp_adam_f32, variant);
    CYMLP_SELECT(cymlp_adam_f64, variant);
}

#endif /* CYMLP_OPTIMIZERS_H */
