"""Pickle, joblib and cloudpickle round trips at every stage, after which training
continues exactly as it would have; clone, get_params/set_params, tags."""

import io
import pickle

import cloudpickle  # a dependency of joblib
import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.neural_network import MLPRegressor as SkMLPRegressor
from sklearn.utils import get_tags

from _util import quiet
from cymlp import MLPClassifier, MLPRegressor


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(n_samples=200, n_features=6, n_informative=4, n_classes=3,
                               random_state=0)
    return X, y


def _pickle(est):
    return pickle.loads(pickle.dumps(est))


def _joblib(est, tmp_path, **load):
    path = tmp_path / "est.joblib"
    joblib.dump(est, path, compress=0 if load else 3)
    return joblib.load(path, **load)


def _cloudpickle(est):
    return cloudpickle.loads(cloudpickle.dumps(est))


ROUND_TRIPS = {
    "pickle": lambda est, tmp_path: _pickle(est),
    "joblib": lambda est, tmp_path: _joblib(est, tmp_path),
    "joblib-mmap-r": lambda est, tmp_path: _joblib(est, tmp_path, mmap_mode="r"),
    "cloudpickle": lambda est, tmp_path: _cloudpickle(est),
}


def _target(est, y):
    return y.astype(float) if isinstance(est, MLPRegressor) else y


def assert_same_params(a, b):
    pa, pb = a.get_params(), b.get_params()
    ra, rb = pa.pop("random_state"), pb.pop("random_state")
    assert pa == pb
    if isinstance(ra, np.random.RandomState):  # a copy, in the same state
        assert ra is not rb
        for u, v in zip(ra.get_state(), rb.get_state()):
            np.testing.assert_array_equal(u, v)
    else:
        assert ra == rb


def assert_identical(a, b):
    assert type(a) is type(b)
    assert_same_params(a, b)
    public = sorted(k for k in vars(a) if k.endswith("_") and not k.startswith("_"))
    assert public == sorted(k for k in vars(b) if k.endswith("_") and not k.startswith("_"))
    for u, v in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        assert u.dtype == v.dtype
        np.testing.assert_array_equal(u, v)
    for name in ["loss_curve_", "validation_scores_", "n_iter_", "t_", "loss_", "best_loss_",
                 "best_validation_score_", "n_outputs_", "out_activation_"]:
        assert getattr(a, name, None) == getattr(b, name, None), name
    if hasattr(a, "classes_"):
        np.testing.assert_array_equal(a.classes_, b.classes_)
    if hasattr(a, "_optimizer"):
        oa, ob = a._optimizer, b._optimizer
        assert (oa.t, oa.learning_rate) == (ob.t, ob.learning_rate)
        np.testing.assert_array_equal(oa.state1, ob.state1)
        np.testing.assert_array_equal(oa.state2, ob.state2)


ESTIMATORS = {
    "clf-sgd": lambda: MLPClassifier(hidden_layer_sizes=(8, 5), solver="sgd", batch_size=40,
                                     learning_rate="invscaling", learning_rate_init=0.05,
                                     random_state=0),
    "clf-adam": lambda: MLPClassifier(hidden_layer_sizes=(8,), batch_size=40, random_state=0),
    "clf-adam-rs": lambda: MLPClassifier(hidden_layer_sizes=(8,), batch_size=40,
                                         random_state=np.random.RandomState(0)),
    "reg-sgd-f32": lambda: MLPRegressor(hidden_layer_sizes=(8,), solver="sgd", batch_size=40,
                                        random_state=0),
}


@pytest.mark.parametrize("trip", sorted(ROUND_TRIPS))
@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_partial_fit_continues_exactly(data, tmp_path, name, trip):
    """Unfitted, and between partial_fit calls (optimizer state, counters, RNG)."""
    X, y = data
    if name.endswith("f32"):
        X = X.astype(np.float32)
    est = ESTIMATORS[name]()
    y = _target(est, y)
    kw = {"classes": np.unique(y)} if isinstance(est, MLPClassifier) else {}
    copy = ROUND_TRIPS[trip](est, tmp_path)  # unfitted
    assert_same_params(est, copy)
    for part in (slice(0, 100), slice(100, 200)):
        est.partial_fit(X[part], y[part], **kw)
        copy.partial_fit(X[part], y[part], **kw)
    assert_identical(est, copy)
    copy = ROUND_TRIPS[trip](est, tmp_path)  # mid-training
    assert_identical(est, copy)
    np.testing.assert_array_equal(copy.predict(X), est.predict(X))
    for part in (slice(50, 150), slice(0, 200)):
        est.partial_fit(X[part], y[part], **kw)
        copy.partial_fit(X[part], y[part], **kw)
    assert_identical(est, copy)


