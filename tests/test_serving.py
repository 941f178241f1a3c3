"""Prediction at serving speed: the fast path for a plain X gives exactly what
scikit-learn's validated path gives (results, errors, warnings), the fitted
state's Serving (engine Network, Predictor, label decoding) is rebuilt whenever
the state changes, threads share it safely, and a memory-mapped model predicts
in place and still trains."""

import copy
import gc
import pickle
import re
import threading
import tracemalloc
import warnings

import joblib
import numpy as np
import pytest
import scipy.sparse as sp
import sklearn
from sklearn.neural_network import MLPClassifier as SkClassifier
from sklearn.neural_network import MLPRegressor as SkRegressor

import cymlp
from _util import quiet
from cymlp import MLPClassifier, MLPRegressor, _base, _state

RNG = np.random.RandomState(0)
X = RNG.uniform(-1, 1, (60, 5))
Y_MULTI = np.arange(60) % 3
Y_BIN = (X[:, 0] > 0).astype(int)
Y_LABEL = np.c_[X[:, 0] > 0, X[:, 1] > 0, X[:, 2] > 0.3].astype(int)
Y_REG = X @ RNG.uniform(size=5)
Y_REG2 = np.c_[Y_REG, X[:, 1] ** 2]
WIDE = np.random.RandomState(3).uniform(-1, 1, (60, 200))  # ~100k parameters at (512,)

LABELS = {
    "int": np.array([3, -1, 7]),
    "str": np.array(["b", "a", "c"]),
    "float": np.array([1.0, -2.0, 10.0]),  # integral: a classifier refuses continuous y
    "bool": np.array([True, False, True]),
}


def _fit(est, X, y):
    return quiet(est.fit, X, y)


def _twin(est):
    """scikit-learn's estimator predicting with est's very weights."""
    Sk = SkClassifier if isinstance(est, MLPClassifier) else SkRegressor
    # class_weight is cymlp's own (None here); scikit-learn's MLP has no such parameter
    params = {k: v for k, v in est.get_params().items() if k != "class_weight"}
    sk = _fit(Sk(**params), *_fit_data(est))
    sk.coefs_ = [c.copy() for c in est.coefs_]
    sk.intercepts_ = [b.copy() for b in est.intercepts_]
    return sk


def _fit_data(est):
    return est._test_fit_data


def _model(kind, dtype=np.float64, X_fit=X, **kw):
    y = {"multiclass": Y_MULTI, "binary": Y_BIN, "multilabel": Y_LABEL,
         "reg": Y_REG, "reg2": Y_REG2, "poisson": np.abs(Y_REG)}[kind]
    Est = MLPClassifier if kind in ("multiclass", "binary", "multilabel") else MLPRegressor
    if kind == "poisson":
        kw["loss"] = "poisson"
    est = _fit(Est(hidden_layer_sizes=(7, 4), max_iter=30, random_state=0, **kw),
               X_fit.astype(dtype) if isinstance(X_fit, np.ndarray) else X_fit, y)
    est._test_fit_data = (X_fit, y)
    return est


class _Spy:
    """Counts validate_data calls of cymlp's prediction (the validated path)."""

    def __init__(self, monkeypatch):
        self.calls = 0
        real = _base.validate_data

        def spy(*a, **k):
            self.calls += 1
            return real(*a, **k)

        monkeypatch.setattr(_base, "validate_data", spy)


def _methods(est):
    return ["predict", "predict_proba"] if isinstance(est, MLPClassifier) else ["predict"]


KINDS = ["multiclass", "binary", "multilabel", "reg", "reg2", "poisson"]


# ----------------------------------------------------------------------
# the fast path and the validated path agree
# ----------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kind", KINDS)
def test_fast_path_equals_validated_path(kind, dtype, monkeypatch):
    est = _model(kind, dtype)
    Xd = X.astype(dtype)
    spy = _Spy(monkeypatch)
    for method in _methods(est):
        f = getattr(est, method)
        validated = f(np.asfortranarray(Xd))          # builds the Serving
        assert spy.calls == 1
        fast = f(Xd)
        assert spy.calls == 1, "a plain X must take the fast path"
        from_list = f(Xd.tolist()) if dtype == np.float64 else validated
        for other in (validated, from_list):
            assert type(fast) is type(other)
            assert fast.dtype == other.dtype and fast.shape == other.shape
            np.testing.assert_array_equal(fast, other)
        for n in (1, 2, 33):
            np.testing.assert_array_equal(f(Xd[:n]), validated[:n])
        spy.calls = 0


