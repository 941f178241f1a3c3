"""solver='lbfgs': scipy's L-BFGS-B over the engine's full-batch loss and gradient."""

import contextlib
import io
import warnings

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_multilabel_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.neural_network import MLPRegressor as SkMLPRegressor

import cymlp._train
from cymlp import MLPClassifier, MLPRegressor

TOL = {np.float64: dict(rtol=1e-6, atol=1e-10), np.float32: dict(rtol=1e-3, atol=1e-5)}


def _data(kind):
    if kind == "multilabel":
        return make_multilabel_classification(n_samples=150, n_features=6, n_classes=3,
                                              random_state=0)
    n_classes = 2 if kind == "binary" else 3
    return make_classification(n_samples=150, n_features=6, n_informative=4,
                               n_classes=n_classes, random_state=0)


def _fit(cls, X, y, **params):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        est = cls(solver="lbfgs", **params).fit(X, y)
    return est, [(x.category, str(x.message)) for x in w]


def assert_same_model(sk, cy, dtype=np.float64):
    for a, b in zip(sk.coefs_ + sk.intercepts_, cy.coefs_ + cy.intercepts_):
        np.testing.assert_allclose(b, a, **TOL[dtype])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kind", ["binary", "multiclass", "multilabel"])
@pytest.mark.parametrize("activation", ["relu", "logistic"])
def test_classifier_matches_sklearn(kind, activation, dtype):
    X, y = _data(kind)
    X = X.astype(dtype)
    # float32: cymlp computes in float32, sklearn in float64 after its first
    # step; a few iterations stay within the float32 tolerance
    params = dict(hidden_layer_sizes=(10,), activation=activation, random_state=0,
                  max_iter=30 if dtype == np.float64 else 10)
    sk, sk_warn = _fit(SkMLPClassifier, X, y, **params)
    cy, cy_warn = _fit(MLPClassifier, X, y, **params)
    assert cy_warn == sk_warn  # the same ConvergenceWarning, word for word
    assert cy.n_iter_ == sk.n_iter_
    assert cy.t_ == sk.t_ == 0
    assert cy.loss_ == pytest.approx(sk.loss_, rel=TOL[dtype]["rtol"])
    assert_same_model(sk, cy, dtype)
    assert all(c.dtype == dtype for c in cy.coefs_ + cy.intercepts_)
    # no per-epoch attributes after L-BFGS, as in sklearn
    for name in ["loss_curve_", "best_loss_", "validation_scores_", "best_validation_score_"]:
        assert not hasattr(cy, name) and not hasattr(sk, name)
    np.testing.assert_allclose(cy.predict_proba(X), sk.predict_proba(X),
                               rtol=TOL[dtype]["rtol"], atol=TOL[dtype]["atol"])


@pytest.mark.parametrize("limit", [dict(max_iter=4), dict(max_fun=6), dict(tol=1e-1, max_iter=500)])
def test_max_iter_max_fun_tol_and_warning(limit):
    X, y = _data("multiclass")
    sk, sk_warn = _fit(SkMLPClassifier, X, y, hidden_layer_sizes=(8,), random_state=0, **limit)
    cy, cy_warn = _fit(MLPClassifier, X, y, hidden_layer_sizes=(8,), random_state=0, **limit)
    assert cy_warn == sk_warn
    if "tol" in limit:
        assert cy_warn == [] and cy.n_iter_ < 500
    else:
        assert [c for c, _ in cy_warn] == [ConvergenceWarning]
        # scipy >= 1.15 words it "... F,G EVALUATIONS EXCEEDS LIMIT", older
        # releases "... f AND g EVALUATIONS EXCEEDS LIMIT"
        stop = "ITERATIONS REACHED LIMIT" if "max_iter" in limit else "EVALUATIONS EXCEEDS LIMIT"
        assert cy_warn[0][1].startswith(f"lbfgs failed to converge after {cy.n_iter_} iteration(s)")
        assert stop in cy_warn[0][1].upper()
    assert cy.n_iter_ == sk.n_iter_
    assert cy.loss_ == pytest.approx(sk.loss_, rel=1e-6)
    assert_same_model(sk, cy)


