/* Activation kernels of _activations.pyx that run in the SIMD variants of
   simd.h: bias + ReLU forward, the ReLU mask backward and softmax (with its
   own vectorizable exponential). The other activations stay in Cython. */
#ifndef CYMLP_ACTIVATIONS_H
#define CYMLP_ACTIVATIONS_H

#include <stddef.h>
#include "simd.h"
#include "cymlp_t.h"

/* exp(x) in arithmetic alone, so that a loop of them vectorizes (a call to
   libm's exp does not). Cephes' method: x = n ln2 + r with |r| <= ln2 / 2
   (ln2 in two parts, Cody-Waite), e^r by a polynomial (float) or a Pade
   form (double), times 2^n built in the exponent bits, in two factors so
   that results down to the subnormals come out right. Within 2 ulp of the
   exact value (tests/test_activations.py checks it against NumPy); NaN in,
   NaN out; 0 below the subnormals. */
static CYMLP_ALWAYS_INLINE float cymlp_expf(float x) {
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

static CYMLP_ALWAYS_INLINE double cymlp_exp(double x) {
    double c = x < -746.0 ? -746.0 : (x > 710.0 ? 710.0 : x);
    double n = (c * 1.4426950408889634074 + 6755399441055744.0) - 6755399441055744.0;
    double r = (c - n * 6.93145751953125e-1) - n * 1.42860682030941723212e-6;
    double rr = r * r;
    double px = r * ((1.26177193074810590878e-4 * rr + 3.02994407707441961300e-2) * rr
                     + 9.99999999999999999910e-1);
    double qx = ((3.00198505138664455042e-6 * rr + 2.52448340349684104192e-3) * rr
                 + 2.27265548208155028766e-1) * rr + 2.00000000000000000009e0;
    double p = 1.0 + 2.0 * (px / (qx - px));
    int ni = (int)n, n1 = ni >> 1, n2 = ni - n1;   /* |n| <= 1077: int converts in SIMD */
    union { unsigned long long u; double f; } s1, s2;
    s1.u = (unsigned long long)(n1 + 1023) << 52;
    s2.u = (unsigned long long)(n2 + 1023) << 52;
    double y = (p * s1.f) * s2.f;
    return x != x ? x : y;
}

#define CYMLP_T float
#define CYMLP_SUFFIX f32
#define CYMLP_EXP cymlp_expf
#include "activations_impl.h"
#undef CYMLP_T
#undef CYMLP_SUFFIX
#undef CYMLP_EXP

#define CYMLP_T double
#define CYMLP_SUFFIX f64
#define CYMLP_EXP cymlp_exp
#include "activations_impl.h"
#undef CYMLP_T
#undef CYMLP_SUFFIX
#undef CYMLP_EXP

CYMLP_VARIANTS_VOID(cymlp_bias_relu_f32, (float* z, const float* b, ptrdiff_t rows, ptrdiff_t cols),
                    (z, b, rows, cols))
CYMLP_VARIANTS_VOID(cymlp_bias_relu_f64, (double* z, const double* b, ptrdiff_t rows, ptrdiff_t cols),
                    (z, b, rows, cols))
CYMLP_VARIANTS_VOID(cymlp_relu_mask_f32, (const float* a, float* d, ptrdiff_t n), (a, d, n))
CYMLP_VARIANTS_VOID(cymlp_relu_mask_f64, (const double* a, double* d, ptrdiff_t n), (a, d, n))
CYMLP_VARIANTS_VOID(cymlp_softmax_f32, (float* z, const float* b, ptrdiff_t rows, ptrdiff_t cols),
                    (z, b, rows, cols))
CYMLP_VARIANTS_VOID(cymlp_softmax_f64, (double* z, const double* b, ptrdiff_t rows, ptrdiff_t cols),
                    (z, b, rows, cols))

/* Point every kernel of this file at its variant (a CYMLP_SIMD_* code the
   caller has checked: compiled in and supported by the CPU). */
static inline CYMLP_UNUSED void cymlp_activations_select(int variant) {
    CYMLP_SELECT(cymlp_bias_relu_f32, variant);
    CYMLP_SELECT(cymlp_bias_relu_f64, variant);
    CYMLP_SELECT(cymlp_relu_mask_f32, variant);
    CYMLP_SELECT(cymlp_relu_mask_f64, variant);
    CYMLP_SELECT(cymlp_softmax_f32, variant);
    CYMLP_SELECT(cymlp_softmax_f64, variant);
}

#endif /* CYMLP_ACTIVATIONS_H */
