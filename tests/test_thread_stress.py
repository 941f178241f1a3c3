"""Many threads at once on the GIL-free engine: predictions on shared fitted
models (dense, CSR, float32, float64, every output kind), fits and partial
fits of separate models, all interleaved, must give exactly the sequential
results. Under the GIL build this exercises the engine's nogil sections
running truly in parallel (the BLAS calls and kernels release the GIL); what a
fitted model shares between threads is its parameter buffer, read-only to
predict, while each call builds its own Network and Workspace."""

import threading
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning

from _util import assert_same_model
from cymlp import MLPClassifier, MLPRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

RNG = np.random.RandomState(7)
X = RNG.randn(300, 21)
YC = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5)
YM = np.c_[X[:, 0] > 0, X[:, 2] > 0, X[:, 3] < 0].astype(int)   # multilabel
YR = np.c_[X @ RNG.randn(21), X[:, :2].sum(1)]
N_THREADS = 16


def _fit(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


def _shared_models():
    return [
        _fit(MLPClassifier(hidden_layer_sizes=(35, 19), max_iter=15, random_state=0), X, YC),
        _fit(MLPClassifier(hidden_layer_sizes=(17,), activation="tanh", max_iter=10,
                           random_state=1), X, YM),
        _fit(MLPRegressor(hidden_layer_sizes=(33,), max_iter=10, random_state=2), X, YR),
        _fit(MLPRegressor(hidden_layer_sizes=(9,), solver="lbfgs", max_iter=20,
                          random_state=3), X.astype(np.float32), YR[:, 0]),
    ]


INPUTS = [X, X.astype(np.float32), X[::3], sp.csr_matrix(X * (X > 0.5)), X[:1]]

FIT_CONFIGS = [
    (MLPClassifier, dict(solver="sgd", momentum=0.9, random_state=4, max_iter=6), YC),
    (MLPClassifier, dict(solver="adam", random_state=5, max_iter=6, early_stopping=True), YC),
    (MLPRegressor, dict(solver="sgd", momentum=0.0, random_state=6, max_iter=6,
                        learning_rate_init=1e-3), YR),
    (MLPRegressor, dict(solver="lbfgs", random_state=7, max_iter=10), YR),
]


def _fit_result(cls, kw, y, partial):
    est = cls(hidden_layer_sizes=(37,), **kw)
    if partial:
        if cls is MLPClassifier:
            est.partial_fit(X[:150], y[:150], classes=np.unique(y))
        else:
            est.partial_fit(X[:150], y[:150])
        est.partial_fit(X[150:], y[150:])
        return est
    return _fit(est, X, y)


def _outputs(model, inp):
    out = [model.predict(inp)]
    if isinstance(model, MLPClassifier):
        out.append(model.predict_proba(inp))
    return out


def test_stress_shared_predictions_and_separate_fits():
    models = _shared_models()
    expected_pred = {(m, i): _outputs(models[m], INPUTS[i])
                     for m in range(len(models)) for i in range(len(INPUTS))}
    fit_jobs = [(c, p) for c in range(len(FIT_CONFIGS)) for p in (False, True)
                # partial_fit: not with L-BFGS, nor with early stopping (refused)
                if not (p and (FIT_CONFIGS[c][1]["solver"] == "lbfgs"
                               or FIT_CONFIGS[c][1].get("early_stopping")))]
    expected_fit = {job: _fit_result(*FIT_CONFIGS[job[0]], job[1]) for job in fit_jobs}

    barrier = threading.Barrier(N_THREADS)
    failures = []
    lock = threading.Lock()

    def worker(k):
        try:
            barrier.wait()   # all threads start together
            for rep in range(5):
                m, i = (k + rep) % len(models), (k * 3 + rep) % len(INPUTS)
                got = _outputs(models[m], INPUTS[i])
                for a, b in zip(got, expected_pred[m, i]):
                    np.testing.assert_array_equal(a, b)
                if (k + rep) % 3 == 0:
                    job = fit_jobs[(k + rep) % len(fit_jobs)]
                    est = _fit_result(*FIT_CONFIGS[job[0]], job[1])
                    assert_same_model(est, expected_fit[job])
        except BaseException as exc:   # reported by the main thread
            with lock:
                failures.append((k, repr(exc)))

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(N_THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
