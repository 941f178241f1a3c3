"""X's NaN / infinity check: scikit-learn's errors, and predict's check in the engine.

scikit-learn scans all of X for non-finite values before fitting or
predicting. cymlp's fit and partial_fit validate X up front as it does;
predict lets the engine check the chunks it reads instead. These tests hold
both to scikit-learn's behaviour: the same error and message wherever the
bad value is, the same priority over every other error, no warning before
it, the fitted model and a passed RandomState left as they were, and, in
predict, that the engine, not a separate pass, did the checking.
"""

import copy
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.neural_network import MLPRegressor as SkMLPRegressor

from _util import quiet, assert_same_state
from cymlp import MLPClassifier, MLPRegressor, _base, _train

PAIRS = {"clf": (MLPClassifier, SkMLPClassifier), "reg": (MLPRegressor, SkMLPRegressor)}
RNG = np.random.RandomState(0)
N = 2500            # predict reads 1024-row chunks: rows in the first, middle and last
X = RNG.randn(N, 6)
YC = np.arange(N) % 3
YR = RNG.randn(N)
SMALL = dict(hidden_layer_sizes=(5,), max_iter=2, random_state=0, batch_size=64)
ROWS = {"first row": 0, "middle row": N // 2, "last row": N - 1}
VALUES = {"nan": np.nan, "inf": np.inf, "-inf": -np.inf}


def _y(kind):
    return YC if kind == "clf" else YR


def _bad(row, value, dtype=np.float64, col=3):
    a = X.astype(dtype)
    a[row, col] = value
    return a


def _same_error(kind, call):
    """``call(Estimator)`` raises the same error, with the same message, in
    cymlp and in scikit-learn, and cymlp warns nothing first."""
    ours, theirs = PAIRS[kind]
    with pytest.raises((ValueError, TypeError)) as sk_err:
        quiet(call, theirs)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        with pytest.raises((ValueError, TypeError)) as cy_err:
            call(ours)
    assert type(cy_err.value) is type(sk_err.value)
    assert str(cy_err.value) == str(sk_err.value)
    assert [str(w.message) for w in rec] == []
    return cy_err.value


@pytest.fixture
def count_sklearn_checks(monkeypatch):
    """Counts the facade's own calls of scikit-learn's finiteness check."""
    calls = []
    real = _base.assert_all_finite

    def counted(*args, **kwargs):
        calls.append(args[0].shape)
        return real(*args, **kwargs)

    monkeypatch.setattr(_base, "assert_all_finite", counted)
    return calls


# ----------------------------------------------------------------------
# the same error as scikit-learn, wherever the value is
# ----------------------------------------------------------------------
SOLVERS = {
    "adam": dict(solver="adam"),
    "sgd": dict(solver="sgd"),
    "sgd, no shuffle": dict(solver="sgd", shuffle=False),
    "early stopping": dict(solver="sgd", early_stopping=True),
    "lbfgs": dict(solver="lbfgs"),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("value", list(VALUES))
@pytest.mark.parametrize("row", list(ROWS))
@pytest.mark.parametrize("kind", ["clf", "reg"])
def test_fit_reports_sklearns_error(kind, row, value, dtype):
    Xb = _bad(ROWS[row], VALUES[value], dtype)
    _same_error(kind, lambda E: E(**SMALL).fit(Xb, _y(kind)))


@pytest.mark.parametrize("solver", list(SOLVERS))
@pytest.mark.parametrize("kind", ["clf", "reg"])
def test_fit_reports_sklearns_error_for_every_solver(kind, solver):
    Xb = _bad(ROWS["middle row"], np.nan)
    _same_error(kind, lambda E: E(**SMALL, **SOLVERS[solver]).fit(Xb, _y(kind)))


@pytest.mark.parametrize("row", list(ROWS))
def test_partial_fit_reports_sklearns_error(row):
    Xb = _bad(ROWS[row], np.inf, np.float32)
    _same_error("clf", lambda E: E(**SMALL).partial_fit(Xb, YC, classes=[0, 1, 2]))
    _same_error("reg", lambda E: E(**SMALL).partial_fit(Xb, YR))


@pytest.mark.parametrize("method", ["predict", "predict_proba", "score"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("value", list(VALUES))
@pytest.mark.parametrize("row", list(ROWS))
@pytest.mark.parametrize("kind", ["clf", "reg"])
def test_predict_reports_sklearns_error(kind, row, value, dtype, method):
    if kind == "reg" and method == "predict_proba":
        return
    fitted = {E: quiet(E(**SMALL).fit, X, _y(kind)) for E in PAIRS[kind]}
    Xb = _bad(ROWS[row], VALUES[value], dtype)

    def call(E):
        if method == "score":
            return fitted[E].score(Xb, _y(kind))
        return getattr(fitted[E], method)(Xb)

    _same_error(kind, call)


# ----------------------------------------------------------------------
# X's error comes first, as scikit-learn checks X before anything else
# ----------------------------------------------------------------------
PRIORITY = {
    "continuous y": lambda E, Xb: E(**SMALL).fit(Xb, YR + 0.5),
    "y with NaN": lambda E, Xb: E(**SMALL).fit(Xb, np.where(YC == 0, np.nan, YC)),
    "y of another length": lambda E, Xb: E(**SMALL).fit(Xb, YC[:-1]),
    "one class": lambda E, Xb: E(**SMALL).fit(Xb, np.zeros(N)),
    "bad sample_weight": lambda E, Xb: E(**SMALL).fit(Xb, YC, sample_weight=np.ones(3)),
    "partial_fit label outside classes":
        lambda E, Xb: E(**SMALL).partial_fit(Xb, YC + 5, classes=[0, 1, 2]),
}


@pytest.mark.parametrize("case", list(PRIORITY))
def test_x_error_comes_before_other_errors(case):
    Xb = _bad(ROWS["last row"], np.nan)
    err = _same_error("clf", lambda E: PRIORITY[case](E, Xb))
    assert "Input X contains NaN" in str(err)


def test_x_error_before_poisson_y_check():
    # y < 0 with poisson is cymlp's own error (see the README); X's comes first
    Xb = _bad(ROWS["last row"], np.inf)
    with pytest.raises(ValueError, match="Input X contains infinity"):
        MLPRegressor(loss="poisson", **SMALL).fit(Xb, YR)


def test_no_warning_before_x_error():
    Xb = _bad(ROWS["last row"], np.nan)
    # a column y (DataConversionWarning) and a clipped batch (UserWarning)
    _same_error("clf", lambda E: E(**SMALL).fit(Xb, YC.reshape(-1, 1)))
    _same_error("clf", lambda E: E(**dict(SMALL, batch_size=10**6)).fit(Xb, YC))


def test_divergence_before_the_bad_row_reports_x():
    # every row overflows the first minibatch's loss; the epoch stops before it
    # reaches the NaN row, and X's error still wins, as in scikit-learn
    Xb = np.full((N, 6), 1e200)
    Xb[N - 1, 0] = np.nan
    kw = dict(SMALL, solver="sgd", batch_size=1)
    _same_error("clf", lambda E: E(**kw).fit(Xb, YC))


def test_warm_start_in_another_dtype_checks_before_the_cast():
    # float32 model, float64 X: X is checked as given (1e300 is finite), and a
    # NaN is still scikit-learn's error
    est = quiet(MLPClassifier(warm_start=True, **SMALL).fit, X.astype(np.float32), YC)
    with pytest.raises(ValueError, match="Input X contains NaN"):
        est.fit(_bad(ROWS["middle row"], np.nan), YC)


# ----------------------------------------------------------------------
# a failed call leaves everything as it was
# ----------------------------------------------------------------------
@pytest.mark.parametrize("row", list(ROWS))
@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_failed_call_leaves_model_and_random_state(method, row):
    rs = np.random.RandomState(7)
    est = quiet(MLPClassifier(**dict(SMALL, random_state=rs, warm_start=True)).fit, X, YC)
    before = copy.deepcopy(est.__dict__)
    rs_state = rs.get_state()
    Xb = _bad(ROWS[row], np.nan)
    with pytest.raises(ValueError, match="Input X contains NaN"):
        getattr(est, method)(Xb, YC)
    after = MLPClassifier(**est.get_params())
    after.__dict__.update(before)
    assert_same_state(est, after)
    np.testing.assert_array_equal(rs.get_state()[1], rs_state[1])
    assert rs.get_state()[2] == rs_state[2]


# ----------------------------------------------------------------------
# predict: the engine did the checking (no separate pass)
# ----------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["clf", "reg"])
def test_clean_predict_makes_no_separate_pass(kind, count_sklearn_checks):
    est = quiet(PAIRS[kind][0](**SMALL).fit, X, _y(kind))
    est.predict(X)
    assert count_sklearn_checks == []


@pytest.mark.parametrize("kind", ["clf", "reg"])
def test_bad_x_found_by_the_engine_then_reported(kind, count_sklearn_checks):
    est = quiet(PAIRS[kind][0](**SMALL).fit, X, _y(kind))
    with pytest.raises(ValueError, match="Input X contains NaN"):
        est.predict(_bad(ROWS["middle row"], np.nan))
    # one check, after the engine stopped on the value
    assert count_sklearn_checks == [(N, 6)]


def test_sparse_x_is_checked_by_sklearn():
    Xs = sp.csr_matrix(_bad(ROWS["middle row"], np.nan))
    _same_error("clf", lambda E: E(**SMALL).fit(Xs, YC))
    fitted = quiet(MLPClassifier(**SMALL).fit, X, YC)
    with pytest.raises(ValueError, match="Input X contains NaN"):
        fitted.predict(Xs)


@pytest.mark.parametrize("kind", ["clf", "reg"])
def test_assume_finite_checks_nothing(kind, count_sklearn_checks):
    # set_config(assume_finite=True): scikit-learn skips its check, so does the
    # engine; the NaN then reaches the loss (cymlp's divergence error)
    from sklearn import config_context

    Xb = _bad(ROWS["middle row"], np.nan)
    fitted = quiet(PAIRS[kind][0](**SMALL).fit, X, _y(kind))
    with config_context(assume_finite=True):
        with pytest.raises(ValueError, match="Solver produced non-finite parameter weights"):
            PAIRS[kind][0](**dict(SMALL, solver="sgd")).fit(Xb, _y(kind))
        out = fitted.predict(Xb)            # no error, as scikit-learn's predict
        sk = quiet(PAIRS[kind][1](**SMALL).fit, X, _y(kind)).predict(Xb)
        assert out.shape == sk.shape
    assert count_sklearn_checks == []


def test_large_finite_values_are_not_an_error():
    # float32 values whose sum overflows: scikit-learn falls back to an
    # element-wise test and accepts them; so does the engine's check
    fitted = {E: quiet(E(**SMALL).fit, X, YC) for E in PAIRS["clf"]}
    Xb = np.full((N, 6), 3e38, dtype=np.float32)
    for est in fitted.values():
        with np.errstate(all="ignore"):
            est.predict_proba(Xb)


# ----------------------------------------------------------------------
# the engine entry points
# ----------------------------------------------------------------------
def _engine_setup(dtype, n=N):
    net = _train.Network([6, 5, 3], "relu", "log_loss", "softmax")
    ws = _train.Workspace(net, 64, dtype, True)
    params = np.random.RandomState(0).uniform(-0.3, 0.3, net.n_params).astype(dtype)
    Y = np.eye(3, dtype=dtype)[YC[:n]]
    return net, ws, params, Y


def _epoch(net, ws, Xd, Y, params, order, check_x):
    return _train.train_epoch(net, ws, Xd, Y, None, order, params, np.empty_like(params),
                              np.empty(0, params.dtype), np.empty(0, params.dtype),
                              _train.StepRule("sgd", 0.1, alpha=0.0), 0, check_x)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("value", list(VALUES))
@pytest.mark.parametrize("row", list(ROWS))
def test_train_epoch_check_x(dtype, value, row):
    net, ws, params, Y = _engine_setup(dtype)
    order = np.random.RandomState(1).permutation(N).astype(np.intp)
    clean = X.astype(dtype)
    a, b = params.copy(), params.copy()
    _epoch(net, ws, clean, Y, a, order, False)
    _epoch(net, ws, clean, Y, b, order, True)
    np.testing.assert_array_equal(a, b)       # the checking copy copies exactly
    with pytest.raises(ValueError, match="X contains NaN or infinity"):
        _epoch(net, ws, _bad(ROWS[row], VALUES[value], dtype), Y, params.copy(), order, True)
    with pytest.raises(ValueError, match="check_x needs a dense X read in a given order"):
        _epoch(net, ws, clean, Y, params.copy(), None, True)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("row", list(ROWS))
def test_predict_check_x(dtype, row):
    net, _, params, _ = _engine_setup(dtype)
    out = np.empty((N, 3), dtype)
    _train.predict(net, X.astype(dtype), params, out, 1024, True)
    with pytest.raises(ValueError, match="X contains NaN or infinity"):
        _train.predict(net, _bad(ROWS[row], np.inf, dtype), params, out, 1024, True)
    # every column of every row is looked at, not only a sample of them
    for col in range(6):
        with pytest.raises(ValueError):
            _train.predict(net, _bad(ROWS[row], np.nan, dtype, col), params, out, 1024, True)