@pytest.mark.parametrize("kind", KINDS)
def test_fast_path_equals_scikit_learn(kind):
    est = _model(kind)
    sk = _twin(est)
    for method in _methods(est):
        got, want = getattr(est, method)(X), getattr(sk, method)(X)
        assert got.dtype == want.dtype and got.shape == want.shape
        if method == "predict" and isinstance(est, MLPClassifier):
            np.testing.assert_array_equal(got, want)
        else:
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


# ----------------------------------------------------------------------
# label decoding: inverse_transform's labels without its overhead
# ----------------------------------------------------------------------
@pytest.mark.parametrize("label", list(LABELS))
@pytest.mark.parametrize("target", ["binary", "multiclass"])
def test_decoding_equals_inverse_transform(label, target):
    classes = LABELS[label] if target == "multiclass" else LABELS[label][:2]
    if label == "bool" and target == "multiclass":
        pytest.skip("bool labels have two classes")
    y = classes[(np.arange(60) + (X[:, 0] > 0)) % len(classes)]
    est = _fit(MLPClassifier(hidden_layer_sizes=(6,), max_iter=20, random_state=0), X, y)
    lb = est._label_binarizer
    proba = est.predict_proba(X)
    raw = proba[:, 1] if target == "binary" else proba
    want = lb.inverse_transform(raw)
    got = est.predict(X)
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_array_equal(got, want)
    # ties, NaN, infinities, exact thresholds: the same decisions
    s = _state.serving(est)
    assert s.decode is not None
    k = est.n_outputs_
    odd = np.array([[0.5] * k, [np.nan] * k, [np.inf] * k, [-np.inf] * k, [0.0] * k,
                    [0.25] + [0.75] * (k - 1), [np.nan] + [1.0] * (k - 1)])
    for dtype in (np.float64, np.float32):
        o = odd.astype(dtype)
        inv = lb.inverse_transform(o.ravel() if k == 1 else o)
        dec = est._decode(s, o)
        assert dec.dtype == inv.dtype and dec.shape == inv.shape
        np.testing.assert_array_equal(dec, inv)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_multilabel_decoding_equals_inverse_transform(dtype):
    est = _model("multilabel", dtype)
    lb = est._label_binarizer
    proba = est.predict_proba(X.astype(dtype))
    want = lb.inverse_transform(proba)
    got = est.predict(X.astype(dtype))
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_array_equal(got, want)
    odd = np.array([[0.5, np.nan, np.inf], [-np.inf, 0.0, 0.5000001]], dtype=dtype)
    s = _state.serving(est)
    np.testing.assert_array_equal(est._decode(s, odd), lb.inverse_transform(odd))
    assert est._decode(s, odd).dtype == lb.inverse_transform(odd).dtype


def test_sparse_fitted_labels_keep_inverse_transform():
    Ys = sp.csr_matrix(Y_LABEL)
    est = _fit(MLPClassifier(hidden_layer_sizes=(6,), max_iter=20, random_state=0), X, Ys)
    sk = _fit(SkClassifier(hidden_layer_sizes=(6,), max_iter=20, random_state=0), X, Ys)
    sk.coefs_, sk.intercepts_ = est.coefs_, est.intercepts_
    got, want = est.predict(X), sk.predict(X)
    assert type(got) is type(want)
    np.testing.assert_array_equal(got.toarray(), want.toarray())


# ----------------------------------------------------------------------
# errors and warnings: scikit-learn's, on the fast path's edges
# ----------------------------------------------------------------------
def _outcome(f, X_in):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        try:
            result = ("ok", f(X_in))
        except Exception as e:  # noqa: BLE001 - compared with scikit-learn's
            result = ("error", type(e), str(e))
    # NumPy's floating-point warnings from scikit-learn's own matmul on a
    # non-finite X under assume_finite=True are not validation: the engine's
    # products raise none (as before this fast path; see the README)
    return result, [(x.category, str(x.message)) for x in w
                    if not (x.category is RuntimeWarning and "encountered in" in str(x.message))]


