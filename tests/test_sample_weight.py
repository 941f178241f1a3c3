"""sample_weight in fit and partial_fit, weighted as scikit-learn 1.7+ does.

Per minibatch scikit-learn minimizes sum_i s_i l_i / sum_i s_i + alpha ||W||^2 / (2 sum_i s_i):
each batch is normalized by its own weight sum. So integer weights equal
repeated rows only when each epoch is one batch (L-BFGS, or batch_size >= n);
and constant weights equal no weights only without the L2 term (alpha=0).
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import make_classification, make_multilabel_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.neural_network import MLPRegressor as SkMLPRegressor

from cymlp import MLPClassifier, MLPRegressor

TOL = {np.float64: dict(rtol=1e-6, atol=1e-10), np.float32: dict(rtol=1e-3, atol=1e-5)}
N = 150


def _data(kind):
    if kind == "multilabel":
        X, y = make_multilabel_classification(n_samples=N, n_features=6, n_classes=3,
                                              random_state=0)
    elif kind == "regression":
        X, y = make_regression(n_samples=N, n_features=6, noise=1.0, random_state=0)
        y = y / y.std()
    else:
        X, y = make_classification(n_samples=N, n_features=6, n_informative=4,
                                   n_classes=2 if kind == "binary" else 3, random_state=0)
    return X, y


def _classes(kind):
    return (MLPRegressor, SkMLPRegressor) if kind == "regression" else (
        MLPClassifier, SkMLPClassifier)


def _weights(kind="float"):
    rng = np.random.RandomState(3)
    if kind == "int":
        return rng.randint(0, 4, N)
    sw = rng.uniform(0.0, 3.0, N)
    sw[:10] = 0.0
    return sw


def _fit(est, X, y, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.filterwarnings("ignore", "Got `batch_size`", UserWarning)
        return est.fit(X, y, **kw)


def assert_same_model(a, b, tol):
    for u, v in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        np.testing.assert_allclose(v, u, **tol)


@pytest.mark.parametrize("kind", ["binary", "multiclass", "multilabel", "regression"])
@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fit_matches_sklearn(kind, solver, dtype):
    X, y = _data(kind)
    X = X.astype(dtype)
    ours, theirs = _classes(kind)
    max_iter = 5 if solver != "lbfgs" else (20 if dtype == np.float64 else 8)
    params = dict(hidden_layer_sizes=(10,), solver=solver, max_iter=max_iter, batch_size=32,
                  learning_rate_init=0.01, random_state=0)
    sw = _weights()
    sk = _fit(theirs(**params), X, y, sample_weight=sw)
    cy = _fit(ours(**params), X, y, sample_weight=sw)
    assert cy.n_iter_ == sk.n_iter_
    assert cy.loss_ == pytest.approx(sk.loss_, rel=TOL[dtype]["rtol"])
    if solver != "lbfgs":
        np.testing.assert_allclose(cy.loss_curve_, sk.loss_curve_, rtol=TOL[dtype]["rtol"])
    assert_same_model(sk, cy, TOL[dtype])
    # the weights did something
    unweighted = _fit(ours(**params), X, y)
    assert not np.allclose(unweighted.coefs_[0], cy.coefs_[0], **TOL[dtype])


@pytest.mark.parametrize("kind", ["multiclass", "multilabel", "regression"])
@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_partial_fit_matches_sklearn(kind, solver):
    X, y = _data(kind)
    ours, theirs = _classes(kind)
    params = dict(hidden_layer_sizes=(10,), solver=solver, batch_size=20,
                  learning_rate_init=0.01, random_state=0)
    sk, cy = theirs(**params), ours(**params)
    kw = {}
    if kind != "regression":  # sklearn wants classes on the first call, even multilabel
        kw = {"classes": np.arange(y.shape[1]) if kind == "multilabel" else np.unique(y)}
    sw = _weights()
    for start in range(0, N, 50):
        part = slice(start, start + 50)
        sk.partial_fit(X[part], y[part], sample_weight=sw[part], **kw)
        cy.partial_fit(X[part], y[part], sample_weight=sw[part], **kw)
    assert cy.t_ == sk.t_ == N
    np.testing.assert_allclose(cy.loss_curve_, sk.loss_curve_, rtol=1e-6)
    assert_same_model(sk, cy, TOL[np.float64])


@pytest.mark.parametrize("solver", ["lbfgs", "sgd", "adam"])
@pytest.mark.parametrize("kind", ["multiclass", "regression"])
def test_integer_weights_equal_repeated_rows_when_one_batch(kind, solver):
    """Weight k == the row k times (0 == dropped), where an epoch is one batch."""
    X, y = _data(kind)
    ours, theirs = _classes(kind)
    sw = _weights("int")
    params = dict(hidden_layer_sizes=(8,), solver=solver, max_iter=15, batch_size=1000,
                  learning_rate_init=0.01, random_state=0)
    weighted = _fit(ours(**params), X, y, sample_weight=sw)
    repeated = _fit(ours(**params), X.repeat(sw, axis=0), y.repeat(sw, axis=0))
    assert weighted.loss_ == pytest.approx(repeated.loss_, rel=1e-9)
    assert_same_model(repeated, weighted, dict(rtol=1e-7, atol=1e-12))
    # float sample weights that are integers, and sklearn agrees
    sk = _fit(theirs(**params), X, y, sample_weight=sw.astype(float))
    assert_same_model(sk, weighted, TOL[np.float64])


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_weights_are_normalized_per_batch(solver):
    """With minibatches, scaling all weights changes nothing without L2, but
    with alpha > 0 it scales the L2 term by 1/c (sum of weights in the
    denominator), as in scikit-learn."""
    X, y = _data("multiclass")
    params = dict(hidden_layer_sizes=(8,), solver=solver, max_iter=4, batch_size=16,
                  learning_rate_init=0.05, random_state=0)
    three = np.full(N, 3.0)
    plain = _fit(MLPClassifier(alpha=0.0, **params), X, y)
    scaled = _fit(MLPClassifier(alpha=0.0, **params), X, y, sample_weight=three)
    assert_same_model(plain, scaled, dict(rtol=1e-9, atol=1e-12))
    plain = _fit(MLPClassifier(alpha=0.1, **params), X, y)
    scaled = _fit(MLPClassifier(alpha=0.1, **params), X, y, sample_weight=three)
    same_as_third = _fit(MLPClassifier(alpha=0.1 / 3, **params), X, y)
    assert not np.allclose(plain.coefs_[0], scaled.coefs_[0], rtol=1e-6)
    assert_same_model(same_as_third, scaled, dict(rtol=1e-9, atol=1e-12))
    sk = _fit(SkMLPClassifier(alpha=0.1, **params), X, y, sample_weight=three)
    assert_same_model(sk, scaled, TOL[np.float64])


@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_sparse_weighted_matches_sklearn(fmt):
    X, y = _data("multiclass")
    X = sp.csr_matrix(np.where(np.abs(X) > 0.8, X, 0.0)).asformat(fmt)
    params = dict(hidden_layer_sizes=(8,), solver="adam", max_iter=4, batch_size=32,
                  random_state=0)
    sw = _weights()
    sk = _fit(SkMLPClassifier(**params), X, y, sample_weight=sw)
    cy = _fit(MLPClassifier(**params), X, y, sample_weight=sw)
    assert_same_model(sk, cy, TOL[np.float64])


def test_weights_as_list_and_score_weights():
    X, y = _data("binary")
    sw = _weights()
    params = dict(hidden_layer_sizes=(6,), max_iter=5, random_state=0)
    a = _fit(MLPClassifier(**params), X, y, sample_weight=list(sw))
    b = _fit(MLPClassifier(**params), X, y, sample_weight=sw)
    assert_same_model(a, b, dict(rtol=0, atol=0))
    sk = _fit(SkMLPClassifier(**params), X, y, sample_weight=sw)
    assert b.score(X, y, sample_weight=sw) == sk.score(X, y, sample_weight=sw)


@pytest.mark.parametrize("sw, match", [(np.ones(3), "sample_weight.shape == "),
                                       (np.ones((N, 2)), "Sample weights must be 1D")])
def test_bad_weights_raise_like_sklearn(sw, match):
    X, y = _data("binary")
    for cls in (MLPClassifier, SkMLPClassifier):
        with pytest.raises(ValueError, match=match):
            cls(max_iter=1).fit(X, y, sample_weight=sw)


def test_weights_are_not_modified():
    X, y = _data("regression")
    sw = _weights()
    before = sw.copy()
    _fit(MLPRegressor(hidden_layer_sizes=(4,), max_iter=2, early_stopping=True), X, y,
         sample_weight=sw)
    np.testing.assert_array_equal(sw, before)
