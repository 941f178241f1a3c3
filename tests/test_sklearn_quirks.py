"""scikit-learn behaviours kept on purpose (README, "Differences from scikit-learn",
last items), and its errors and warnings, word for word."""

import warnings

import numpy as np
import pytest
import sklearn.neural_network as skn
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning, DataConversionWarning, NotFittedError
from sklearn.utils._param_validation import InvalidParameterError

import cymlp
import cymlp._train
from _util import outcome


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(n_samples=120, n_features=5, n_informative=3, n_classes=3,
                               random_state=0)
    return X, y


def test_partial_fit_with_int_seed_replays_the_same_shuffle(data, monkeypatch):
    """Kept: random_state is re-read at every call, so with an int seed each
    partial_fit after the first draws the same permutation (as scikit-learn)."""
    X, y = data
    perms = []
    real = cymlp._train.train_epoch

    def spy(net, ws, X, Y, sw, order, *args):
        perms.append(np.array(order))
        return real(net, ws, X, Y, sw, order, *args)

    monkeypatch.setattr(cymlp._train, "train_epoch", spy)
    est = cymlp.MLPClassifier(hidden_layer_sizes=(4,), solver="sgd", random_state=3)
    for _ in range(3):
        est.partial_fit(X, y, classes=[0, 1, 2])
    assert len(perms) == 3
    np.testing.assert_array_equal(perms[1], perms[2])
    assert not np.array_equal(perms[0], perms[1])  # the first call drew the weights first
    monkeypatch.undo()
    sk = skn.MLPClassifier(hidden_layer_sizes=(4,), solver="sgd", random_state=3)
    for _ in range(3):
        sk.partial_fit(X, y, classes=[0, 1, 2])
    for a, b in zip(sk.coefs_, est.coefs_):
        np.testing.assert_allclose(b, a, rtol=1e-6, atol=1e-10)
    # a RandomState instance moves on instead
    rs = cymlp.MLPClassifier(hidden_layer_sizes=(4,), solver="sgd",
                             random_state=np.random.RandomState(3))
    rs.partial_fit(X, y, classes=[0, 1, 2])
    state = rs.random_state.get_state()[2]
    rs.partial_fit(X, y)
    assert rs.random_state.get_state()[2] != state


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_warm_start_rebuilds_the_optimizer(data, solver):
    """Kept (#6091): each warm-start fit starts a new optimizer (Adam's moments
    and bias correction, SGD's velocities), as scikit-learn does; partial_fit
    keeps it."""
    X, y = data
    params = dict(hidden_layer_sizes=(6,), solver=solver, batch_size=40, max_iter=3,
                  warm_start=True, random_state=0)
    est, sk = cymlp.MLPClassifier(**params), skn.MLPClassifier(**params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for _ in range(2):
            est.fit(X, y)
            sk.fit(X, y)
    if solver == "adam":
        assert est._optimizer.t == sk._optimizer.t == 3 * 3  # this fit's steps only
    for a, b in zip(sk.coefs_, est.coefs_):
        np.testing.assert_allclose(b, a, rtol=1e-6, atol=1e-10)
    opt = est._optimizer
    est.partial_fit(X, y)
    assert est._optimizer is opt
    if solver == "adam":
        assert opt.t == 12



X6, Y6 = make_classification(n_samples=60, n_features=5, n_informative=3, n_classes=3,
                             random_state=0)
CASES = {
    "classes not in classes_": lambda m: m.MLPClassifier(hidden_layer_sizes=(3,))
    .partial_fit(X6, Y6, classes=[0, 1, 2]).partial_fit(X6, Y6 + 5),
    "classes changed": lambda m: m.MLPClassifier(hidden_layer_sizes=(3,))
    .partial_fit(X6, Y6, classes=[0, 1, 2]).partial_fit(X6, Y6, classes=[0, 1]),
    "classes missing": lambda m: m.MLPClassifier().partial_fit(X6, Y6),
    "warm_start classes": lambda m: m.MLPClassifier(max_iter=1, warm_start=True)
    .fit(X6, Y6).fit(X6, np.minimum(Y6, 1)),
    "early_stopping partial_fit": lambda m: m.MLPRegressor(early_stopping=True)
    .partial_fit(X6, Y6.astype(float)),
    "validation too small": lambda m: m.MLPClassifier(early_stopping=True,
                                                      validation_fraction=0.01).fit(X6, Y6),
    "batch_size clipped": lambda m: m.MLPClassifier(batch_size=1000, max_iter=1).fit(X6, Y6),
    "column y": lambda m: m.MLPRegressor(max_iter=1).fit(X6, Y6[:, None].astype(float)),
    "max_iter": lambda m: m.MLPClassifier(max_iter=2).fit(X6, Y6),
    "lbfgs max_iter": lambda m: m.MLPRegressor(solver="lbfgs", max_iter=2).fit(X6, Y6),
    "n_features": lambda m: m.MLPClassifier(max_iter=1).fit(X6, Y6).predict(X6[:, :3]),
    "n_features partial_fit": lambda m: m.MLPClassifier().partial_fit(X6, Y6, classes=[0, 1, 2])
    .partial_fit(X6[:, :3], Y6),
    "unfitted": lambda m: m.MLPRegressor().predict(X6),
    "unfitted proba": lambda m: m.MLPClassifier().predict_proba(X6),
    "hidden_layer_sizes": lambda m: m.MLPClassifier(hidden_layer_sizes=(3, 0)).fit(X6, Y6),
    "bad parameter": lambda m: m.MLPRegressor(solver="newton").fit(X6, Y6),
    "lbfgs partial_fit": lambda m: m.MLPClassifier(solver="lbfgs").partial_fit,
    "regression target": lambda m: m.MLPClassifier(max_iter=1).fit(X6, np.linspace(0, 1, 60)),
    "nan": lambda m: m.MLPClassifier(max_iter=1).fit(np.where(X6 > 1, np.nan, X6), Y6),
    "sample_weight length": lambda m: m.MLPClassifier(max_iter=1).fit(X6, Y6,
                                                                      sample_weight=[1, 2]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_errors_and_warnings_are_sklearns(case):
    ours = outcome(cymlp, CASES[case])
    theirs = outcome(skn, CASES[case])
    assert ours[0] is not None or ours[1], "the case should raise or warn"
    if case == "bad parameter":  # the options of a set print in hash order
        assert ours[0][0] is theirs[0][0] is InvalidParameterError
        assert sorted(ours[0][1]) == sorted(theirs[0][1])
        return
    assert ours == theirs


def test_expected_exception_types():
    kinds = {
        "unfitted": NotFittedError, "lbfgs partial_fit": AttributeError,
        "column y": DataConversionWarning, "max_iter": ConvergenceWarning,
    }
    for case, kind in kinds.items():
        error, caught = outcome(cymlp, CASES[case])
        assert (error is not None and issubclass(error[0], kind)) or any(
            issubclass(c, kind) for c, _ in caught), case


@pytest.mark.parametrize("name", ["MLPClassifier", "MLPRegressor"])
def test_method_signatures_are_sklearns(name):
    import inspect

    ours, theirs = getattr(cymlp, name), getattr(skn, name)
    public = sorted(m for m in dir(theirs) if not m.startswith("_"))
    # cymlp's own: save, and set_callbacks where sklearn.callback is supported
    extra = {"save"} | ({"set_callbacks"} if cymlp._callbacks.AVAILABLE else set())
    assert sorted(m for m in dir(ours) if not m.startswith("_") and m not in extra) == public
    assert extra <= set(dir(ours))
    for m in public:
        if callable(getattr(theirs, m)):
            a = str(inspect.signature(getattr(theirs, m))).replace(theirs.__module__, "")
            b = str(inspect.signature(getattr(ours, m))).replace(ours.__module__, "")
            assert a == b, m
