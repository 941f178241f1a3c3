/* Type-generic bodies of the engine's own kernels (_train.pyx), instantiated
   for float and double by engine.h (CYMLP_T, CYMLP_SUFFIX defined there). */
#ifndef CYMLP_T
#include "engine.h"  /* on its own: the file that instantiates this one */
#else

/* 1 if the n values at s are all finite. x - x is 0 for a finite x and NaN
   for NaN or +-inf; the flag is an integer OR, so the loop vectorizes
   without reassociating floats. */
static CYMLP_ALWAYS_INLINE int CYMLP_FN(cymlp_finite)(const CYMLP_T* s, ptrdiff_t n) {
    int bad = 0;
    for (ptrdiff_t i = 0; i < n; i++) {
        CYMLP_T v = s[i];
        bad |= (v - v) != (CYMLP_T)0;
    }
    return !bad;
}

/* d <- s over n values, and 1 if they are all finite (as above). */
static CYMLP_ALWAYS_INLINE int CYMLP_FN(cymlp_copy_finite)(CYMLP_T* d, const CYMLP_T* s,
                                                           ptrdiff_t n) {
    int bad = 0;
    for (ptrdiff_t i = 0; i < n; i++) {
        CYMLP_T v = s[i];
        d[i] = v;
        bad |= (v - v) != (CYMLP_T)0;
    }
    return !bad;
}

/* Prediction's first hidden layer: z <- max(z + b, 0) row by row (rows x
   cols, C-contiguous), exactly as cymlp_bias_relu (activations_impl.h), and 1
   if every z before its bias was finite (the flag as in cymlp_finite). Any NaN
   or infinity of an input row makes the whole row of z = x W non-finite
   (NaN * w, inf * 0 and inf - inf are NaN; inf + a finite value is inf), so
   this flag, in a pass the prediction makes anyway, stands for the check of
   the X chunk, which is run only when it is 0 (_predict_rows). */
static CYMLP_ALWAYS_INLINE int CYMLP_FN(cymlp_bias_relu_finite)(CYMLP_T* z, const CYMLP_T* b,
                                                                ptrdiff_t rows, ptrdiff_t cols) {
    int bad = 0;
    for (ptrdiff_t i = 0; i < rows; i++) {
        CYMLP_T* row = z + i * cols;
        for (ptrdiff_t j = 0; j < cols; j++) {
            CYMLP_T u = row[j];
            bad |= (u - u) != (CYMLP_T)0;
            CYMLP_T v = u + b[j];
            row[j] = v <= 0 ? 0 : v;
        }
    }
    return !bad;
}

/* out[j] = sum_i d[i, j] (rows x cols, C-contiguous), accumulated row after
   row (NumPy's axis-0 order). */
static CYMLP_ALWAYS_INLINE void CYMLP_FN(cymlp_colsums)(const CYMLP_T* d, ptrdiff_t rows,
                                                        ptrdiff_t cols, CYMLP_T* out) {
    for (ptrdiff_t j = 0; j < cols; j++)
        out[j] = 0;
    for (ptrdiff_t i = 0; i < rows; i++) {
        const CYMLP_T* row = d + i * cols;
        for (ptrdiff_t j = 0; j < cols; j++)
            out[j] += row[j];
    }
}

#endif /* CYMLP_T */
