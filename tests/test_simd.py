"""The SIMD variants of the kernels (src/cymlp/_kernels/simd.h): chosen once at
import, forced by CYMLP_SIMD, refused when the CPU lacks them, and giving the
same results bit for bit (FMA contraction is off; the arithmetic order is the
source's). .ci/run also runs the whole suite under each variant the CPU
supports."""

import hashlib
import os
import subprocess
import sys

import pytest

from cymlp import _activations, _optimizers, _train

INFO = _train.build_info()
ALL = ["baseline", "avx2", "avx512"]


def _run(code, simd):
    env = dict(os.environ)
    env.pop("CYMLP_SIMD", None)
    if simd is not None:
        env["CYMLP_SIMD"] = simd
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=600)


def test_build_info():
    assert INFO["simd_compiled"][0] == "baseline"
    assert set(INFO["simd_compiled"]) <= set(ALL)
    assert set(INFO["simd_supported"]) <= set(INFO["simd_compiled"])
    assert INFO["simd_in_use"] in INFO["simd_supported"]
    if INFO["simd_requested"] is None:   # unforced: the widest usable one
        assert INFO["simd_in_use"] == INFO["simd_supported"][-1]
    # every module with kernels made the same choice
    assert _activations.SIMD_VARIANT == _optimizers.SIMD_VARIANT == INFO["simd_in_use"]
    assert INFO["compiler"].split()[0] in ("gcc", "clang", "MSVC")


@pytest.mark.parametrize("simd", ALL)
def test_forced_variant_or_clear_refusal(simd):
    res = _run("import cymlp._train as t; print(t.build_info()['simd_in_use'])", simd)
    if simd in INFO["simd_supported"]:
        assert res.returncode == 0, res.stderr
        assert res.stdout.split() == [simd]
    else:
        assert res.returncode != 0
        assert "ImportError" in res.stderr and f"CYMLP_SIMD={simd}" in res.stderr
        reason = "lacks" if simd in INFO["simd_compiled"] else "has no"
        assert reason in res.stderr


@pytest.mark.parametrize("value", ["sse9", "AVX1024", "native"])
def test_unknown_variant_refused(value):
    res = _run("import cymlp", value)
    assert res.returncode != 0
    assert "is not a SIMD variant of cymlp" in res.stderr
    assert "baseline, avx2, avx512" in res.stderr


def test_case_and_blank_are_accepted():
    res = _run("import cymlp._train as t; print(t.build_info()['simd_in_use'])", " BaseLine ")
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == ["baseline"]
    res = _run("import cymlp._train as t; print(t.build_info()['simd_in_use'])", "")
    assert res.stdout.split() == [INFO["simd_supported"][-1]]


# Models that run every kernel of the variants: the bias + ReLU pass and its
# mask, softmax, both optimizers (plain SGD, momentum, Nesterov, Adam), the
# column sums, the checked gather, float32 and float64, widths with vector
# remainders (37 and 19 units, 13 features).
_FITS = r"""
import hashlib, warnings
import numpy as np
from sklearn.exceptions import ConvergenceWarning
from cymlp import MLPClassifier, MLPRegressor
rng = np.random.RandomState(0)
X = rng.randn(300, 13)
yc = rng.randint(0, 4, 300)
yr = X[:, :3] @ [1.0, -2.0, 0.5] + 0.1 * rng.randn(300)
h = hashlib.sha256()
warnings.simplefilter("ignore", ConvergenceWarning)
for dtype in (np.float32, np.float64):
    Xd = X.astype(dtype)
    for kw in [dict(solver="adam"), dict(solver="sgd", momentum=0.0),
               dict(solver="sgd", momentum=0.9), dict(solver="sgd", nesterovs_momentum=False),
               dict(solver="adam", activation="tanh", batch_size=32),
               dict(solver="lbfgs", activation="logistic")]:
        for est in (MLPClassifier(hidden_layer_sizes=(37, 19), max_iter=8, random_state=1,
                                  alpha=1e-3, **kw),
                    MLPRegressor(hidden_layer_sizes=(37,), max_iter=8, random_state=2, **kw)):
            est.fit(Xd, yc if isinstance(est, MLPClassifier) else yr)
            for a in est.coefs_ + est.intercepts_:
                h.update(np.ascontiguousarray(a).tobytes())
            h.update(np.ascontiguousarray(est.predict(Xd)).tobytes())
            if isinstance(est, MLPClassifier):
                h.update(est.predict_proba(Xd).tobytes())
print(h.hexdigest())
"""


def test_variants_give_identical_models():
    usable = INFO["simd_supported"]
    if len(usable) < 2:
        pytest.skip(f"only {usable} runs on this CPU")
    digests = {}
    for simd in usable:
        res = _run(_FITS, simd)
        assert res.returncode == 0, res.stderr
        digests[simd] = res.stdout.strip()
    assert len(set(digests.values())) == 1, digests
    assert len(digests[usable[0]]) == len(hashlib.sha256().hexdigest())
