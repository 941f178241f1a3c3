# The SIMD variants of the loops that touch every parameter or every input
# value: included, as C, by the modules that cimport from here.
#
# Wheels must run on any CPU (no -march=native), so on GCC + glibc x86-64 a
# function marked CYMLP_CLONES is compiled three times (x86-64-v4 / AVX-512,
# v3 / AVX2, baseline) and the loader picks one for the CPU at hand. Elsewhere
# it is built once for the baseline. FMA contraction is off (setup.py), so the
# results do not depend on the clone chosen.
cdef extern from *:
    """
    #ifndef CYMLP_CLONES
    #if defined(__GNUC__) && __GNUC__ >= 11 && !defined(__clang__) && defined(__x86_64__) && defined(__GLIBC__)
    #define CYMLP_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
    #define CYMLP_CLONED 1
    #else
    #define CYMLP_CLONES
    #define CYMLP_CLONED 0
    #endif
    #endif
    """
    const int CYMLP_CLONED
