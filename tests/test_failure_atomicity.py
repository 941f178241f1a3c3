"""Nothing is lost: a fit or partial_fit that raises leaves a fitted estimator
exactly as it was; divergence to non-finite weights raises (scikit-learn's rule); Ctrl-C keeps the
model trained so far, as scikit-learn does."""

import copy
import warnings

import numpy as np
import pytest
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.neural_network import MLPRegressor as SkMLPRegressor

from _util import quiet, assert_params_are_views, assert_same_model, assert_same_state
from cymlp import MLPClassifier, MLPRegressor, _train

RNG = np.random.RandomState(0)
X = RNG.randn(60, 4)
Y = np.arange(60) % 3
YR = X @ RNG.randn(4) + 0.1 * RNG.randn(60)


def _sk_params(est):
    """est's parameters for scikit-learn's MLP (without cymlp's class_weight)."""
    return {k: v for k, v in est.get_params().items() if k != "class_weight"}


def _make(kind, solver, **kw):
    E = MLPClassifier if kind == "clf" else MLPRegressor
    params = dict(hidden_layer_sizes=(6, 5), solver=solver, batch_size=10, max_iter=5,
                  random_state=0, learning_rate_init=0.01)
    params.update(kw)
    return E(**params)


def _target(kind):
    return Y if kind == "clf" else YR


def _fitted(kind, solver, **kw):
    est = _make(kind, solver, **kw)
    quiet(est.fit, X, _target(kind))
    if solver != "lbfgs":
        est.partial_fit(X, _target(kind))
    return est


# (name, applies to, call) — each call raises on a fitted estimator
def _diverge_partial(est, kind):
    # partial_fit keeps its optimizer (and learning rate): diverge through the
    # data instead, after three minibatches have already updated the weights
    Xb = X.copy()
    Xb[30:] *= 1e307  # overflows to inf in the first hidden layers
    est.set_params(shuffle=False)
    try:
        est.partial_fit(Xb, _target(kind))
    finally:
        est.set_params(shuffle=True)


def _warm_fit_3_features(est, kind):
    est.set_params(warm_start=True)
    try:
        est.fit(X[:, :3], _target(kind))
    finally:
        est.set_params(warm_start=False)


def _diverge_warm_fit(est, kind):
    est.set_params(learning_rate_init=1e200, warm_start=True)
    try:
        est.fit(X * 100, _target(kind))
    finally:
        est.set_params(learning_rate_init=0.01, warm_start=False)


def _diverge_fit(est, kind):
    est.set_params(learning_rate_init=1e200)
    try:
        est.fit(X * 100, _target(kind))
    finally:
        est.set_params(learning_rate_init=0.01)


FAILURES = {
    "fit NaN X": (lambda est, kind: est.fit(np.where(X > 1, np.nan, X), _target(kind))),
    "fit short y": (lambda est, kind: est.fit(X, _target(kind)[:-1])),
    "warm-start fit 3 features": _warm_fit_3_features,
    "partial_fit 3 features": (lambda est, kind: est.partial_fit(X[:, :3], _target(kind))),
    "partial_fit inf X": (lambda est, kind: est.partial_fit(np.where(X > 1, np.inf, X),
                                                            _target(kind))),
    "partial_fit unknown label": (lambda est, kind: est.partial_fit(X, _target(kind) + 7)),
    "diverging fit": _diverge_fit,
    "diverging warm-start fit": _diverge_warm_fit,
    "diverging partial_fit": _diverge_partial,
}


def _applies(name, kind, solver):
    if "label" in name and kind != "clf":
        return False
    if name == "diverging partial_fit" and (kind, solver) == ("clf", "adam"):
        return False  # Adam's normalised step and the clipped log-loss stay finite
    if "partial_fit" in name or "diverging" in name:
        return solver != "lbfgs"
    return True


CASES = [
    (name, kind, solver)
    for name in FAILURES
    for kind in ["clf", "reg"]
    for solver in ["sgd", "adam", "lbfgs"]
    if _applies(name, kind, solver)
]


@pytest.mark.parametrize("name, kind, solver", CASES)
def test_failed_call_changes_nothing(name, kind, solver):
    est = _fitted(kind, solver)
    twin = copy.deepcopy(est)          # never sees the failing call
    before = copy.deepcopy(est)
    views = list(est.coefs_) + list(est.intercepts_)
    params_buffer = est._params

    with pytest.raises(ValueError):
        quiet(FAILURES[name], est, kind)

    assert_same_state(est, before)
    # restored in place: the same buffer, the same view objects, old values
    assert est._params is params_buffer
    for old, new in zip(views, list(est.coefs_) + list(est.intercepts_)):
        assert old is new
    # and it trains on exactly as if the call had never happened
    for model in (est, twin):
        if solver == "lbfgs":
            model.set_params(warm_start=True, max_iter=3)
            quiet(model.fit, X, _target(kind))
        else:
            model.partial_fit(X, _target(kind))
            model.set_params(warm_start=True)
            quiet(model.fit, X, _target(kind))
    assert_same_state(est, twin)