@pytest.mark.parametrize("trip", sorted(ROUND_TRIPS))
@pytest.mark.parametrize("params", [dict(solver="adam"), dict(solver="sgd", early_stopping=True),
                                    dict(solver="lbfgs")], ids=["adam", "sgd-es", "lbfgs"])
@pytest.mark.parametrize("cls", [MLPClassifier, MLPRegressor])
def test_fitted_round_trip_then_warm_start(data, tmp_path, cls, params, trip):
    X, y = data
    est = cls(hidden_layer_sizes=(7,), max_iter=8, warm_start=True, random_state=0, **params)
    y = _target(est, y)
    quiet(est.fit, X, y)
    copy = ROUND_TRIPS[trip](est, tmp_path)
    assert_identical(est, copy)
    np.testing.assert_array_equal(copy.predict(X), est.predict(X))
    assert copy.score(X, y) == est.score(X, y)
    if cls is MLPClassifier:
        np.testing.assert_array_equal(copy.predict_proba(X), est.predict_proba(X))
    quiet(est.fit, X, y)
    quiet(copy.fit, X, y)
    assert_identical(est, copy)


def test_round_trip_keeps_views_and_stores_parameters_once(data):
    X, y = data
    est = quiet(MLPClassifier(hidden_layer_sizes=(300,), max_iter=2, random_state=0).fit, X, y)
    copy = _pickle(est)
    for a in copy.coefs_ + copy.intercepts_:
        assert np.shares_memory(a, copy._params)
    n_bytes = copy._params.nbytes
    # parameters once, plus Adam's two moments, best weights and small change
    assert len(pickle.dumps(est)) < 4.5 * n_bytes
    # a user's assignment is honoured and survives the round trip
    est.intercepts_ = [b + 1.0 for b in est.intercepts_]
    copy = _pickle(est)
    np.testing.assert_array_equal(copy.predict_proba(X), est.predict_proba(X))


@pytest.mark.parametrize("ours, theirs", [(MLPClassifier, SkMLPClassifier),
                                          (MLPRegressor, SkMLPRegressor)])
def test_clone_get_params_set_params_tags(data, ours, theirs):
    X, y = data
    est = ours(hidden_layer_sizes=(5,), max_iter=3, random_state=0)
    y = _target(est, y)
    quiet(est.fit, X, y)
    twin = clone(est)
    assert not hasattr(twin, "coefs_")
    assert twin.get_params() == est.get_params()
    quiet(twin.fit, X, y)
    for a, b in zip(est.coefs_, twin.coefs_):
        np.testing.assert_array_equal(a, b)

    # scikit-learn's parameters (MLPClassifier: and cymlp's class_weight=None)
    assert {k: v for k, v in ours().get_params().items() if k != "class_weight"} == (
        theirs().get_params())
    assert est.set_params(alpha=0.5, hidden_layer_sizes=(4, 2)) is est
    assert est.get_params()["hidden_layer_sizes"] == (4, 2)
    for e in (ours(), theirs()):
        with pytest.raises(ValueError, match="Invalid parameter 'alpah'"):
            e.set_params(alpah=1.0)
    assert get_tags(ours()) == get_tags(theirs())
    assert ours().__sklearn_tags__() == theirs().__sklearn_tags__()


def test_repr_and_html_like_sklearn():
    for ours, theirs in [(MLPClassifier, SkMLPClassifier), (MLPRegressor, SkMLPRegressor)]:
        assert repr(ours(alpha=0.1, max_iter=7)) == repr(theirs(alpha=0.1, max_iter=7))
        buf = io.StringIO(ours()._repr_html_())
        assert ours.__name__ in buf.getvalue()


def test_pickles_name_the_public_classes_and_old_paths_still_load(data):
    """New pickles name cymlp.MLPClassifier; pickles of earlier versions, which
    name cymlp._mlp.MLPClassifier and cymlp._mlp._Optimizer, still load."""
    X, y = data
    est = quiet(MLPClassifier(hidden_layer_sizes=(5,), max_iter=3, random_state=0).fit, X, y)
    new = pickle.dumps(est, protocol=0)  # text opcodes: "c<module>\n<name>\n"
    assert b"ccymlp\nMLPClassifier\n" in new and b"ccymlp._solvers\n_Optimizer\n" in new
    old = new.replace(b"ccymlp\nMLPClassifier\n", b"ccymlp._mlp\nMLPClassifier\n").replace(
        b"ccymlp._solvers\n_Optimizer\n", b"ccymlp._mlp\n_Optimizer\n")
    copy = pickle.loads(old)
    assert type(copy) is MLPClassifier
    assert_identical(est, copy)
    est.partial_fit(X, y)
    copy.partial_fit(X, y)
    assert_identical(est, copy)