def _inputs():
    pd = pytest.importorskip("pandas")
    Xc = X[:4].copy()
    nan, inf = Xc.copy(), Xc.copy()
    nan[2, 3] = np.nan
    inf[1, 0] = -np.inf
    big = Xc.astype(">f8")
    return {
        "float64": Xc, "float32": Xc.astype(np.float32), "fortran": np.asfortranarray(Xc),
        "strided": X[:8:2], "readonly": np.frombuffer(Xc.tobytes()).reshape(Xc.shape),
        "list": Xc.tolist(), "int": (Xc * 10).astype(int), "float16": Xc.astype(np.float16),
        "bool": Xc > 0, "object": Xc.astype(object), "strings": Xc.astype(str).astype(object),
        "complex": Xc.astype(complex), "big-endian": big, "nan": nan, "inf": inf,
        "nan float32": nan.astype(np.float32), "nan list": nan.tolist(),
        "wide": np.c_[Xc, Xc[:, :1]], "narrow": Xc[:, :4].copy(), "1-D": Xc[0],
        "3-D": Xc[None], "empty": Xc[:0], "no columns": np.empty((3, 0)),
        "scalar": 1.0, "csr": sp.csr_matrix(Xc), "csc": sp.csc_matrix(Xc),
        "coo": sp.coo_matrix(Xc), "csr nan": sp.csr_matrix(nan),
        "matrix": np.asmatrix(Xc),
        "DataFrame": pd.DataFrame(Xc, columns=[f"f{i}" for i in range(5)]),
        "DataFrame int names": pd.DataFrame(Xc),
        "DataFrame reordered": pd.DataFrame(Xc, columns=[f"f{i}" for i in range(5)])[
            ["f1", "f0", "f2", "f3", "f4"]],
        "DataFrame nan": pd.DataFrame(nan, columns=[f"f{i}" for i in range(5)]),
        "Series": pd.Series(Xc[0]),
    }


def _compare_with_scikit_learn(est, sk, assume_finite=False, skip=()):
    inputs = {k: v for k, v in _inputs().items() if not any(w in k for w in skip)}
    for method in _methods(est):
        for name, X_in in inputs.items():
            with sklearn.config_context(assume_finite=assume_finite):
                want, want_w = _outcome(getattr(sk, method), X_in)
                # twice: the first call may build the Serving, the second is the fast path
                for _ in range(2):
                    got, got_w = _outcome(getattr(est, method), X_in)
                    where = f"{method}({name})"
                    assert got_w == want_w, where
                    assert got[0] == want[0], (where, got, want)
                    if want[0] == "error":
                        assert got[1:] == want[1:], where
                        with pytest.raises(want[1], match="^" + re.escape(want[2]) + "$"):
                            with warnings.catch_warnings():
                                warnings.simplefilter("ignore")
                                getattr(est, method)(X_in)
                    else:
                        a, b = got[1], want[1]
                        assert a.dtype == b.dtype and a.shape == b.shape, where
                        np.testing.assert_allclose(a, b, rtol=1e-6 if a.dtype.kind == "f"
                                                   and a.dtype.itemsize == 4 else 1e-12,
                                                   atol=1e-7, err_msg=where)


@pytest.mark.parametrize("kind", ["multiclass", "binary", "multilabel", "reg", "reg2"])
def test_errors_and_warnings_as_scikit_learn_fitted_without_names(kind):
    est = _model(kind)
    _compare_with_scikit_learn(est, _twin(est))


@pytest.mark.parametrize("kind", ["multiclass", "reg"])
def test_errors_and_warnings_as_scikit_learn_fitted_with_names(kind):
    pd = pytest.importorskip("pandas")
    est = _model(kind, X_fit=pd.DataFrame(X, columns=[f"f{i}" for i in range(5)]))
    assert hasattr(est, "feature_names_in_")
    _compare_with_scikit_learn(est, _twin(est))