@pytest.mark.parametrize("kind", ["clf", "reg"])
def test_failed_first_fit_leaves_an_unfitted_estimator(kind):
    est = _make(kind, "adam", learning_rate_init=1e200)
    fresh = copy.deepcopy(est)
    with pytest.raises(ValueError, match="non-finite"):
        est.fit(X * 100, _target(kind))
    assert est.__dict__.keys() == fresh.__dict__.keys()
    assert not hasattr(est, "coefs_")
    est.set_params(learning_rate_init=0.01)
    assert_same_model(quiet(est.fit, X, _target(kind)),
                      quiet(_make(kind, "adam").fit, X, _target(kind)))


def test_failed_call_rewinds_a_randomstate_random_state():
    rs = np.random.RandomState(7)
    est = _make("clf", "sgd", random_state=rs)
    quiet(est.fit, X, Y)
    state = rs.get_state()
    est.set_params(learning_rate_init=1e200)
    with pytest.raises(ValueError, match="non-finite"):
        est.fit(X * 100, Y)   # draws initial weights and shuffles before failing
    after = rs.get_state()
    np.testing.assert_array_equal(after[1], state[1])
    assert after[2:] == state[2:]
    assert est._random_state is rs


def test_interrupted_lbfgs_is_restored(monkeypatch):
    est = _fitted("clf", "lbfgs")
    before = copy.deepcopy(est)
    real = _train.loss_and_gradient
    calls = []

    def flaky(*args):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(*args)

    monkeypatch.setattr(_train, "loss_and_gradient", flaky)
    est.set_params(warm_start=True)
    with pytest.raises(KeyboardInterrupt):
        est.fit(X, Y)
    est.set_params(warm_start=False)
    assert_same_state(est, before)


# ----------------------------------------------------------------------
# divergence: an error that suggests a smaller learning rate, never NaNs
# ----------------------------------------------------------------------
@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("kind", ["clf", "reg"])
def test_divergence_raises_like_sklearn(kind, solver):
    ours = _make(kind, solver, learning_rate_init=1e200, max_iter=10)
    with pytest.raises(ValueError, match="non-finite parameter weights") as err:
        ours.fit(X * 100, _target(kind))
    assert "smaller learning_rate_init" in str(err.value)
    assert not hasattr(ours, "coefs_")
    # scikit-learn raises too (after running the remaining epochs on NaNs)
    Sk = SkMLPClassifier if kind == "clf" else SkMLPRegressor
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(ValueError, match="non-finite parameter weights"):
            quiet(Sk(**_sk_params(_make(kind, solver, learning_rate_init=1e200,
                                        max_iter=10))).fit, X * 100, _target(kind))


@pytest.mark.parametrize("kind", ["clf", "reg"])
def test_divergence_in_the_last_update_still_raises(kind):
    # one epoch, one batch: the loss is finite, the update is not
    est = _make(kind, "sgd", learning_rate_init=1e308, max_iter=1, batch_size=60,
                momentum=0.0)
    with pytest.raises(ValueError, match="non-finite parameter weights") as err:
        quiet(est.fit, X * 1e10, _target(kind))
    assert "smaller learning_rate_init" in str(err.value)


# the rule is the weights, not the loss (scikit-learn's): a NaN or infinite
# loss with finite weights is a model, as in scikit-learn
@pytest.mark.parametrize("kind, case", [("clf", "X * 1e200"), ("clf", "X * 1e300"),
                                        ("reg", "X * 1e200"), ("reg", "X * 1e300"),
                                        ("reg", "y * 1e200")])
def test_lbfgs_non_finite_loss_keeps_the_model_as_sklearn(kind, case):
    Xc, yc = (X * float(case[4:]), _target(kind)) if case[0] == "X" else (X, YR * 1e200)
    Sk = SkMLPClassifier if kind == "clf" else SkMLPRegressor
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sk = Sk(**_sk_params(_make(kind, "lbfgs"))).fit(Xc, yc)
    ours = quiet(_make(kind, "lbfgs").fit, Xc, yc)
    assert np.isnan(sk.loss_) and np.isnan(ours.loss_)
    assert ours.n_iter_ == sk.n_iter_
    for a, b in zip(sk.coefs_ + sk.intercepts_, ours.coefs_ + ours.intercepts_):
        np.testing.assert_array_equal(b, a)


