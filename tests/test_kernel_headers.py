"""cymlp's C kernels (src/cymlp/_kernels/*.h) are plain C: each header compiles
on its own, without Python.h, and without a single warning under -Wall -Wextra
(-Werror), with every C compiler found here (cc, gcc, clang). Cython's generated
code is not checked (its warnings are Cython's); these headers are all of
cymlp's own C."""

import shutil
import subprocess
from pathlib import Path

import pytest

import cymlp

# The source tree's headers, else the installed copy's (package data).
_HERE = Path(__file__).resolve().parents[1] / "src" / "cymlp" / "_kernels"
KERNELS = _HERE if _HERE.is_dir() else Path(cymlp.__file__).parent / "_kernels"
HEADERS = sorted(KERNELS.glob("*.h"))
COMPILERS = sorted({c for c in ("cc", "gcc", "clang") if shutil.which(c)})


def test_headers_found():
    names = {h.name for h in HEADERS}
    assert {"simd.h", "activations.h", "optimizers.h", "engine.h"} <= names


@pytest.mark.parametrize("compiler", COMPILERS or [pytest.param("cc", marks=pytest.mark.skip(
    reason="no C compiler on PATH"))])
@pytest.mark.parametrize("header", HEADERS, ids=lambda h: h.name)
def test_header_compiles_alone_without_warnings(compiler, header):
    # -c, not -fsyntax-only: "defined but not used" is only reported by a
    # real compilation. The flags are setup.py's (no FMA contraction).
    cmd = [compiler, "-x", "c", "-O2", "-ffp-contract=off", "-fno-math-errno",
           "-Wall", "-Wextra", "-Werror", "-c", str(header), "-o", "/dev/null"]
    res = subprocess.run(cmd, capture_output=True, text=True)
    assert res.returncode == 0, f"{' '.join(cmd)}\n{res.stderr}"
    assert res.stderr == ""
