"""Same data, same random_state: cymlp trains the same model as scikit-learn."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier as SkMLPClassifier

from cymlp import MLPClassifier

# rtol per dtype from the issue; atol covers weights that pass near zero, where
# a relative tolerance is meaningless (float32: a few ulps of the weight scale ~0.5).
TOL = {np.float64: dict(rtol=1e-6, atol=1e-10), np.float32: dict(rtol=1e-3, atol=1e-5)}

SOLVERS = {
    "sgd-plain": dict(solver="sgd", momentum=0.0, learning_rate_init=0.05),
    "sgd-momentum": dict(solver="sgd", momentum=0.9, nesterovs_momentum=False, learning_rate_init=0.01),
    "sgd-nesterov": dict(solver="sgd", momentum=0.9, nesterovs_momentum=True, learning_rate_init=0.01),
    "adam": dict(solver="adam", learning_rate_init=0.003),
}


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(n_samples=3000, n_features=20, n_informative=12,
                               n_classes=4, random_state=0)
    return X, y


def _fit_both(X, y, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        sk = SkMLPClassifier(**params).fit(X, y)
        cy = MLPClassifier(**params).fit(X, y)
    return sk, cy


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("activation", ["relu", "tanh"])
@pytest.mark.parametrize("solver", sorted(SOLVERS))
def test_five_epochs_match_sklearn(data, dtype, activation, solver):
    X, y = data
    params = dict(hidden_layer_sizes=(32, 16), activation=activation, max_iter=5,
                  batch_size=64, random_state=0, **SOLVERS[solver])
    sk, cy = _fit_both(X.astype(dtype), y, **params)
    assert cy.n_iter_ == sk.n_iter_ == 5
    for a, b in zip(sk.coefs_ + sk.intercepts_, cy.coefs_ + cy.intercepts_):
        assert b.dtype == a.dtype == dtype
        np.testing.assert_allclose(b, a, **TOL[dtype])
    np.testing.assert_allclose(cy.loss_curve_, sk.loss_curve_, rtol=TOL[dtype]["rtol"])
    assert cy.t_ == sk.t_


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_same_initial_weights(data, dtype):
    X, y = data
    for activation in ["relu", "logistic"]:
        params = dict(hidden_layer_sizes=(8, 5), activation=activation, solver="sgd",
                      max_iter=1, random_state=123)
        sk = SkMLPClassifier(**params)
        cy = MLPClassifier(**params)
        # one partial step with learning rate ~0 leaves the initial draws in place
        sk.set_params(learning_rate_init=1e-300)
        cy.set_params(learning_rate_init=1e-300)
        sk.partial_fit(X.astype(dtype), y, classes=np.unique(y))
        cy.partial_fit(X.astype(dtype), y, classes=np.unique(y))
        for a, b in zip(sk.coefs_ + sk.intercepts_, cy.coefs_ + cy.intercepts_):
            np.testing.assert_array_equal(a, b)


def test_random_state_instance_is_shared_and_advanced(data):
    X, y = data
    rs_a, rs_b = np.random.RandomState(7), np.random.RandomState(7)
    params = dict(hidden_layer_sizes=(10,), solver="sgd", max_iter=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        sk = SkMLPClassifier(random_state=rs_a, **params).fit(X, y)
        cy = MLPClassifier(random_state=rs_b, **params).fit(X, y)
    assert rs_a.randint(10**9) == rs_b.randint(10**9)
    for a, b in zip(sk.coefs_, cy.coefs_):
        np.testing.assert_allclose(b, a, **TOL[np.float64])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("solver", ["sgd-nesterov", "adam"])
def test_converged_predictions_agree(dtype, solver):
    X, y = make_classification(n_samples=4000, n_features=20, n_informative=10,
                               n_classes=3, random_state=1)
    X = X.astype(dtype)
    X_train, X_test, y_train = X[:3000], X[3000:], y[:3000]
    params = dict(hidden_layer_sizes=(32,), max_iter=200, random_state=0,
                  **SOLVERS[solver])
    sk, cy = _fit_both(X_train, y_train, **params)
    agree = np.mean(sk.predict(X_test) == cy.predict(X_test))
    assert agree >= 0.995, agree
    # the stopping rule fired at the same epoch (or both ran out of epochs)
    assert abs(cy.n_iter_ - sk.n_iter_) <= 2
