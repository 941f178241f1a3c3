/* Name pasting for the type-generic kernel files (*_impl.h): a file that
   includes one of them first defines CYMLP_T (float or double) and
   CYMLP_SUFFIX (f32 or f64); CYMLP_FN(cymlp_foo) is then cymlp_foo_f32_body
   or cymlp_foo_f64_body, the body that CYMLP_VARIANTS (simd.h) wraps. */
#ifndef CYMLP_T_H
#define CYMLP_T_H
#define CYMLP_CAT3_(a, b, c) a##_##b##_##c
#define CYMLP_CAT3(a, b, c) CYMLP_CAT3_(a, b, c)
#define CYMLP_FN(name) CYMLP_CAT3(name, CYMLP_SUFFIX, body)
#endif