def test_float32_stays_float32_in_the_engine(monkeypatch):
    """The engine's loss_and_gradient sees float32 X, targets and parameters;
    only scipy's own vectors are float64."""
    X, y = _data("multiclass")
    seen = []
    real = cymlp._train.loss_and_gradient

    def spy(net, ws, X_, Y_, sw, params, grads, alpha):
        seen.append((np.asarray(X_).dtype, Y_.dtype, params.dtype, grads.dtype))
        return real(net, ws, X_, Y_, sw, params, grads, alpha)

    monkeypatch.setattr(cymlp._train, "loss_and_gradient", spy)
    cy, _ = _fit(MLPClassifier, X.astype(np.float32), y, hidden_layer_sizes=(5,),
                 max_iter=5, random_state=0)
    assert seen and set(seen) == {(np.dtype(np.float32),) * 4}
    assert all(c.dtype == np.float32 for c in cy.coefs_ + cy.intercepts_)
    assert cy.predict_proba(X.astype(np.float32)).dtype == np.float32


def test_warm_start_continues_like_sklearn():
    X, y = _data("multiclass")
    params = dict(hidden_layer_sizes=(8,), max_iter=5, warm_start=True, random_state=0)
    sk = SkMLPClassifier(solver="lbfgs", **params)
    cy = MLPClassifier(solver="lbfgs", **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for _ in range(3):
            sk.fit(X, y)
            cy.fit(X, y)
    assert cy.n_iter_ == sk.n_iter_ == 5
    assert cy.loss_ == pytest.approx(sk.loss_, rel=1e-6)
    assert_same_model(sk, cy)


def test_stochastic_only_parameters_are_ignored():
    """shuffle, batch_size, learning rates and early_stopping play no part."""
    X, y = _data("binary")
    base, _ = _fit(MLPClassifier, X, y, hidden_layer_sizes=(6,), max_iter=15, random_state=0)
    other, _ = _fit(MLPClassifier, X, y, hidden_layer_sizes=(6,), max_iter=15, random_state=0,
                    shuffle=False, batch_size=7, learning_rate_init=0.5, early_stopping=True,
                    momentum=0.1)
    for a, b in zip(base.coefs_ + base.intercepts_, other.coefs_ + other.intercepts_):
        np.testing.assert_array_equal(a, b)
    assert not hasattr(other, "validation_scores_")


def test_verbose_prints_nothing_like_sklearn():
    """scikit-learn drops iprint for scipy >= 1.15, so verbose lbfgs is silent."""
    X, y = _data("binary")
    outs = []
    for cls in (SkMLPClassifier, MLPClassifier):
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            _fit(cls, X, y, hidden_layer_sizes=(4,), max_iter=3, verbose=True, random_state=0)
        outs.append(buf.getvalue())
    assert outs[0] == outs[1]


def test_regressor_lbfgs_sparse_and_weighted_matches_sklearn():
    import scipy.sparse as sp

    X, y = _data("binary")
    y = X[:, 0] - 2 * X[:, 1] + 0.1 * y
    Xs = sp.csr_matrix(np.where(np.abs(X) > 0.7, X, 0.0))
    sw = np.random.RandomState(0).randint(0, 3, len(y)).astype(float)
    sk, _ = _fit(SkMLPRegressor, Xs, y, hidden_layer_sizes=(7,), max_iter=25, random_state=0)
    cy, _ = _fit(MLPRegressor, Xs, y, hidden_layer_sizes=(7,), max_iter=25, random_state=0)
    assert_same_model(sk, cy)
    sk = SkMLPRegressor(solver="lbfgs", hidden_layer_sizes=(7,), max_iter=25, random_state=0)
    cy = MLPRegressor(solver="lbfgs", hidden_layer_sizes=(7,), max_iter=25, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        sk.fit(Xs, y, sample_weight=sw)
        cy.fit(Xs, y, sample_weight=sw)
    assert cy.n_iter_ == sk.n_iter_
    assert_same_model(sk, cy)
