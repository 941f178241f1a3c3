"""partial_fit's lean path (``_partial_fit_plain``) and its fit context
(``partial_fit_context``) against the general path (``_fit``) and
scikit-learn's ``_fit_context``: the same models, records, errors and
warnings, and a failed call changes nothing."""

import pickle
import warnings

import numpy as np
import pytest
import sklearn
from sklearn.datasets import make_classification, make_regression
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.utils._param_validation import InvalidParameterError

import cymlp
from cymlp import _base, _scratch, _train


def _state(est):
    """Everything a partial_fit may change, comparable with ==."""
    d = dict(vars(est))
    out = {}
    for k, v in d.items():
        if k == "_optimizer":
            out[k] = {a: (b.tobytes() if isinstance(b, np.ndarray) else b)
                      for a, b in vars(v).items()}
        elif k == "_random_state":
            st = v.get_state()
            out[k] = (st[0], st[1].tobytes(), st[2:])
        elif isinstance(v, np.ndarray):
            out[k] = (v.dtype.str, v.shape, v.tobytes())
        elif k in ("coefs_", "intercepts_", "_best_coefs", "_best_intercepts"):
            out[k] = [a.tobytes() for a in v]
        elif k == "_label_binarizer":
            out[k] = pickle.dumps(v)
        else:
            out[k] = v
    return out


@pytest.fixture
def general(monkeypatch):
    """Switch the lean path off (every call takes _fit)."""
    def off(monkeypatch=monkeypatch):
        monkeypatch.setattr(_base.BaseMultilayerPerceptron, "_partial_fit_plain",
                            lambda self, X, y, classes=None: None)
    return off


def _spy(monkeypatch):
    calls = []
    real = _base.BaseMultilayerPerceptron._partial_fit_plain

    def spy(self, X, y, classes=None):
        try:
            out = real(self, X, y, classes)
        except BaseException:
            calls.append("raised")
            raise
        calls.append(out)
        return out
    monkeypatch.setattr(_base.BaseMultilayerPerceptron, "_partial_fit_plain", spy)
    return calls


CASES = [
    dict(solver="adam"),
    dict(solver="sgd", learning_rate="invscaling"),
    dict(solver="sgd", learning_rate="adaptive", n_iter_no_change=1, tol=10.0),
    dict(solver="sgd", learning_rate="constant", momentum=0.0),
    dict(solver="adam", shuffle=False),
    dict(solver="adam", batch_size=7),
]


