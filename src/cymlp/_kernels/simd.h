/* The SIMD variants of cymlp's kernels and the choice between them.

   Wheels must run on any CPU of their platform, so nothing is compiled with
   -march=native. Instead, on x86-64 with GCC or clang, every kernel that
   touches each parameter or each input value is compiled three times:

       baseline  the platform's baseline ISA (SSE2 on x86-64)
       avx2      __attribute__((target("avx2")))
       avx512    __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx2")))

   and a table of function pointers, one per kernel, is filled once when the
   module is imported: with the best variant the CPU supports, or with the one
   the environment variable CYMLP_SIMD names (see _simd.pxd). Elsewhere (other
   architectures, MSVC) only the baseline is compiled: MSVC has no per-function
   target attribute (its /arch:AVX2 is per file), and a second compilation of
   each kernel file per ISA is not worth it for the Windows wheels, which run
   the baseline (SSE2) variant.

   The results do not depend on the variant: the kernels' arithmetic order is
   fixed by the source (no reassociation: no -ffast-math), and FMA contraction
   is off (-ffp-contract=off, setup.py), so each variant computes the same
   roundings, only more of them per instruction.

   A kernel is written once, as an always-inline "body" function in the
   baseline ISA; CYMLP_VARIANTS then defines its variants (thin functions
   whose body is inlined and so compiled for their target), its pointer and
   the function the Cython code calls. */
#ifndef CYMLP_SIMD_H
#define CYMLP_SIMD_H

#include <stddef.h>

/* CYMLP_UNUSED: a module uses only some of a header's functions (and clang
   warns about an unused static inline function of the file it compiles). */
#if defined(__GNUC__) || defined(__clang__)
#define CYMLP_UNUSED __attribute__((unused))
#define CYMLP_ALWAYS_INLINE inline __attribute__((always_inline))
#elif defined(_MSC_VER)
#define CYMLP_UNUSED
#define CYMLP_ALWAYS_INLINE __forceinline
#else
#define CYMLP_UNUSED
#define CYMLP_ALWAYS_INLINE inline
#endif

/* Variant codes, in increasing order of width. */
enum {
    CYMLP_SIMD_BASELINE = 0,
    CYMLP_SIMD_AVX2 = 1,
    CYMLP_SIMD_AVX512 = 2,
    CYMLP_SIMD_N = 3
};

/* GCC and clang (which defines __GNUC__) on x86-64; not clang-cl, whose
   __builtin_cpu_supports needs a compiler-rt that MSVC's linker does not add. */
#if defined(__GNUC__) && defined(__x86_64__)
#define CYMLP_X86_VARIANTS 1
#define CYMLP_TARGET_AVX2 __attribute__((target("avx2")))
#define CYMLP_TARGET_AVX512 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx2")))
#else
#define CYMLP_X86_VARIANTS 0
#endif

/* The compiler this file was compiled with, for cymlp.show_versions(). */
#define CYMLP_STR_(x) #x
#define CYMLP_STR(x) CYMLP_STR_(x)
#if defined(__clang__)
#define CYMLP_COMPILER "clang " __clang_version__
#elif defined(__GNUC__)
#define CYMLP_COMPILER "gcc " __VERSION__
#elif defined(_MSC_VER)
#define CYMLP_COMPILER "MSVC " CYMLP_STR(_MSC_FULL_VER)
#else
#define CYMLP_COMPILER "unknown C compiler"
#endif

static inline CYMLP_UNUSED const char* cymlp_simd_name(int variant) {
    switch (variant) {
    case CYMLP_SIMD_BASELINE: return "baseline";
    case CYMLP_SIMD_AVX2: return "avx2";
    case CYMLP_SIMD_AVX512: return "avx512";
    default: return "";
    }
}

/* 1 if this build has the variant. */
static inline CYMLP_UNUSED int cymlp_simd_compiled(int variant) {
    return variant == CYMLP_SIMD_BASELINE
           || (CYMLP_X86_VARIANTS && (variant == CYMLP_SIMD_AVX2 || variant == CYMLP_SIMD_AVX512));
}

/* 1 if the CPU (and the operating system, which must save the vector
   registers: the compiler's runtime checks XGETBV too) can run the variant. */
static inline CYMLP_UNUSED int cymlp_simd_cpu_supports(int variant) {
    if (variant == CYMLP_SIMD_BASELINE)
        return 1;
#if CYMLP_X86_VARIANTS
    __builtin_cpu_init();
    if (variant == CYMLP_SIMD_AVX2)
        return __builtin_cpu_supports("avx2") != 0;
    if (variant == CYMLP_SIMD_AVX512)
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("avx512f")
               && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq")
               && __builtin_cpu_supports("avx512vl");
#endif
    return 0;
}

/* CYMLP_VARIANTS(RET, NAME, PARAMS, ARGS) for a body function NAME_body
   (CYMLP_VARIANTS_VOID(NAME, PARAMS, ARGS) for one that returns nothing):
   NAME_baseline / NAME_avx2 / NAME_avx512, the pointer NAME_ptr (baseline
   until the module selects) and NAME itself, which calls through it.
   CYMLP_SELECT(NAME, variant) points NAME_ptr at a variant. */
#if CYMLP_X86_VARIANTS
#define CYMLP_VARIANTS(RET, NAME, PARAMS, ARGS)                                 \
    static RET NAME##_baseline PARAMS { return NAME##_body ARGS; }              \
    CYMLP_TARGET_AVX2 static RET NAME##_avx2 PARAMS { return NAME##_body ARGS; } \
    CYMLP_TARGET_AVX512 static RET NAME##_avx512 PARAMS { return NAME##_body ARGS; } \
    static RET (*NAME##_ptr) PARAMS = NAME##_baseline;                          \
    static inline CYMLP_UNUSED RET NAME PARAMS { return NAME##_ptr ARGS; }
#define CYMLP_VARIANTS_VOID(NAME, PARAMS, ARGS)                                 \
    static void NAME##_baseline PARAMS { NAME##_body ARGS; }                    \
    CYMLP_TARGET_AVX2 static void NAME##_avx2 PARAMS { NAME##_body ARGS; }      \
    CYMLP_TARGET_AVX512 static void NAME##_avx512 PARAMS { NAME##_body ARGS; }  \
    static void (*NAME##_ptr) PARAMS = NAME##_baseline;                         \
    static inline CYMLP_UNUSED void NAME PARAMS { NAME##_ptr ARGS; }
#define CYMLP_SELECT(NAME, variant)                                             \
    (NAME##_ptr = (variant) == CYMLP_SIMD_AVX512 ? NAME##_avx512                \
                : (variant) == CYMLP_SIMD_AVX2 ? NAME##_avx2 : NAME##_baseline)
#else
#define CYMLP_VARIANTS(RET, NAME, PARAMS, ARGS)                                 \
    static RET NAME##_baseline PARAMS { return NAME##_body ARGS; }              \
    static RET (*NAME##_ptr) PARAMS = NAME##_baseline;                          \
    static inline CYMLP_UNUSED RET NAME PARAMS { return NAME##_ptr ARGS; }
#define CYMLP_VARIANTS_VOID(NAME, PARAMS, ARGS)                                 \
    static void NAME##_baseline PARAMS { NAME##_body ARGS; }                    \
    static void (*NAME##_ptr) PARAMS = NAME##_baseline;                         \
    static inline CYMLP_UNUSED void NAME PARAMS { NAME##_ptr ARGS; }
#define CYMLP_SELECT(NAME, variant) ((void)(variant), NAME##_ptr = NAME##_baseline)
#endif

#endif /* CYMLP_SIMD_H */