def test_errors_and_warnings_as_scikit_learn_under_assume_finite():
    est = _model("multiclass")
    _compare_with_scikit_learn(est, _twin(est), assume_finite=True, skip=("nan", "inf"))
    # what NaN / infinity give unchecked is the engine's arithmetic (its ReLU
    # of NaN, on this branch): the fast path gives what the validated one does
    with sklearn.config_context(assume_finite=True):
        for name in ("nan", "inf", "nan float32"):
            X_in = _inputs()[name]
            for method in _methods(est):
                f = getattr(est, method)
                np.testing.assert_array_equal(f(X_in), f(np.asfortranarray(X_in)))
                np.testing.assert_array_equal(f(X_in), f(X_in.tolist()))


def test_float32_model_as_scikit_learn():
    est = _model("multiclass", np.float32)
    sk = _twin(est)  # float32 weights: scikit-learn computes as NumPy does
    for method in _methods(est):
        for X_in in (X.astype(np.float32), X, X.astype(np.float16)):
            got, want = getattr(est, method)(X_in), getattr(sk, method)(X_in)
            assert got.dtype == want.dtype
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_not_fitted_as_scikit_learn():
    for Est, Sk in ((MLPClassifier, SkClassifier), (MLPRegressor, SkRegressor)):
        for method in ("predict", "predict_proba"):
            if not hasattr(Sk(), method):
                continue
            with pytest.raises(Exception) as want:
                getattr(Sk(), method)(X)
            with pytest.raises(type(want.value), match=re.escape(str(want.value))):
                getattr(Est(), method)(X)


def test_subclass_overriding_prediction_keeps_its_code():
    calls = []

    class Mine(MLPClassifier):
        def _forward_pass_fast(self, X, check_input=True):
            calls.append(1)
            return super()._forward_pass_fast(X, check_input)

    est = _fit(Mine(hidden_layer_sizes=(5,), max_iter=5, random_state=0), X, Y_MULTI)
    est.predict(X)
    est.predict(X)
    est.predict_proba(X)
    assert len(calls) == 3

    class Plain(MLPClassifier):
        pass

    est = _fit(Plain(hidden_layer_sizes=(5,), max_iter=5, random_state=0), X, Y_MULTI)
    est.predict(X)
    assert _state.current_serving(est).plain


# ----------------------------------------------------------------------
# the Serving: built once per fitted state, rebuilt when it changes
# ----------------------------------------------------------------------
def _fresh(est):
    """est's predictions from a copy without any cached state."""
    return pickle.loads(pickle.dumps(est))


def _assert_current(est):
    ref = _fresh(est)
    for method in _methods(est):
        np.testing.assert_array_equal(getattr(est, method)(X), getattr(ref, method)(X))


def test_serving_built_once_per_state():
    est = _model("multiclass")
    est.predict(X)
    s = _state.current_serving(est)
    assert s is not None
    for _ in range(3):
        est.predict(X[:1])
        est.predict_proba(X)
        est.predict(X.tolist())
        est.score(X, Y_MULTI)
    assert _state.current_serving(est) is s


def test_serving_follows_every_change_of_the_fitted_state():
    est = _model("multiclass")
    est.predict(X)
    s0 = _state.current_serving(est)
    # partial_fit trains the buffer in place: seen at once, same Serving
    before = est.predict_proba(X)
    quiet(est.partial_fit, X, Y_MULTI)
    assert not np.array_equal(est.predict_proba(X), before)
    _assert_current(est)
    assert _state.current_serving(est) is s0
    # refit: a new buffer
    quiet(est.fit, X[::-1], Y_MULTI)
    _assert_current(est)
    assert _state.current_serving(est) is not s0
    # set_params that matters
    est.set_params(activation="tanh")
    _assert_current(est)
    est.set_params(activation="logistic")
    _assert_current(est)
    # new arrays for coefs_ / intercepts_, whole lists or one element
    est.coefs_ = [c * 1.5 for c in est.coefs_]
    _assert_current(est)
    est.intercepts_[-1] = est.intercepts_[-1] + 1.0
    _assert_current(est)
    est.coefs_[0] = np.asfortranarray(est.coefs_[0] * -1)
    _assert_current(est)
    # a float32 refit
    quiet(est.fit, X.astype(np.float32), Y_MULTI)
    _assert_current(est)
    assert est.predict_proba(X.astype(np.float32)).dtype == np.float32
    # warm start continues in place
    est.set_params(warm_start=True)
    quiet(est.fit, X.astype(np.float32), Y_MULTI)
    _assert_current(est)


