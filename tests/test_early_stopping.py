"""early_stopping: scikit-learn's split (same RNG draws), validation scores, best weights restored."""

import numpy as np
import sklearn
from sklearn.utils.fixes import parse_version
import pytest
import scipy.sparse as sp
import sklearn.neural_network._multilayer_perceptron as sk_mlp
from sklearn.datasets import make_classification, make_multilabel_classification, make_regression
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.neural_network import MLPRegressor as SkMLPRegressor

from _util import quiet
import cymlp._solvers
from cymlp import MLPClassifier, MLPRegressor

TOL = {np.float64: dict(rtol=1e-6, atol=1e-10), np.float32: dict(rtol=1e-3, atol=1e-5)}
PARAMS = dict(hidden_layer_sizes=(16,), early_stopping=True, max_iter=40, random_state=1,
              n_iter_no_change=3, learning_rate_init=0.03, validation_fraction=0.2)


def _data(kind):
    n = 200
    if kind == "multilabel":
        X, y = make_multilabel_classification(n_samples=n, n_features=6, n_classes=3,
                                              random_state=0)
    elif kind.startswith("regression"):
        X, y = make_regression(n_samples=n, n_features=6, n_targets=2, noise=20.0,
                               random_state=0)
        y = y / y.std(axis=0)
        y = y[:, 0] if kind == "regression" else y
    else:
        X, y = make_classification(n_samples=n, n_features=6, n_informative=4, flip_y=0.2,
                                   n_classes=2 if kind == "binary" else 3, random_state=0)
    return X, y


def _classes(kind):
    return (MLPRegressor, SkMLPRegressor) if kind.startswith("regression") else (
        MLPClassifier, SkMLPClassifier)


@pytest.fixture
def splits(monkeypatch):
    """Record the train_test_split calls of both libraries."""
    calls = {"sk": [], "cy": []}

    def spy(key, real):
        def split(*arrays, **kwargs):
            out = real(*arrays, **kwargs)
            calls[key].append((kwargs, out))
            return out
        return split

    monkeypatch.setattr(sk_mlp, "train_test_split", spy("sk", sk_mlp.train_test_split))
    monkeypatch.setattr(cymlp._solvers, "train_test_split",
                        spy("cy", cymlp._solvers.train_test_split))
    return calls


def _dense(a):
    return a.toarray() if sp.issparse(a) else np.asarray(a)


