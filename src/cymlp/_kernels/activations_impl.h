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

/* x <- exp(x) over n elements: one flat loop, vectorized (given
   -fno-trapping-math, see setup.py) */
static CYMLP_ALWAYS_INLINE void CYMLP_FN(cymlp_exp_n)(CYMLP_T* x, ptrdiff_t n) {
    for (ptrdiff_t k = 0; k < n; k++)
        x[k] = CYMLP_EXP(x[k]);
}

/* softmax of rows [0, rows) one row at a time: z <- exp(z + b - max) / sum
   (b may be NULL), the exponentials in one flat loop (vectorized), each
   row's maximum and sum in column order (its sum from 0, as NumPy's for
   these short rows). */
static CYMLP_ALWAYS_INLINE void CYMLP_FN(cymlp_softmax_rows)(CYMLP_T* z, const CYMLP_T* b,
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
    CYMLP_FN(cymlp_exp_n)(z, rows * cols);
    for (ptrdiff_t i = 0; i < rows; i++) {
        CYMLP_T* row = z + i * cols;
        CYMLP_T sum = 0;
        for (ptrdiff_t j = 0; j < cols; j++)
            sum += row[j];
        for (ptrdiff_t j = 0; j < cols; j++)
            row[j] /= sum;
    }
}

#define CYMLP_SOFTMAX_TILE 64      /* rows per tile: whole vectors of both types */
#define CYMLP_SOFTMAX_MAX_COLS 32  /* rows wider than this vectorize along the row */

/* softmax row by row, z <- exp(z + b - max) / sum (b may be NULL); the same
   operations in the same order as cymlp_softmax_rows, so the same bits.
   Short rows (a classifier's few classes) leave little to vectorize along a
   row, and each row's maximum and sum are a chain of dependent steps: tiles
   of CYMLP_SOFTMAX_TILE rows are transposed into a column-major scratch,
   where every step runs across the tile's rows in vectors, and back. */
static CYMLP_ALWAYS_INLINE void CYMLP_FN(cymlp_softmax)(CYMLP_T* z, const CYMLP_T* b,
                                                        ptrdiff_t rows, ptrdiff_t cols) {
    enum { T = CYMLP_SOFTMAX_TILE };
    CYMLP_T t[CYMLP_SOFTMAX_MAX_COLS * CYMLP_SOFTMAX_TILE], m[T], s[T];
    ptrdiff_t i0 = 0;
    if (cols <= CYMLP_SOFTMAX_MAX_COLS) {
        for (; i0 + T <= rows; i0 += T) {
            CYMLP_T* zt = z + i0 * cols;
            for (ptrdiff_t i = 0; i < T; i++)
                for (ptrdiff_t j = 0; j < cols; j++)
                    t[j * T + i] = zt[i * cols + j];
            if (b != NULL)
                for (ptrdiff_t j = 0; j < cols; j++)
                    for (ptrdiff_t i = 0; i < T; i++)
                        t[j * T + i] += b[j];
            for (ptrdiff_t i = 0; i < T; i++)
                m[i] = t[i];
            for (ptrdiff_t j = 1; j < cols; j++)
                for (ptrdiff_t i = 0; i < T; i++)
                    m[i] = t[j * T + i] > m[i] ? t[j * T + i] : m[i];
            for (ptrdiff_t j = 0; j < cols; j++)
                for (ptrdiff_t i = 0; i < T; i++)
                    t[j * T + i] -= m[i];
            CYMLP_FN(cymlp_exp_n)(t, cols * T);
            for (ptrdiff_t i = 0; i < T; i++)
                s[i] = 0;
            for (ptrdiff_t j = 0; j < cols; j++)
                for (ptrdiff_t i = 0; i < T; i++)
                    s[i] += t[j * T + i];
            for (ptrdiff_t j = 0; j < cols; j++)
                for (ptrdiff_t i = 0; i < T; i++)
                    t[j * T + i] /= s[i];
            for (ptrdiff_t i = 0; i < T; i++)
                for (ptrdiff_t j = 0; j < cols; j++)
                    zt[i * cols + j] = t[j * T + i];
        }
    }
    CYMLP_FN(cymlp_softmax_rows)(z + i0 * cols, b, rows - i0, cols);
}

#endif /* CYMLP_T */
