"""Multilabel classification: indicator-matrix y, independent logistic outputs, subset accuracy."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import make_multilabel_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score
from sklearn.neural_network import MLPClassifier as SkMLPClassifier

from cymlp import MLPClassifier

TOL = {np.float64: dict(rtol=1e-6, atol=1e-10), np.float32: dict(rtol=1e-3, atol=1e-5)}


@pytest.fixture(scope="module")
def data():
    return make_multilabel_classification(n_samples=200, n_features=8, n_classes=4,
                                          random_state=0)


def _fit(cls, X, y, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return cls(**params).fit(X, y)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
def test_matches_sklearn(data, solver, dtype):
    X, y = data
    X = X.astype(dtype)
    params = dict(hidden_layer_sizes=(12,), solver=solver, random_state=0,
                  max_iter=10 if solver == "lbfgs" else 8, learning_rate_init=0.01)
    sk = _fit(SkMLPClassifier, X, y, **params)
    cy = _fit(MLPClassifier, X, y, **params)
    assert cy.out_activation_ == sk.out_activation_ == "logistic"
    assert cy.n_outputs_ == sk.n_outputs_ == 4
    np.testing.assert_array_equal(cy.classes_, sk.classes_)
    assert cy._label_binarizer.y_type_ == "multilabel-indicator"
    for a, b in zip(sk.coefs_ + sk.intercepts_, cy.coefs_ + cy.intercepts_):
        np.testing.assert_allclose(b, a, **TOL[dtype])
    assert cy.loss_ == pytest.approx(sk.loss_, rel=TOL[dtype]["rtol"])

    proba = cy.predict_proba(X)
    assert proba.shape == (200, 4) and proba.dtype == dtype
    np.testing.assert_allclose(proba, sk.predict_proba(X), **TOL[dtype])
    assert not np.allclose(proba.sum(axis=1), 1.0)  # independent sigmoids
    np.testing.assert_allclose(cy.predict_log_proba(X), np.log(proba), rtol=1e-6)

    pred = cy.predict(X)
    assert pred.shape == y.shape and pred.dtype == sk.predict(X).dtype
    np.testing.assert_array_equal(pred, (proba > 0.5).astype(int))
    assert cy.score(X, y) == accuracy_score(y, pred)  # subset accuracy


def test_partial_fit_matches_sklearn(data):
    """As in scikit-learn (#12505, open), the first partial_fit call wants
    `classes` even for an indicator y; the binarizer is fitted on y itself."""
    X, y = data
    params = dict(hidden_layer_sizes=(12,), solver="sgd", random_state=0)
    for cls in (MLPClassifier, SkMLPClassifier):
        with pytest.raises(ValueError, match="classes must be passed on the first call"):
            cls(**params).partial_fit(X, y)
    sk, cy = SkMLPClassifier(**params), MLPClassifier(**params)
    for start in range(0, 200, 50):
        sk.partial_fit(X[start:start + 50], y[start:start + 50], classes=np.arange(4))
        cy.partial_fit(X[start:start + 50], y[start:start + 50], classes=np.arange(4))
    np.testing.assert_allclose(cy.loss_curve_, sk.loss_curve_, rtol=1e-6)
    for a, b in zip(sk.coefs_ + sk.intercepts_, cy.coefs_ + cy.intercepts_):
        np.testing.assert_allclose(b, a, **TOL[np.float64])
    np.testing.assert_array_equal(cy.predict(X), sk.predict(X))


def test_score_is_subset_accuracy(data):
    X, y = data
    cy = _fit(MLPClassifier, X, y, hidden_layer_sizes=(12,), max_iter=30, random_state=0)
    pred = cy.predict(X)
    exact_rows = np.mean(np.all(pred == y, axis=1))
    assert cy.score(X, y) == exact_rows
    assert exact_rows < np.mean(pred == y)  # stricter than per-label accuracy
    sw = np.linspace(0.1, 1.0, len(y))
    assert cy.score(X, y, sample_weight=sw) == accuracy_score(y, pred, sample_weight=sw)


def test_one_label_column_and_warm_start(data):
    X, y = data
    params = dict(hidden_layer_sizes=(6,), max_iter=3, warm_start=True, random_state=0)
    sk, cy = SkMLPClassifier(**params), MLPClassifier(**params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for _ in range(2):
            sk.fit(X, y)
            cy.fit(X, y)
    for a, b in zip(sk.coefs_ + sk.intercepts_, cy.coefs_ + cy.intercepts_):
        np.testing.assert_allclose(b, a, **TOL[np.float64])
    # one label column is a binary problem, as in sklearn
    sk1 = _fit(SkMLPClassifier, X, y[:, :1].ravel(), hidden_layer_sizes=(4,), max_iter=3,
               random_state=0)
    cy1 = _fit(MLPClassifier, X, y[:, :1].ravel(), hidden_layer_sizes=(4,), max_iter=3,
               random_state=0)
    assert cy1.n_outputs_ == sk1.n_outputs_ == 1
    np.testing.assert_allclose(cy1.predict_proba(X), sk1.predict_proba(X), **TOL[np.float64])
