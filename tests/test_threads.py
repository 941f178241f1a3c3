"""Threads: concurrent predict on one model and concurrent fits of independent
models give the sequential results; the BLAS follows threadpoolctl's limits."""

import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import scipy.sparse as sp
from threadpoolctl import threadpool_info, threadpool_limits

from _util import quiet, assert_same_model
from cymlp import MLPClassifier, MLPRegressor

# warnings.catch_warnings is process-wide, not per thread
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

RNG = np.random.RandomState(0)
X = RNG.randn(400, 12)
Y = (X[:, 0] + X[:, 1] ** 2 > 1).astype(int) + (X[:, 2] > 0.5)
YR = X @ RNG.randn(12)


@pytest.fixture(scope="module")
def clf():
    return quiet(MLPClassifier(hidden_layer_sizes=(64, 32), max_iter=20,
                                random_state=0).fit, X, Y)


def test_predict_from_8_threads(clf):
    chunks = [X[i::5] for i in range(5)] + [X, sp.csr_matrix(X * (X > 0)), X.astype(np.float32)]
    expected = [(clf.predict(c), clf.predict_proba(c)) for c in chunks]

    def work(i):
        out = []
        for rep in range(6):
            c = chunks[(i + rep) % len(chunks)]
            out.append(((i + rep) % len(chunks), clf.predict(c), clf.predict_proba(c)))
        return out

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(work, range(8)))
    for per_thread in results:
        for k, pred, proba in per_thread:
            np.testing.assert_array_equal(pred, expected[k][0])
            np.testing.assert_array_equal(proba, expected[k][1])


CONFIGS = [
    (MLPClassifier, dict(solver="sgd", random_state=1), Y),
    (MLPClassifier, dict(solver="adam", random_state=2, early_stopping=True), Y),
    (MLPClassifier, dict(solver="lbfgs", random_state=3), Y),
    (MLPRegressor, dict(solver="adam", random_state=4), YR),
    (MLPRegressor, dict(solver="sgd", random_state=5, learning_rate_init=1e-3), YR),
    (MLPRegressor, dict(solver="lbfgs", random_state=6), YR),
    (MLPClassifier, dict(solver="sgd", random_state=7, batch_size=1, max_iter=3), Y),
    (MLPClassifier, dict(solver="adam", random_state=8), Y.astype(str)),
]


def _fit(i):
    E, params, y = CONFIGS[i]
    params = dict(dict(hidden_layer_sizes=(16, 8), max_iter=15), **params)
    return quiet(E(**params).fit, X, y)


def test_independent_fits_in_parallel_threads():
    sequential = [_fit(i) for i in range(len(CONFIGS))]
    with ThreadPoolExecutor(len(CONFIGS)) as pool:
        parallel = list(pool.map(_fit, range(len(CONFIGS))))
    for a, b in zip(sequential, parallel):
        assert_same_model(a, b)
        assert a.n_iter_ == b.n_iter_
        assert getattr(a, "loss_curve_", None) == getattr(b, "loss_curve_", None)


def test_partial_fit_streams_in_parallel_threads():
    def stream(seed):
        est = MLPClassifier(hidden_layer_sizes=(8,), random_state=seed)
        for start in range(0, 400, 50):
            est.partial_fit(X[start:start + 50], Y[start:start + 50], classes=[0, 1, 2])
        return est

    sequential = [stream(s) for s in range(6)]
    with ThreadPoolExecutor(6) as pool:
        parallel = list(pool.map(stream, range(6)))
    for a, b in zip(sequential, parallel):
        assert_same_model(a, b)


def _scipy_openblas():
    return [i for i in threadpool_info()
            if i["internal_api"] == "openblas" and "scipy" in i["filepath"]]


def test_blas_follows_threadpoolctl():
    # cymlp calls scipy's BLAS (scipy.linalg.cython_blas): threadpoolctl sees
    # the OpenBLAS that scipy's wheels bundle
    libs = [i for i in _scipy_openblas() if "numpy" not in i["filepath"]]
    if not libs:
        if sys.platform.startswith("linux"):
            pytest.fail(f"scipy's OpenBLAS not found: {threadpool_info()}")
        pytest.skip("scipy's BLAS is not an OpenBLAS threadpoolctl sees (e.g. Accelerate)")
    big = dict(hidden_layer_sizes=(256,), max_iter=3, random_state=0, batch_size=200)
    with threadpool_limits(limits=1, user_api="blas"):
        assert all(i["num_threads"] == 1 for i in _scipy_openblas())
        one = quiet(MLPClassifier(**big).fit, X, Y)
        one_lbfgs = quiet(MLPRegressor(solver="lbfgs", **big).fit, X, YR)
    with threadpool_limits(limits=2, user_api="blas"):
        assert all(i["num_threads"] == 2 for i in _scipy_openblas())
        two = quiet(MLPClassifier(**big).fit, X, Y)
        two_lbfgs = quiet(MLPRegressor(solver="lbfgs", **big).fit, X, YR)
        # deterministic for a given thread count
        assert_same_model(two, quiet(MLPClassifier(**big).fit, X, Y))
    # The thread count may change the last bits: for some shapes (here the
    # 400-row reduction of L-BFGS's full-batch gradient) threaded OpenBLAS
    # sums in another order. scikit-learn's results move the same way.
    for a, b in [(one, two), (one_lbfgs, two_lbfgs)]:
        for x, y in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
            np.testing.assert_allclose(x, y, rtol=1e-9, atol=1e-12)
