/* The SIMD variants of cymlp's kernels.

   Wheels must run on any CPU (no -march=native), so on GCC + glibc x86-64 a
   kernel is compiled three times (x86-64-v4 / AVX-512, v3 / AVX2, baseline)
   with GCC's target_clones, and the loader picks one for the CPU at hand.
   Elsewhere it is built once for the baseline. FMA contraction is off
   (setup.py), so the results do not depend on the clone chosen.

   A kernel is written once, as an always-inline "body" function;
   CYMLP_VARIANTS(RET, NAME, PARAMS, ARGS) defines NAME around NAME_body
   (CYMLP_VARIANTS_VOID(NAME, PARAMS, ARGS) for one that returns nothing). */
#ifndef CYMLP_SIMD_H
#define CYMLP_SIMD_H

#include <stddef.h>

#if defined(__GNUC__) || defined(__clang__)
#define CYMLP_ALWAYS_INLINE inline __attribute__((always_inline))
#elif defined(_MSC_VER)
#define CYMLP_ALWAYS_INLINE __forceinline
#else
#define CYMLP_ALWAYS_INLINE inline
#endif

#if defined(__GNUC__) && __GNUC__ >= 11 && !defined(__clang__) && defined(__x86_64__) && defined(__GLIBC__)
#define CYMLP_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#define CYMLP_CLONED 1
#else
#define CYMLP_CLONES
#define CYMLP_CLONED 0
#endif

#if defined(__GNUC__) || defined(__clang__)
#define CYMLP_UNUSED __attribute__((unused))  /* a module uses some kernels only */
#else
#define CYMLP_UNUSED
#endif

#define CYMLP_VARIANTS(RET, NAME, PARAMS, ARGS) \
    CYMLP_CLONES CYMLP_UNUSED static RET NAME PARAMS { return NAME##_body ARGS; }
#define CYMLP_VARIANTS_VOID(NAME, PARAMS, ARGS) \
    CYMLP_CLONES CYMLP_UNUSED static void NAME PARAMS { NAME##_body ARGS; }

#endif /* CYMLP_SIMD_H */
