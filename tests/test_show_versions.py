"""cymlp.show_versions(): versions, the build (compiler, SIMD variants) and the
BLAS as threadpoolctl sees it."""

import builtins
import platform
import re
import sys

import numpy as np
import scipy
import sklearn

import cymlp
from cymlp import _train


def test_show_versions_prints_what_a_bug_report_needs(capsys):
    cymlp.show_versions()
    out = capsys.readouterr().out
    info = _train.build_info()
    for title in ["System:", "Python dependencies:", "cymlp build:", "threadpoolctl info:"]:
        assert title in out

    def field(name):
        m = re.search(rf"^\s*{re.escape(name)}: (.*)$", out, re.M)
        assert m, f"no {name!r} line in:\n{out}"
        return m.group(1)

    assert field("cymlp") == cymlp.__version__
    assert field("python") == sys.version.replace("\n", " ")
    assert field("machine") == platform.platform()
    assert field("numpy") == np.__version__
    assert field("scipy") == scipy.__version__
    assert field("scikit-learn") == sklearn.__version__
    assert field("compiler") == info["compiler"]
    assert field("SIMD compiled") == ", ".join(info["simd_compiled"])
    assert field("SIMD supported") == ", ".join(info["simd_supported"])
    assert field("SIMD in use").split()[0] == info["simd_in_use"]
    # scipy's BLAS, the one cymlp calls, as threadpoolctl reports it
    assert re.search(r"^\s*user_api: blas$", out, re.M)
    assert re.search(r"^\s*filepath: .*scipy", out, re.M)


def test_show_versions_without_threadpoolctl(capsys, monkeypatch):
    real_import = builtins.__import__

    def no_threadpoolctl(name, *args, **kwargs):
        if name == "threadpoolctl" or name.startswith("threadpoolctl."):
            raise ImportError("No module named 'threadpoolctl'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_threadpoolctl)
    cymlp.show_versions()
    out = capsys.readouterr().out
    assert "threadpoolctl not installed" in out
    assert "cymlp build:" in out


def test_exported():
    assert "show_versions" in cymlp.__all__
    assert cymlp.show_versions.__module__ == "cymlp._show_versions"
