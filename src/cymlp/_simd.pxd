# The choice of SIMD variant (see _kernels/simd.h), made once per module at
# import: _activations, _optimizers and _train each call ``choose_variant()``
# at module level and point their kernels at the result.
#
# CYMLP_SIMD=baseline|avx2|avx512 in the environment forces a variant; unset
# or empty, the widest one that is compiled in and that the CPU supports is
# taken. A variant that is not compiled in, that the CPU lacks, or an unknown
# name fails the import with an ImportError that says so.

cdef extern from "_kernels/simd.h":
    enum:
        CYMLP_SIMD_BASELINE
        CYMLP_SIMD_AVX2
        CYMLP_SIMD_AVX512
        CYMLP_SIMD_N
    const char* CYMLP_COMPILER
    const char* cymlp_simd_name(int variant) noexcept nogil
    int cymlp_simd_compiled(int variant) noexcept nogil
    int cymlp_simd_cpu_supports(int variant) noexcept nogil


cdef inline list simd_names(bint compiled_only, bint supported_only):
    cdef int v
    return [cymlp_simd_name(v).decode() for v in range(CYMLP_SIMD_N)
            if (not compiled_only or cymlp_simd_compiled(v))
            and (not supported_only or cymlp_simd_cpu_supports(v))]


cdef inline int choose_variant() except -1:
    """The variant code to use: CYMLP_SIMD's if set, else the widest usable."""
    import os
    cdef int v
    requested = os.environ.get("CYMLP_SIMD", "").strip().lower()
    usable = [v for v in range(CYMLP_SIMD_N)
              if cymlp_simd_compiled(v) and cymlp_simd_cpu_supports(v)]
    if not requested:
        return max(usable)
    names = simd_names(False, False)
    if requested not in names:
        raise ImportError(f"CYMLP_SIMD={requested!r} is not a SIMD variant of cymlp; "
                          f"use one of {', '.join(names)} (or unset it to pick the best)")
    v = names.index(requested)
    if not cymlp_simd_compiled(v):
        raise ImportError(f"CYMLP_SIMD={requested}: this build of cymlp has no {requested} "
                          f"variant (compiled in: {', '.join(simd_names(True, False))})")
    if not cymlp_simd_cpu_supports(v):
        needs = {"avx2": "AVX2", "avx512": "AVX-512 F, BW, DQ and VL"}[requested]
        raise ImportError(f"CYMLP_SIMD={requested}: this CPU lacks {needs}, which the "
                          f"{requested} variant needs (usable here: "
                          f"{', '.join(simd_names(True, True))})")
    return v