def test_serving_follows_out_activation_and_failed_fits():
    est = _model("reg")
    est.predict(X)
    est.out_activation_ = "exp"
    np.testing.assert_allclose(est.predict(X), _fresh(est).predict(X))
    want = est.predict(X)
    with pytest.raises(ValueError):
        est.set_params(warm_start=True)
        est.fit(X[:, :3], Y_REG)       # wrong width: restored as it was
    np.testing.assert_array_equal(est.predict(X), want)


def test_copies_pickles_and_loads_have_their_own(tmp_path):
    est = _model("binary")
    est.predict(X)
    for other in (copy.copy(est), copy.deepcopy(est), _fresh(est)):
        np.testing.assert_array_equal(other.predict(X), est.predict(X))
    est.save(tmp_path / "m.cymlp")
    loaded = cymlp.load(tmp_path / "m.cymlp")
    np.testing.assert_array_equal(loaded.predict_proba(X), est.predict_proba(X))


def test_predict_changes_nothing_the_estimator_shows():
    est = _model("multiclass")
    d = dict(vars(est))
    est.predict(X)
    est.predict_proba(X[:1])
    assert vars(est).keys() == d.keys()
    assert all(vars(est)[k] is v for k, v in d.items())
    pickle.dumps(est)  # nothing unpicklable cached on it


def test_cached_state_goes_with_the_estimator():
    est = _model("multiclass")
    est.predict(X)
    i = id(est)
    assert i in _state._SERVING
    del est
    gc.collect()
    assert i not in _state._SERVING


# ----------------------------------------------------------------------
# threads
# ----------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["multiclass", "reg2"])
def test_eight_threads_predict_on_one_model(kind):
    est = _model(kind)
    big = np.random.RandomState(1).uniform(-1, 1, (3000, 5))
    batches = [big[:1], big[:7], big[:300], big, np.asfortranarray(big[:50])]
    want = [[getattr(_fresh(est), m)(b) for b in batches] for m in _methods(est)]
    start = threading.Barrier(8)
    errors = []

    def work(seed):
        try:
            start.wait()  # all at once, the first calls racing to build the Serving
            order = np.random.RandomState(seed).permutation(40) % len(batches)
            for j in order:
                for mi, m in enumerate(_methods(est)):
                    got = getattr(est, m)(batches[j])
                    np.testing.assert_array_equal(got, want[mi][j])
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(s,)) for s in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[0]


# ----------------------------------------------------------------------
# memory-mapped models
# ----------------------------------------------------------------------
def _mmap_model(tmp_path, est):
    path = tmp_path / "model.joblib"
    joblib.dump(est, path)
    return joblib.load(path, mmap_mode="r"), path


def _is_readonly_memmap(a):
    """a is a view of a file's read-only memory map."""
    while a is not None and not (isinstance(a, np.memmap) and a._mmap is not None):
        a = a.base
    return a is not None and not a.flags.writeable


def test_memmapped_model_predicts_in_place(tmp_path):
    est = _fit(MLPClassifier(hidden_layer_sizes=(512,), max_iter=2, random_state=0),
               WIDE, Y_MULTI)
    m, _ = _mmap_model(tmp_path, est)
    params = m._params
    assert _is_readonly_memmap(params) and not params.flags.writeable
    for method in ("predict", "predict_proba"):
        for X_in in (WIDE[:1], WIDE, WIDE[:3].tolist()):
            np.testing.assert_array_equal(getattr(m, method)(X_in), getattr(est, method)(X_in))
    # no copy of the parameters: not at the first call, nor on any path
    m2, _ = _mmap_model(tmp_path, est)
    tracemalloc.start()
    try:
        for X_in in (WIDE[:1], WIDE[:2].tolist(), sp.csr_matrix(WIDE[:2])):
            m2.predict_proba(X_in)
            m2.predict(X_in)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < m2._params.nbytes / 4, (peak, m2._params.nbytes)
    assert m2._params is m2.__dict__["_params"] and _is_readonly_memmap(m2._params)
    assert not m2._params.flags.writeable
    assert all(_is_readonly_memmap(c) for c in m2.coefs_)


