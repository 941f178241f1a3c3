/* Type-generic bodies of the activation kernels, instantiated for float and
   double by activations.h (CYMLP_T, CYMLP_SUFFIX, CYMLP_EXP defined there). */
#ifndef CYMLP_T
#include "activations.h"  /* on its own: the file that instantiates this one */
#else

/* z <- max(z + b, 0), row by row (rows x cols, C-contiguous). A NaN stays
   NaN, as in scikit-learn's np.maximum(z, 0, out=z): the select gives 0 only
   where v <= 0, which is false for NaN (a diverging first layer shows). */
static CYMLP_ALWAYS_INLINE void CYMLP_FN(cymlp_bias_relu)(CYMLP_T* z, const CYMLP_T* b,
                                                          ptrdiff_t rows, ptrdiff_t cols) {
    for (ptrdiff_t i = 0; i < rows; i++) {
        CYMLP_T* row = z + i * cols;
        for (ptrdiff_t j = 0; j < cols; j++) {
            CYMLP_T v = row[j] + b[j];
            row[j] = v <= 0 ? 0 : v;
        }
    }
}

/* d <- a != 0 ? d : 0 over n elements: a select rather than a branch (the
   sign pattern is random: a branch would mispredict half the time). With
   a = relu(z) this is scikit-learn's delta[a == 0] = 0: the delta of a NaN
   activation is kept. */
static CYMLP_ALWAYS_INLINE void CYMLP_FN(cymlp_relu_mask)(const CYMLP_T* a, CYMLP_T* d,
                                                          ptrdiff_t n) {
    for (ptrdiff_t i = 0; i < n; i++)
        d[i] = a[i] != 0 ? d[i] : 0;
}

/* softmax row by row, z <- exp(z + b - max) / sum (b may be NULL): the
   exponentials in one flat loop over the batch (vectorized), the row maxima
   and sums in NumPy's order around it. */
static CYMLP_ALWAYS_INLINE void CYMLP_FN(cymlp_softmax)(CYMLP_T* z, const CYMLP_T* b,
                                                        ptrdiff_t rows, ptrdiff_t cols) {
    for (ptrdiff_t i = 0; i < rows; i++) {
        CYMLP_T* row = z + i * cols;
        if (b != NULL)
            for (ptrdiff_t j = 0; j < cols; j++)
                row[j] += b[j];
        CYMLP_T m = row[0];
        for (ptrdiff_t j = 1; j < cols; j++)
            if (row[j] > m)
                m = row[j];
        for (ptrdiff_t j = 0; j < cols; j++)
            row[j] -= m;
    }
    for (ptrdiff_t k = 0; k < rows * cols; k++)
        z[k] = CYMLP_EXP(z[k]);
    for (ptrdiff_t i = 0; i < rows; i++) {
        CYMLP_T* row = z + i * cols;
        CYMLP_T sum = 0;
        for (ptrdiff_t j = 0; j < cols; j++)
            sum += row[j];
        for (ptrdiff_t j = 0; j < cols; j++)
            row[j] /= sum;
    }
}

#endif /* CYMLP_T */