def _stream(est, X, y, chunk, classes=None, passes=2):
    for _ in range(passes):
        for i in range(0, len(X), chunk):
            if classes is None:
                est.partial_fit(X[i:i + chunk], y[i:i + chunk])
            else:
                est.partial_fit(X[i:i + chunk], y[i:i + chunk], classes=classes)
    return est


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("params", CASES)
@pytest.mark.parametrize("kind", ["multiclass", "binary", "regressor"])
def test_lean_path_equals_the_general_path(kind, params, dtype, monkeypatch, general):
    if kind == "regressor":
        X, y = make_regression(300, 8, random_state=0)
        cls, classes = cymlp.MLPRegressor, None
    else:
        X, y = make_classification(300, 8, n_informative=5, n_classes=3 if kind == "multiclass"
                                   else 2, random_state=0)
        cls, classes = cymlp.MLPClassifier, np.unique(y)
    X = X.astype(dtype)
    make = lambda: cls(hidden_layer_sizes=(9,), random_state=0, **params)  # noqa: E731
    calls = _spy(monkeypatch)
    with warnings.catch_warnings(record=True) as w_lean:
        warnings.simplefilter("always")
        lean = _stream(make(), X, y, 40, classes)
    # every call but the first, which fits (partial_fit_context tries the
    # lean path on a fitted estimator only), takes the lean path
    assert calls == [True] * (2 * -(-len(X) // 40) - 1)
    general()
    with warnings.catch_warnings(record=True) as w_gen:
        warnings.simplefilter("always")
        ref = _stream(make(), X, y, 40, classes)
    assert _state(lean) == _state(ref)
    assert [(type(w.message), str(w.message)) for w in w_lean] == [
        (type(w.message), str(w.message)) for w in w_gen]


def test_random_state_none_and_classes_omitted(monkeypatch, general):
    X, y = make_classification(200, 6, random_state=1)
    calls = _spy(monkeypatch)
    np.random.seed(3)
    est = cymlp.MLPClassifier(hidden_layer_sizes=(5,), random_state=None)
    est.partial_fit(X[:50], y[:50], classes=[0, 1])
    for i in range(50, 200, 50):
        est.partial_fit(X[i:i + 50], y[i:i + 50])
    assert calls == [True] * 3  # the calls after the first
    general()
    np.random.seed(3)
    ref = cymlp.MLPClassifier(hidden_layer_sizes=(5,), random_state=None)
    ref.partial_fit(X[:50], y[:50], classes=[0, 1])
    for i in range(50, 200, 50):
        ref.partial_fit(X[i:i + 50], y[i:i + 50])
    assert _state(est) == _state(ref)


def _outcome(fn):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        try:
            fn()
        except Exception as e:  # noqa: BLE001
            return (type(e), str(e)), [(type(x.message), str(x.message)) for x in w]
    return None, [(type(x.message), str(x.message)) for x in w]


X0, y0 = make_classification(200, 6, n_informative=4, n_classes=3, random_state=2)
BAD = {
    "nan in X": lambda X, y: (np.where(np.arange(X.size).reshape(X.shape) == 7, np.nan, X), y),
    "inf in X": lambda X, y: (np.where(np.arange(X.size).reshape(X.shape) == 3, np.inf, X), y),
    "a new label": lambda X, y: (X, np.where(np.arange(len(y)) == 5, 9, y)),
    "a negative label": lambda X, y: (X, np.where(np.arange(len(y)) == 5, -1, y)),
    "labels of another dtype": lambda X, y: (X, y.astype(np.float64)),
    "another width": lambda X, y: (X[:, :5].copy(), y),
    "one row": lambda X, y: (X[:1].copy(), y[:1]),
    "huge values": lambda X, y: (X * 1e300, y),
    "a column y": lambda X, y: (X, y.reshape(-1, 1)),
}


@pytest.mark.parametrize("offset", [0, 1])
@pytest.mark.parametrize("case", sorted(BAD))
def test_fallbacks_and_failures_match_the_general_path(case, offset, general):
    # offset 0: labels 0, 1, 2 (classes_ a range: y's values are its columns);
    # offset 1: labels 1, 2, 3 (searched for)
    y = y0 + offset

    def run(est):
        Xb, yb = BAD[case](X0[50:100], y[50:100])
        return _outcome(lambda: est.partial_fit(Xb, yb, classes=np.unique(y)))

    def fitted():
        est = cymlp.MLPClassifier(hidden_layer_sizes=(7,), random_state=0,
                                  learning_rate_init=0.01)
        est.partial_fit(X0[:50], y[:50], classes=np.unique(y))
        return est

    lean = fitted()
    before = _state(lean)
    out_lean = run(lean)
    after_lean = _state(lean)
    general()
    ref = fitted()
    out_ref = run(ref)
    assert out_lean == out_ref
    assert after_lean == _state(ref)
    if out_lean[0] is not None:
        assert after_lean == before  # a failed call changes nothing


def test_finiteness_test_is_exact_and_gives_no_warning_of_its_own():
    for dtype in (np.float32, np.float64):
        for big in (np.finfo(dtype).max, np.inf, -np.inf, np.nan):
            a = np.full((50, 40), big, dtype=dtype)   # squares and sums overflow
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                assert _base._all_finite(a) is bool(np.isfinite(big))
        for n in (1, 7, 8, 9, 31, 33, 2001):          # SIMD bodies and tails
            for where in sorted({0, n // 2, n - 1}):
                for bad in (np.nan, np.inf, -np.inf):
                    a = np.ones(n, dtype=dtype)
                    a[where] = bad
                    assert _base._all_finite(a) is False, (dtype, n, where, bad)
                    a.flags.writeable = False         # e.g. a memory map
                    assert _base._all_finite(a) is False
            assert _base._all_finite(np.ones(n, dtype=dtype)) is True
        assert _base._all_finite(np.ones((0, 3), dtype=dtype)) is True


def test_non_finite_weights_restore_everything(monkeypatch):
    X, y = make_regression(100, 4, random_state=0)
    est = cymlp.MLPRegressor(hidden_layer_sizes=(4,), random_state=0, solver="sgd",
                             learning_rate_init=1e308, momentum=0.0, batch_size=100)
    est.partial_fit(X[:, :4] * 0, y * 0)  # no update: the weights stay finite
    before = _state(est)
    calls = _spy(monkeypatch)
    with pytest.raises(ValueError, match="non-finite parameter weights"):
        est.partial_fit(X * 1e10, y * 1e10)
    assert calls == ["raised"]  # from within the lean path
    assert _state(est) == before


def test_warning_as_error_restores_everything(monkeypatch):
    """A warning raised as an error from within training (here the
    interruption's) leaves the model as it was, on the lean path."""
    X, y = make_classification(120, 5, random_state=0)
    est = cymlp.MLPClassifier(hidden_layer_sizes=(4,), random_state=0)
    est.partial_fit(X[:60], y[:60], classes=[0, 1])
    before = _state(est)
    calls = _spy(monkeypatch)
    from cymlp import _solvers

    real = _solvers._train.train_epoch

    def interrupted(*args, **kwargs):
        real(*args, **kwargs)
        raise KeyboardInterrupt
    monkeypatch.setattr(_solvers._train, "train_epoch", interrupted)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(UserWarning, match="Training interrupted by user"):
            est.partial_fit(X[60:], y[60:])
    assert calls == ["raised"]  # from within the lean path
    assert _state(est) == before


def test_subclass_overriding_training_takes_the_general_path():
    class Sub(cymlp.MLPClassifier):
        def _validate_input(self, X, y, incremental, reset):
            return super()._validate_input(X, y, incremental, reset)

    assert Sub._trains_plainly()[0] is False
    assert cymlp.MLPClassifier._trains_plainly() == (True, True)
    assert cymlp.MLPRegressor._trains_plainly() == (True, False)


# ----------------------------------------------------------------------
# partial_fit_context: scikit-learn 1.9's _fit_context, cheaper
# ----------------------------------------------------------------------
needs_19 = pytest.mark.skipif(not sklearn.__version__.startswith("1.9."),
                              reason="the cheap context is for scikit-learn 1.9")


@needs_19
def test_cheap_context_is_in_use():
    assert _base._THREADLOCAL_CONFIG is not None


@pytest.mark.parametrize("cls", [cymlp.MLPClassifier, SkMLPClassifier])
def test_parameters_validated_on_the_first_call_only(cls):
    X, y = make_classification(60, 4, random_state=0)
    with pytest.raises(InvalidParameterError):
        cls(alpha=-1.0).partial_fit(X, y, classes=[0, 1])
    est = cls(hidden_layer_sizes=(3,), random_state=0).partial_fit(X, y, classes=[0, 1])
    est.set_params(alpha=-1.0)  # not validated again on a fitted estimator
    est.partial_fit(X, y)
    with sklearn.config_context(skip_parameter_validation=True):
        cls(alpha=-1.0, hidden_layer_sizes=(3,)).partial_fit(X, y, classes=[0, 1])


@pytest.mark.parametrize("fail", [False, True])
def test_nested_validation_skipped_inside_and_config_restored(fail, monkeypatch):
    X, y = make_classification(60, 4, random_state=0)
    est = cymlp.MLPClassifier(hidden_layer_sizes=(3,), random_state=0)
    est.partial_fit(X, y, classes=[0, 1])
    seen = []
    real = _scratch.Scratch.seeded

    def spy(self, seed, current):
        seen.append(sklearn.get_config())
        if fail:
            raise RuntimeError("boom")
        return real(self, seed, current)
    monkeypatch.setattr(_scratch.Scratch, "seeded", spy)
    outer = sklearn.get_config()
    with sklearn.config_context(working_memory=77):
        expected = sklearn.get_config()
        if fail:
            with pytest.raises(RuntimeError):
                est.partial_fit(X, y)
        else:
            est.partial_fit(X, y)
        assert sklearn.get_config() == expected
    assert sklearn.get_config() == outer
    assert seen and seen[0]["skip_parameter_validation"] is True
    assert seen[0]["working_memory"] == 77


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("row", [0, 24, 49])
def test_x_checked_by_the_engine_gather_gives_scikit_learns_error(bad, row, monkeypatch):
    """With shuffling and an integer seed, X's NaN / infinity test is the
    engine's, as it gathers the rows: the error is still validate_data's, the
    model unchanged; with random_state=None X is tested before training (the
    global RandomState is not drawn from)."""
    seen = []
    real = _train.train_epoch
    monkeypatch.setattr(_train, "train_epoch",
                        lambda *a, **k: seen.append(a[12] if len(a) > 12 else None)
                        or real(*a, **k))
    for seed in (0, None):
        est = cymlp.MLPClassifier(hidden_layer_sizes=(7,), random_state=seed)
        est.partial_fit(X0[:50], y0[:50], classes=np.unique(y0))
        before = _state(est)
        Xb = X0[50:100].copy()
        Xb[row, 3] = bad
        seen.clear()
        rng_before = np.random.get_state()[1].copy()
        with pytest.raises(ValueError) as err:
            est.partial_fit(Xb, y0[50:100])
        with pytest.raises(ValueError) as ref:
            SkMLPClassifier(hidden_layer_sizes=(7,)).partial_fit(
                Xb, y0[50:100], classes=np.unique(y0))
        assert str(err.value) == str(ref.value)
        assert _state(est) == before
        np.testing.assert_array_equal(np.random.get_state()[1], rng_before)
        assert seen == ([True] if seed is not None else []), seen


@pytest.mark.parametrize("label_dtype", [np.int32, np.int64])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_classes", [2, 3, 10])
def test_engine_one_hot_is_label_binarizers(label_dtype, dtype, n_classes):
    # the lean path's targets: LabelBinarizer's rows (binary: one column), as floats
    from sklearn.preprocessing import LabelBinarizer

    y = np.random.RandomState(n_classes).randint(0, n_classes, 57).astype(label_dtype)
    y[:n_classes] = np.arange(n_classes)
    out = np.full((57, 1 if n_classes == 2 else n_classes), 7.0, dtype=dtype)
    assert _train.one_hot(y, n_classes, out) is True
    expected = LabelBinarizer().fit(np.arange(n_classes)).transform(y).astype(dtype)
    assert out.tobytes() == expected.tobytes()
    for bad in (-1, n_classes):
        y[30] = bad
        assert _train.one_hot(y, n_classes, out) is False
    with pytest.raises(ValueError, match="does not match"):
        _train.one_hot(y, n_classes, np.empty((56, out.shape[1]), dtype=dtype))


def test_engine_copy_into_copies_each_pair():
    src = [np.arange(5, dtype=np.float32), np.arange(3.0), np.empty(0)]
    dst = [np.zeros(5, np.float32), np.zeros(3), np.empty(0)]
    _train.copy_into(src, dst)
    assert all(a.tobytes() == b.tobytes() for a, b in zip(src, dst))
    with pytest.raises(ValueError, match="dtype or shape"):
        _train.copy_into([np.ones(3)], [np.zeros(3, np.float32)])
    with pytest.raises(ValueError, match="as many"):
        _train.copy_into([np.ones(3)], [])


@pytest.mark.parametrize("kind", [float, np.float32, np.float64])
def test_adam_rate_is_scikit_learns_expression(kind):
    # math.sqrt for Python floats, NumPy's promotions kept for NumPy scalars
    from cymlp._solvers import _Optimizer, _adam_rate

    opt = _Optimizer("adam", 3, np.float64, kind(1e-3), "constant", 0.9, True, 0.5,
                     kind(0.9), kind(0.999), 1e-8)
    for t in (1, 2, 7, 1000, 123456):
        opt.t = t
        expected = float(opt.learning_rate_init * np.sqrt(1 - opt.beta_2**t)
                         / (1 - opt.beta_1**t))
        assert _adam_rate(opt) == expected


def test_max_iter_set_to_zero_after_fit_trains_nothing_on_both_paths(monkeypatch, general):
    # partial_fit on a fitted model validates no parameter: max_iter=0 runs no epoch
    X, y = make_classification(120, 5, random_state=0)

    def run():
        est = cymlp.MLPClassifier(hidden_layer_sizes=(4,), random_state=0)
        est.partial_fit(X[:60], y[:60], classes=[0, 1])
        est.max_iter = 0
        est.partial_fit(X[60:], y[60:])
        return est
    lean = run()
    general()
    ref = run()
    assert _state(lean) == _state(ref)
    assert lean.n_iter_ == 0


def test_a_class_defining_an_attribute_the_lean_path_reads_takes_the_general_path(
        monkeypatch):
    # the lean path reads verbose, random_state... from the instance's dict; a
    # class that defines one of those names (here a class-level default) gets _fit
    class WithDefault(cymlp.MLPClassifier):
        _skl_callbacks = None

    X, y = make_classification(120, 5, random_state=0)
    calls = _spy(monkeypatch)
    est = WithDefault(hidden_layer_sizes=(4,), random_state=0)
    ref = cymlp.MLPClassifier(hidden_layer_sizes=(4,), random_state=0)
    classes = np.array([0, 1])
    for i in range(0, 120, 40):
        est.partial_fit(X[i:i + 40], y[i:i + 40], classes=classes)
        ref.partial_fit(X[i:i + 40], y[i:i + 40], classes=classes)
    assert WithDefault._trains_plainly()[0] is False
    assert calls == [None, True, None, True]  # the later calls of est and ref, in turn
    assert [c.tobytes() for c in est.coefs_] == [c.tobytes() for c in ref.coefs_]
