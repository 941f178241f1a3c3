/* Type-generic bodies of the optimizer kernels, instantiated for float and
   double by optimizers.h (CYMLP_T, CYMLP_SUFFIX, CYMLP_SQRT defined there).

   The gradient arrives unscaled and is finished on the fly as
   (g + alpha w) / n. A division per element is the costliest instruction of
   these loops, so when 1 / n is exact (n a power of two, as every batch size
   2^k and the intercepts' n = 1) it is a multiplication by inv_n instead,
   with the same result bit for bit; otherwise it stays a division. Each loop
   is written twice, once per form, so that neither carries a branch. */
#ifndef CYMLP_T
#include "optimizers.h"  /* on its own: the file that instantiates this one */
#else

/* SGD with momentum (scikit-learn's SGDOptimizer): v <- mom v - lr g_eff;
   w += v, or w += mom v - lr g_eff with Nesterov. */
static CYMLP_ALWAYS_INLINE void CYMLP_FN(cymlp_sgd)(CYMLP_T* w, const CYMLP_T* g, CYMLP_T* v,
                                                    ptrdiff_t n, CYMLP_T lr, CYMLP_T mom,
                                                    int nesterov, CYMLP_T alpha, CYMLP_T n_rows,
                                                    CYMLP_T inv_n, int exact_inv) {
    if (exact_inv) {
        if (nesterov) {
            for (ptrdiff_t i = 0; i < n; i++) {
                CYMLP_T ge = (g[i] + alpha * w[i]) * inv_n;
                CYMLP_T vi = mom * v[i] - lr * ge;
                v[i] = vi;
                w[i] += mom * vi - lr * ge;
            }
        } else {
            for (ptrdiff_t i = 0; i < n; i++) {
                CYMLP_T ge = (g[i] + alpha * w[i]) * inv_n;
                CYMLP_T vi = mom * v[i] - lr * ge;
                v[i] = vi;
                w[i] += vi;
            }
        }
    } else {
        if (nesterov) {
            for (ptrdiff_t i = 0; i < n; i++) {
                CYMLP_T ge = (g[i] + alpha * w[i]) / n_rows;
                CYMLP_T vi = mom * v[i] - lr * ge;
                v[i] = vi;
                w[i] += mom * vi - lr * ge;
            }
        } else {
            for (ptrdiff_t i = 0; i < n; i++) {
                CYMLP_T ge = (g[i] + alpha * w[i]) / n_rows;
                CYMLP_T vi = mom * v[i] - lr * ge;
                v[i] = vi;
                w[i] += vi;
            }
        }
    }
}

/* Adam (scikit-learn's AdamOptimizer): w += -lr_t m / (sqrt(v) + eps), in
   the parameters' precision, lr_t bias-corrected by the caller. (scikit-learn
   under NumPy >= 2 forms this step in float64 for float32 parameters; a
   float64 division per parameter would cost 4x the float32 one, and the
   results agree to float32 precision either way.) */
static CYMLP_ALWAYS_INLINE void CYMLP_FN(cymlp_adam)(CYMLP_T* w, const CYMLP_T* g, CYMLP_T* m,
                                                     CYMLP_T* v, ptrdiff_t n, CYMLP_T lr_t,
                                                     CYMLP_T b1, CYMLP_T b2, CYMLP_T one_b1,
                                                     CYMLP_T one_b2, CYMLP_T eps, CYMLP_T alpha,
                                                     CYMLP_T n_rows, CYMLP_T inv_n,
                                                     int exact_inv) {
    if (exact_inv) {
        for (ptrdiff_t i = 0; i < n; i++) {
            CYMLP_T ge = (g[i] + alpha * w[i]) * inv_n;
            CYMLP_T mi = b1 * m[i] + one_b1 * ge;
            CYMLP_T vi = b2 * v[i] + one_b2 * (ge * ge);
            m[i] = mi;
            v[i] = vi;
            w[i] += (-lr_t * mi) / (CYMLP_SQRT(vi) + eps);
        }
    } else {
        for (ptrdiff_t i = 0; i < n; i++) {
            CYMLP_T ge = (g[i] + alpha * w[i]) / n_rows;
            CYMLP_T mi = b1 * m[i] + one_b1 * ge;
            CYMLP_T vi = b2 * v[i] + one_b2 * (ge * ge);
            m[i] = mi;
            v[i] = vi;
            w[i] += (-lr_t * mi) / (CYMLP_SQRT(vi) + eps);
        }
    }
}

#endif /* CYMLP_T */