@pytest.mark.parametrize("how", ["partial_fit", "warm_fit", "fit"])
def test_memmapped_model_still_trains(tmp_path, how):
    est = _fit(MLPClassifier(hidden_layer_sizes=(8,), max_iter=3, random_state=0),
               X, Y_MULTI)
    m, path = _mmap_model(tmp_path, est)
    ref = _fresh(est)
    stored = np.array(m._params)
    for model in (m, ref):
        if how == "partial_fit":
            quiet(model.partial_fit, X, Y_MULTI)
        else:
            model.set_params(warm_start=how == "warm_fit")
            quiet(model.fit, X, Y_MULTI)
    assert m._params.flags.writeable and not _is_readonly_memmap(m._params)
    np.testing.assert_array_equal(m._params, ref._params)
    np.testing.assert_array_equal(m.predict_proba(X), ref.predict_proba(X))
    # the file is untouched
    np.testing.assert_array_equal(joblib.load(path)._params, stored)


def test_memmapped_model_failed_partial_fit_is_undone(tmp_path):
    est = _fit(MLPClassifier(hidden_layer_sizes=(8,), max_iter=3, random_state=0),
               X, Y_MULTI)
    m, _ = _mmap_model(tmp_path, est)
    params = m._params
    with pytest.raises(ValueError):
        m.partial_fit(X[:, :4], Y_MULTI)
    assert m._params is params and _is_readonly_memmap(m._params)
    np.testing.assert_array_equal(m.predict(X), est.predict(X))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_cymlp_load_mmap_predicts_in_place_and_trains(tmp_path, dtype):
    est = _fit(MLPClassifier(hidden_layer_sizes=(512,), max_iter=2, random_state=0),
               WIDE.astype(dtype), Y_MULTI)
    path = tmp_path / "m.cymlp"
    est.save(path)
    stored = path.read_bytes()
    m = cymlp.load(path, mmap_mode="r")
    assert _is_readonly_memmap(m._params) and m._params.dtype == dtype
    assert all(_is_readonly_memmap(c) for c in m.coefs_ + m.intercepts_)
    np.testing.assert_array_equal(m._params, est._params)
    tracemalloc.start()
    try:
        # (float64 X, a list's included, makes a float32 model compute in
        # float64, as NumPy does: that takes a float64 copy of the parameters)
        for X_in in (WIDE[:1].astype(dtype), np.asfortranarray(WIDE[:2].astype(dtype))):
            np.testing.assert_array_equal(m.predict_proba(X_in), est.predict_proba(X_in))
            np.testing.assert_array_equal(m.predict(X_in), est.predict(X_in))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < m._params.nbytes / 4, (peak, m._params.nbytes)
    assert _is_readonly_memmap(m._params)
    # training takes a private copy, and continues exactly as from a plain load
    ref = cymlp.load(path)
    for model in (m, ref):
        quiet(model.partial_fit, WIDE.astype(dtype), Y_MULTI)
    assert not _is_readonly_memmap(m._params) and m._params.flags.writeable
    np.testing.assert_array_equal(m._params, ref._params)
    np.testing.assert_array_equal(m._optimizer.state1, ref._optimizer.state1)
    assert path.read_bytes() == stored


def test_cymlp_load_mmap_mode_refusals(tmp_path):
    est = _model("binary")
    path = tmp_path / "m.cymlp"
    est.save(path)
    with pytest.raises(ValueError, match="mmap_mode must be None or 'r'"):
        cymlp.load(path, mmap_mode="r+")
    with open(path, "rb") as f:
        with pytest.raises(ValueError, match="needs a file name"):
            cymlp.load(f, mmap_mode="r")
        np.testing.assert_array_equal(cymlp.load(f).predict(X), est.predict(X))
