"""Sparse X (CSR and CSC, matrices and arrays): the engine's first layer runs over
the stored entries; results are scikit-learn's, and X is never densified."""

import tracemalloc
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.neural_network import MLPRegressor as SkMLPRegressor

from cymlp import MLPClassifier, MLPRegressor

TOL = {np.float64: dict(rtol=1e-6, atol=1e-10), np.float32: dict(rtol=1e-3, atol=1e-5)}
FORMATS = ["csr_matrix", "csc_matrix", "csr_array", "csc_array"]


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(n_samples=240, n_features=30, n_informative=8, n_classes=3,
                               random_state=0)
    X[np.abs(X) < 1.0] = 0.0  # about 30 % stored
    return X, y


def _fit(est, X, y, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y, **kw)


def assert_same_model(a, b, tol):
    for u, v in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        np.testing.assert_allclose(v, u, **tol)


def _params(solver, dtype=np.float64):
    max_iter = 5 if solver != "lbfgs" else (12 if dtype == np.float64 else 8)
    return dict(hidden_layer_sizes=(16,), solver=solver, max_iter=max_iter, batch_size=64,
                learning_rate_init=0.01, random_state=0)


@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
@pytest.mark.parametrize("fmt", FORMATS)
def test_matches_sklearn(data, fmt, solver):
    X, y = data
    Xs = getattr(sp, fmt)(X)
    sk = _fit(SkMLPClassifier(**_params(solver)), Xs, y)
    cy = _fit(MLPClassifier(**_params(solver)), Xs, y)
    assert cy.n_iter_ == sk.n_iter_
    assert_same_model(sk, cy, TOL[np.float64])
    np.testing.assert_allclose(cy.predict_proba(Xs), sk.predict_proba(Xs), **TOL[np.float64])
    # and the same model as from the dense X, predicting the same on both
    dense = _fit(MLPClassifier(**_params(solver)), X, y)
    assert_same_model(dense, cy, TOL[np.float64])
    np.testing.assert_allclose(cy.predict_proba(X), cy.predict_proba(Xs), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
@pytest.mark.parametrize("fmt", ["csr_matrix", "csc_matrix"])
def test_float32_matches_sklearn(data, fmt, solver):
    X, y = data
    Xs = getattr(sp, fmt)(X.astype(np.float32))
    sk = _fit(SkMLPClassifier(**_params(solver, np.float32)), Xs, y)
    cy = _fit(MLPClassifier(**_params(solver, np.float32)), Xs, y)
    assert all(c.dtype == np.float32 for c in cy.coefs_ + cy.intercepts_)
    assert_same_model(sk, cy, TOL[np.float32])
    assert cy.predict_proba(Xs).dtype == np.float32


def test_regressor_partial_fit_and_early_stopping(data):
    X, y = data
    Xs = sp.csr_matrix(X)
    target = X[:, 0] - X[:, 1] + 0.1 * y
    params = dict(hidden_layer_sizes=(8,), solver="sgd", learning_rate_init=0.01,
                  random_state=0)
    sk, cy = SkMLPRegressor(**params), MLPRegressor(**params)
    for start in range(0, 240, 80):
        sk.partial_fit(Xs[start:start + 80], target[start:start + 80])
        cy.partial_fit(Xs[start:start + 80], target[start:start + 80])
    assert_same_model(sk, cy, TOL[np.float64])
    es = dict(params, early_stopping=True, max_iter=15, n_iter_no_change=3)
    sk = _fit(SkMLPRegressor(**es), Xs.tocsc(), target)
    cy = _fit(MLPRegressor(**es), Xs.tocsc(), target)
    assert cy.n_iter_ == sk.n_iter_
    np.testing.assert_allclose(cy.validation_scores_, sk.validation_scores_, rtol=1e-6)
    assert_same_model(sk, cy, TOL[np.float64])


def test_awkward_csr_layouts(data):
    """Unsorted column indices, 64-bit indices, explicit zeros and empty rows
    give the dense result."""
    X, y = data
    X = X.copy()
    X[::7] = 0.0  # empty rows
    csr = sp.csr_matrix(X)
    rng = np.random.RandomState(0)
    for r in range(csr.shape[0]):  # shuffle each row's entries
        lo, hi = csr.indptr[r], csr.indptr[r + 1]
        perm = lo + rng.permutation(hi - lo)
        csr.indices[lo:hi], csr.data[lo:hi] = csr.indices[perm].copy(), csr.data[perm].copy()
    csr.has_sorted_indices = False
    coo = csr.tocoo()
    explicit_zeros = sp.csr_matrix(
        (np.r_[coo.data, np.zeros(50)],
         (np.r_[coo.row, rng.randint(0, 240, 50)], np.r_[coo.col, rng.randint(0, 30, 50)])),
        shape=X.shape)  # duplicates summed by the constructor, zeros kept
    wide = sp.csr_matrix(X)
    wide.indices = wide.indices.astype(np.int64)
    wide.indptr = wide.indptr.astype(np.int64)
    dense = _fit(MLPClassifier(**_params("adam")), X, y)
    for Xs in (csr, explicit_zeros, wide):
        cy = _fit(MLPClassifier(**_params("adam")), Xs, y)
        assert_same_model(dense, cy, TOL[np.float64])
        np.testing.assert_allclose(cy.predict_proba(Xs), dense.predict_proba(X), rtol=1e-9)


def test_wide_x_is_not_densified_or_modified():
    """A 600 x 2**22 CSR with 3000 stored entries: dense, it (or one batch of
    it) would take 10 GB and pass the 32-bit BLAS limit. fit and predict
    (1024-row chunks) read the stored entries only."""
    rng = np.random.RandomState(0)
    n, nnz = 600, 3000
    X = sp.csr_matrix((rng.rand(nnz).astype(np.float32),
                       (rng.randint(0, n, nnz), rng.randint(0, 2**22, nnz))), shape=(n, 2**22))
    y = rng.randint(0, 2, n)
    before = (X.data.copy(), X.indices.copy(), X.indptr.copy())
    clf = MLPClassifier(hidden_layer_sizes=(1,), solver="sgd", batch_size=600, max_iter=1,
                        random_state=0)
    tracemalloc.start()
    try:
        _fit(clf, X, y)
        proba = clf.predict_proba(X)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # the 4M weights (16 MB float32, drawn in float64), gradient, momentum and
    # failure snapshot: about 100 MB
    assert peak < 300e6, peak
    assert proba.shape == (n, 2) and np.isfinite(proba).all()
    np.testing.assert_allclose(clf.predict_proba(X[::7]), proba[::7], rtol=1e-6)
    for a, b in zip(before, (X.data, X.indices, X.indptr)):
        np.testing.assert_array_equal(a, b)