def test_sgd_infinite_loss_with_finite_weights_keeps_the_model_as_sklearn():
    # squared errors of 1e200 overflow; a tiny step keeps the weights finite
    params = dict(hidden_layer_sizes=(5,), solver="sgd", learning_rate_init=1e-300,
                  max_iter=3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sk = SkMLPRegressor(**params).fit(X, YR * 1e200)
    ours = quiet(MLPRegressor(**params).fit, X, YR * 1e200)
    assert ours.loss_curve_ == sk.loss_curve_ == [np.inf] * 3
    for a, b in zip(sk.coefs_ + sk.intercepts_, ours.coefs_ + ours.intercepts_):
        np.testing.assert_allclose(b, a, rtol=1e-12)


def test_diverging_early_stopping_keeps_the_best_weights_as_sklearn():
    # scikit-learn issue 29504 (its test_mlp_diverging_loss): the run diverges to
    # NaN weights, early stopping records nan scores and restores the best weights
    from sklearn.datasets import load_iris

    Xi, yi = load_iris(return_X_y=True)
    params = dict(hidden_layer_sizes=100, activation="identity", solver="sgd",
                  learning_rate_init=1, max_iter=20, early_stopping=True,
                  n_iter_no_change=10, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sk = SkMLPRegressor(**params).fit(Xi, yi)
        ours = MLPRegressor(**params).fit(Xi, yi)
    assert ours.n_iter_ == sk.n_iter_ == 20
    assert np.isnan(ours.validation_scores_[-1]) and isinstance(ours.validation_scores_[-1], float)
    np.testing.assert_allclose(ours.validation_scores_, sk.validation_scores_, rtol=1e-12)
    np.testing.assert_allclose(ours.best_validation_score_, sk.best_validation_score_, rtol=1e-12)
    for a, b in zip(sk.coefs_ + sk.intercepts_, ours.coefs_ + ours.intercepts_):
        assert np.isfinite(b).all()
        np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-12)


# ----------------------------------------------------------------------
# Ctrl-C: scikit-learn's warning, the model trained so far, still usable
# ----------------------------------------------------------------------
def _interrupt_on_epoch(monkeypatch, epoch):
    real = _train.train_epoch
    calls = []

    def flaky(*args):
        calls.append(1)
        if len(calls) == epoch:
            raise KeyboardInterrupt
        return real(*args)

    monkeypatch.setattr(_train, "train_epoch", flaky)
    return calls


@pytest.mark.parametrize("early_stopping", [False, True])
@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("kind", ["clf", "reg"])
def test_keyboard_interrupt_keeps_the_model_so_far(monkeypatch, kind, solver,
                                                   early_stopping):
    est = _make(kind, solver, max_iter=10, early_stopping=early_stopping)
    _interrupt_on_epoch(monkeypatch, 3)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        assert est.fit(X, _target(kind)) is est
    msgs = [str(w.message) for w in rec]
    assert msgs == ["Training interrupted by user."]
    monkeypatch.undo()
    assert est.n_iter_ == 2 and len(est.loss_curve_) == 2
    assert_params_are_views(est)
    # the same as two epochs
    two = quiet(_make(kind, solver, max_iter=2, early_stopping=early_stopping).fit,
                 X, _target(kind))
    assert_same_model(est, two)
    assert est.loss_curve_ == two.loss_curve_
    # still usable: predict, continue, refit
    np.testing.assert_array_equal(est.predict(X), two.predict(X))
    if not early_stopping:
        est.partial_fit(X, _target(kind))
        two.partial_fit(X, _target(kind))
        assert_same_model(est, two)
    quiet(est.fit, X, _target(kind))
    assert_same_model(est, quiet(_make(kind, solver, max_iter=10,
                                        early_stopping=early_stopping).fit, X, _target(kind)))


def test_keyboard_interrupt_message_is_sklearns():
    import inspect

    from sklearn.neural_network import _multilayer_perceptron

    assert 'warnings.warn("Training interrupted by user.")' in inspect.getsource(
        _multilayer_perceptron)


def test_keyboard_interrupt_in_partial_fit(monkeypatch):
    est = _fitted("clf", "sgd")
    before = copy.deepcopy(est)
    _interrupt_on_epoch(monkeypatch, 1)
    with pytest.warns(UserWarning, match="Training interrupted by user."):
        est.partial_fit(X, Y)
    monkeypatch.undo()
    # nothing trained: the weights are unchanged, the call counted no epoch
    assert_same_model(est, before)
    assert est.n_iter_ == 0
    est.partial_fit(X, Y)
    before.partial_fit(X, Y)
    assert_same_model(est, before)