@pytest.mark.parametrize("kind", ["binary", "multiclass", "multilabel", "regression",
                                  "regression-2"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_matches_sklearn(splits, kind, weighted, dtype):
    X, y = _data(kind)
    X = X.astype(dtype)
    sw = np.random.RandomState(0).randint(0, 4, len(X)).astype(float) if weighted else None
    ours, theirs = _classes(kind)
    sk = quiet(theirs(**PARAMS).fit, X, y, sample_weight=sw)
    cy = quiet(ours(**PARAMS).fit, X, y, sample_weight=sw)

    # the same split: one call each, the same validation rows
    (sk_kw, sk_out), = splits["sk"]
    (cy_kw, cy_out), = splits["cy"]
    assert len(cy_out) == len(sk_out) == (6 if weighted else 4)
    np.testing.assert_array_equal(_dense(cy_out[1]), _dense(sk_out[1]))  # X_val
    np.testing.assert_array_equal(_dense(cy_out[0]), _dense(sk_out[0]))  # X_train, in order

    assert cy.n_iter_ == sk.n_iter_ < PARAMS["max_iter"]  # stopped early
    assert cy.best_loss_ is None and sk.best_loss_ is None
    rtol = TOL[dtype]["rtol"]
    np.testing.assert_allclose(cy.validation_scores_, sk.validation_scores_, rtol=rtol)
    assert cy.best_validation_score_ == pytest.approx(sk.best_validation_score_, rel=rtol)
    assert cy.best_validation_score_ == max(cy.validation_scores_)
    if kind == "regression-2":  # documented: summed squared error (#8349)
        assert cy.loss_ > sk.loss_
    else:
        np.testing.assert_allclose(cy.loss_curve_, sk.loss_curve_, rtol=rtol)
    # the restored best weights
    for a, b in zip(sk.coefs_ + sk.intercepts_, cy.coefs_ + cy.intercepts_):
        assert b.dtype == dtype
        np.testing.assert_allclose(b, a, **TOL[dtype])


@pytest.mark.parametrize("kind, stratified", [("binary", True), ("multiclass", False),
                                              ("multilabel", False), ("regression", False)])
def test_split_is_stratified_only_for_binary_targets(splits, kind, stratified):
    """Documented decision: scikit-learn stratifies only when its binarized
    target has one column (binary), although its docs say multiclass too; cymlp
    makes the same split so that the same random_state gives the same model."""
    X, y = _data(kind)
    ours, theirs = _classes(kind)
    quiet(theirs(**PARAMS).fit, X, y)
    quiet(ours(**PARAMS).fit, X, y)
    for key in ("sk", "cy"):
        (kwargs, _), = splits[key]
        assert (kwargs["stratify"] is not None) == stratified
        assert kwargs["test_size"] == PARAMS["validation_fraction"]
    if stratified:
        np.testing.assert_array_equal(splits["cy"][0][0]["stratify"],
                                      splits["sk"][0][0]["stratify"])


@pytest.mark.parametrize("kind", ["multiclass", "regression"])
def test_best_weights_are_restored(splits, kind):
    X, y = _data(kind)
    ours, _ = _classes(kind)
    est = quiet(ours(**PARAMS).fit, X, y)
    (_, (X_train, X_val, y_train, y_val)), = splits["cy"]
    best = int(np.argmax(est.validation_scores_))  # the first best epoch
    assert best < est.n_iter_ - 1  # the test needs later, worse epochs
    y_val = est._label_binarizer.inverse_transform(y_val) if kind == "multiclass" else y_val
    # the final model scores the best validation score on the validation split
    assert est.score(X_val, y_val) == est.best_validation_score_
    assert est.validation_scores_[-1] < est.best_validation_score_
    # and is the model of that epoch: the same fit stopped right there
    again = quiet(ours(**{**PARAMS, "max_iter": best + 1}).fit, X, y)
    for a, b in zip(est.coefs_ + est.intercepts_, again.coefs_ + again.intercepts_):
        np.testing.assert_array_equal(a, b)


def test_warm_start_restores_the_best_weights_seen():
    """Documented difference: after a warm-start fit with early_stopping whose
    epochs never beat the previous best_validation_score_, cymlp keeps the model
    that scored it; scikit-learn's "best" arrays alias the live ones after its
    first restore, so it keeps the last epoch's weights instead."""
    X, y = _data("multiclass")
    params = {**PARAMS, "warm_start": True}
    sk, cy = SkMLPClassifier(**params), MLPClassifier(**params)
    quiet(sk.fit, X, y)
    quiet(cy.fit, X, y)
    first = [a.copy() for a in cy.coefs_ + cy.intercepts_]
    sk_first = [a.copy() for a in sk.coefs_ + sk.intercepts_]
    quiet(sk.fit, X, y)
    quiet(cy.fit, X, y)
    # the same second fit: no improvement, stopped after one epoch
    assert sk.n_iter_ == cy.n_iter_ == 1
    assert cy.validation_scores_ == pytest.approx(sk.validation_scores_, rel=1e-12)
    assert cy.validation_scores_[-1] < cy.best_validation_score_
    for a, b in zip(first, cy.coefs_ + cy.intercepts_):
        np.testing.assert_array_equal(a, b)
    assert not all(np.array_equal(a, b) for a, b in zip(sk_first, sk.coefs_ + sk.intercepts_))


@pytest.mark.parametrize("switch", ["early_stopping-off-partial_fit", "early_stopping-off-warm",
                                    "early_stopping-on-warm", "lbfgs-to-sgd-warm",
                                    "lbfgs-to-sgd-partial_fit"])
def test_switching_modes_between_calls(switch):
    """Documented difference: scikit-learn fails with a TypeError/AttributeError
    (its best_loss_ / validation_scores_ / loss_curve_ is None or missing) when
    early_stopping or the solver changes between a fit and a warm-start fit or
    partial_fit (#25693 is the partial_fit case); cymlp starts the missing record."""
    X, y = _data("multiclass")
    first = dict(early_stopping=switch.startswith("early_stopping-off"),
                 solver="lbfgs" if switch.startswith("lbfgs") else "adam")
    second = dict(early_stopping=switch == "early_stopping-on-warm",
                  solver="sgd" if switch.startswith("lbfgs") else "adam")
    partial = switch.endswith("partial_fit")
    for cls in (SkMLPClassifier, MLPClassifier):
        est = quiet(cls(**{**PARAMS, **first, "warm_start": True}).fit, X, y)
        est.set_params(**second)
        call = (lambda: est.partial_fit(X, y)) if partial else (lambda: quiet(est.fit, X, y))
        if cls is SkMLPClassifier:
            with pytest.raises((TypeError, AttributeError)):
                call()
            continue
        call()
        assert est.n_iter_ >= 1 and np.isfinite(est.loss_curve_[-1])
        if second["early_stopping"]:
            assert est.best_validation_score_ == max(est.validation_scores_)
        else:
            assert est.best_loss_ == min(est.loss_curve_[-est.n_iter_:])


def test_errors_like_sklearn():
    X, y = _data("multiclass")
    for ours, theirs in [(MLPClassifier, SkMLPClassifier), (MLPRegressor, SkMLPRegressor)]:
        for est in (ours(early_stopping=True), theirs(early_stopping=True)):
            kw = {"classes": np.unique(y)} if isinstance(est, (MLPClassifier, SkMLPClassifier)) else {}
            with pytest.raises(ValueError, match="^partial_fit does not support early_stopping=True$"):
                est.partial_fit(X, y, **kw)
        for est in (ours(early_stopping=True, validation_fraction=0.005),
                    theirs(early_stopping=True, validation_fraction=0.005)):
            with pytest.raises(ValueError, match="^The validation set is too small. Increase"):
                est.fit(X, y)


def test_string_labels():
    """scikit-learn #33760 / #33774: string labels with early stopping."""
    X, y = _data("multiclass")
    labels = np.array(["ant", "bee", "cat"])[y]
    cy = quiet(MLPClassifier(**PARAMS).fit, X, labels)
    assert set(cy.predict(X)) <= set(labels)
    assert len(cy.validation_scores_) == cy.n_iter_
    if parse_version(sklearn.__version__) < parse_version("1.8"):
        return  # scikit-learn before 1.8 fails here itself (the bug fixed by #33774)
    sk = quiet(SkMLPClassifier(**PARAMS).fit, X, labels)
    assert cy.validation_scores_ == pytest.approx(sk.validation_scores_, rel=1e-12)
