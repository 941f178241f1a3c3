/* The training engine's own kernels (_train.pyx): the finiteness check and
   checked copy that read every value of X, prediction's bias + ReLU with its
   finiteness flag, and the bias gradients' column sums, in the SIMD variants
   of simd.h; a prefetch hint and a monotonic clock for the optional phase
   profile. */
#ifndef CYMLP_ENGINE_H
#define CYMLP_ENGINE_H

#include <stddef.h>
#include "simd.h"
#include "cymlp_t.h"

/* Prefetch for reading, into the outer cache levels (T1): the row is copied
   a few rows later, so it should not displace L1. */
#if defined(__GNUC__) || defined(__clang__)
#define CYMLP_PREFETCH(p) __builtin_prefetch((p), 0, 2)
#elif defined(_MSC_VER) && (defined(_M_X64) || defined(_M_IX86))
#include <xmmintrin.h>
#define CYMLP_PREFETCH(p) _mm_prefetch((const char*)(p), _MM_HINT_T1)
#else
#define CYMLP_PREFETCH(p) ((void)(p))
#endif

/* A monotonic clock in seconds. */
#if defined(_WIN32)
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <windows.h>
static inline CYMLP_UNUSED double cymlp_clock(void) {
    LARGE_INTEGER c, f;
    QueryPerformanceCounter(&c);
    QueryPerformanceFrequency(&f);
    return (double)c.QuadPart / (double)f.QuadPart;
}
#else
#include <time.h>
static inline CYMLP_UNUSED double cymlp_clock(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
#endif

#define CYMLP_T float
#define CYMLP_SUFFIX f32
#include "engine_impl.h"
#undef CYMLP_T
#undef CYMLP_SUFFIX

#define CYMLP_T double
#define CYMLP_SUFFIX f64
#include "engine_impl.h"
#undef CYMLP_T
#undef CYMLP_SUFFIX

CYMLP_VARIANTS(int, cymlp_finite_f32, (const float* s, ptrdiff_t n), (s, n))
CYMLP_VARIANTS(int, cymlp_finite_f64, (const double* s, ptrdiff_t n), (s, n))
CYMLP_VARIANTS(int, cymlp_copy_finite_f32, (float* d, const float* s, ptrdiff_t n), (d, s, n))
CYMLP_VARIANTS(int, cymlp_copy_finite_f64, (double* d, const double* s, ptrdiff_t n), (d, s, n))
CYMLP_VARIANTS(int, cymlp_bias_relu_finite_f32,
               (float* z, const float* b, ptrdiff_t rows, ptrdiff_t cols), (z, b, rows, cols))
CYMLP_VARIANTS(int, cymlp_bias_relu_finite_f64,
               (double* z, const double* b, ptrdiff_t rows, ptrdiff_t cols), (z, b, rows, cols))
CYMLP_VARIANTS_VOID(cymlp_colsums_f32, (const float* d, ptrdiff_t rows, ptrdiff_t cols, float* out),
                    (d, rows, cols, out))
CYMLP_VARIANTS_VOID(cymlp_colsums_f64,
                    (const double* d, ptrdiff_t rows, ptrdiff_t cols, double* out),
                    (d, rows, cols, out))

/* Point every kernel of this file at its variant (a CYMLP_SIMD_* code the
   caller has checked: compiled in and supported by the CPU). */
static inline CYMLP_UNUSED void cymlp_engine_select(int variant) {
    CYMLP_SELECT(cymlp_finite_f32, variant);
    CYMLP_SELECT(cymlp_finite_f64, variant);
    CYMLP_SELECT(cymlp_copy_finite_f32, variant);
    CYMLP_SELECT(cymlp_copy_finite_f64, variant);
    CYMLP_SELECT(cymlp_bias_relu_finite_f32, variant);
    CYMLP_SELECT(cymlp_bias_relu_finite_f64, variant);
    CYMLP_SELECT(cymlp_colsums_f32, variant);
    CYMLP_SELECT(cymlp_colsums_f64, variant);
}

#endif /* CYMLP_ENGINE_H */
