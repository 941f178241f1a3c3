"""Build the Cython extensions of cymlp.

Metadata lives in pyproject.toml; this file only lists the extensions and the
compiler flags. Set CYMLP_CYTHON_DEBUG=1 to build with Cython's bounds and
wraparound checks on (used by the test suite's memory-safety run).
"""

import glob
import os
import sys

from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

MODULES = ["_blas", "_activations", "_loss", "_optimizers", "_train", "_bench"]

DEBUG = os.environ.get("CYMLP_CYTHON_DEBUG", "0") not in ("", "0")

directives = {
    "language_level": 3,
    "boundscheck": DEBUG,
    "wraparound": DEBUG,
    "initializedcheck": DEBUG,
    "cdivision": True,
    "embedsignature": True,
    # Every module declares that it runs without the GIL on free-threaded
    # CPython (Py_mod_gil = Py_MOD_GIL_NOT_USED): its state is set once at
    # import, the engine's per-call state lives in per-call objects, and
    # the kernels touch only the buffers they are given.
    "freethreading_compatible": True,
}


class BuildExt(build_ext):
    """Per-compiler optimisation flags, never tuned to the build machine's CPU (wheels
    must run on any CPU of their platform; see src/cymlp/_kernels/simd.h for the SIMD
    variants)."""

    def finalize_options(self):
        super().finalize_options()
        if self.parallel is None:
            self.parallel = os.cpu_count() or 1   # the modules compile independently

    def build_extensions(self):
        if self.compiler.compiler_type == "msvc":
            flags = ["/O2", "/fp:precise"]
        else:
            # no FMA contraction: results must not depend on the SIMD variant
            # of a kernel (see _kernels/simd.h) nor differ from NumPy's. No
            # trapping math (clang's default; nothing here reads the FP
            # exception flags): without it gcc will not turn a loop's
            # comparisons into selects, and softmax's exponential stays scalar
            # in the AVX2 and baseline variants
            flags = ["-O1", "-g"] if DEBUG else ["-O3"]
            flags += ["-fno-math-errno", "-fno-trapping-math", "-ffp-contract=off"]
        for ext in self.extensions:
            ext.extra_compile_args = flags + list(ext.extra_compile_args or [])
            if sys.platform.startswith("linux"):
                # bind exp/log/tanh to libm's current symbol versions; unlinked,
                # they resolve to glibc's old errno-setting compatibility wrappers
                ext.libraries = list(ext.libraries or []) + ["m"]
        super().build_extensions()


# The C kernels, included by the modules (rebuild them when one changes).
HEADERS = sorted(glob.glob("src/cymlp/_kernels/*.h"))

extensions = [
    Extension(f"cymlp.{name}", [f"src/cymlp/{name}.pyx"], depends=HEADERS) for name in MODULES
]

setup(
    ext_modules=cythonize(
        extensions,
        compiler_directives=directives,
        # Cython's "performance hint" lines (GIL-requiring exception checks in
        # nogil code) are bugs here; keep them visible in the build log.
        annotate=False,
    ),
    cmdclass={"build_ext": BuildExt},
)
