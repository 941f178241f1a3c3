"""Bad input gets scikit-learn's clear error; unusual but valid input gives the
same model as a C-contiguous float array of the same values."""

import tracemalloc
import warnings

import joblib
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.exceptions import DataConversionWarning
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.neural_network import MLPRegressor as SkMLPRegressor

from _util import quiet, assert_same_model
from cymlp import MLPClassifier, MLPRegressor, _train

RNG = np.random.RandomState(0)
X = RNG.randn(30, 4)
Y = np.arange(30) % 3
YR = RNG.randn(30)
SMALL = dict(hidden_layer_sizes=(5,), max_iter=3, random_state=0)


def _with_nan(a, value=np.nan):
    a = np.array(a, dtype=float)
    a.flat[3] = value
    return a


PAIRS = {"clf": (MLPClassifier, SkMLPClassifier), "reg": (MLPRegressor, SkMLPRegressor)}


def _raise_like_sklearn(kind, call):
    """``call(Estimator)`` raises in cymlp exactly what it raises in sklearn."""
    ours, theirs = PAIRS[kind]
    with pytest.raises((ValueError, TypeError)) as sk_err:
        quiet(call, theirs)
    with pytest.raises((ValueError, TypeError)) as cy_err:
        quiet(call, ours)
    assert type(cy_err.value) is type(sk_err.value)
    assert str(cy_err.value) == str(sk_err.value)
    return cy_err.value


# ----------------------------------------------------------------------
# bad input: the same error as scikit-learn
# ----------------------------------------------------------------------
X3 = X.reshape(30, 2, 2)
XC = X.astype(complex)
XS = np.array([["a", "b", "c", "d"]] * 30)
FIT_CASES = {
    "nan X": (_with_nan(X), Y),
    "inf X": (_with_nan(X, np.inf), Y),
    "-inf X": (_with_nan(X, -np.inf), Y),
    "nan y": (X, _with_nan(Y)),
    "inf y": (X, _with_nan(Y, np.inf)),
    "empty X": (np.empty((0, 4)), np.empty(0)),
    "zero features": (np.empty((30, 0)), Y),
    "y of another length": (X, Y[:-1]),
    "X 1-D": (X[:, 0], Y),
    "X 3-D": (X3, Y),
    "y 3-D": (X, Y.reshape(30, 1, 1)),
    "complex X": (XC, Y),
    "string X": (XS, Y),
    "object X of strings": (XS.astype(object), Y),
    "sparse X with NaN": (sp.csr_matrix(_with_nan(X)), Y),
}


@pytest.mark.parametrize("kind", ["clf", "reg"])
@pytest.mark.parametrize("case", list(FIT_CASES))
def test_fit_rejects_like_sklearn(kind, case):
    Xb, yb = FIT_CASES[case]
    if kind == "reg":
        yb = np.asarray(yb, dtype=float)
    err = _raise_like_sklearn(kind, lambda E: E(**SMALL).fit(Xb, yb))
    assert str(err)  # names the problem


@pytest.mark.parametrize("case", ["nan X", "inf X", "complex X", "X 3-D", "string X",
                                  "y of another length"])
def test_partial_fit_rejects_like_sklearn(case):
    Xb, yb = FIT_CASES[case]
    _raise_like_sklearn("clf", lambda E: E(**SMALL).partial_fit(Xb, yb, classes=[0, 1, 2]))
    _raise_like_sklearn("reg", lambda E: E(**SMALL).partial_fit(Xb, np.asarray(yb, float)))


def test_complex_y_rejected_like_sklearn():
    _raise_like_sklearn("reg", lambda E: E(**SMALL).fit(X, YR.astype(complex)))


PREDICT_CASES = {
    "nan X": _with_nan(X),
    "inf X": _with_nan(X, np.inf),
    "empty X": np.empty((0, 4)),
    "zero features": np.empty((30, 0)),
    "fewer features": X[:, :3],
    "more features": np.hstack([X, X]),
    "X 1-D": X[:, 0],
    "X 3-D": X3,
    "complex X": XC,
    "string X": XS,
}


@pytest.fixture(scope="module")
def fitted():
    return {
        (kind, lib): quiet(E(**SMALL).fit, X, Y if kind == "clf" else YR)
        for kind, pair in PAIRS.items()
        for lib, E in zip(("cy", "sk"), pair)
    }


@pytest.mark.parametrize("method", ["predict", "predict_proba", "predict_log_proba",
                                    "score"])
@pytest.mark.parametrize("case", list(PREDICT_CASES))
@pytest.mark.parametrize("kind", ["clf", "reg"])
def test_predict_rejects_like_sklearn(fitted, kind, case, method):
    if kind == "reg" and "proba" in method:
        return
    Xb = PREDICT_CASES[case]

    def call(est):
        if method == "score":
            return est.score(Xb, (Y if kind == "clf" else YR)[: len(Xb)])
        return getattr(est, method)(Xb)

    with pytest.raises((ValueError, TypeError)) as sk_err:
        call(fitted[kind, "sk"])
    with pytest.raises((ValueError, TypeError)) as cy_err:
        call(fitted[kind, "cy"])
    assert type(cy_err.value) is type(sk_err.value)
    assert str(cy_err.value) == str(sk_err.value)


@pytest.mark.parametrize("kind", ["clf", "reg"])
def test_partial_fit_with_other_n_features(kind):
    y = Y if kind == "clf" else YR
    kw = {"classes": [0, 1, 2]} if kind == "clf" else {}
    _raise_like_sklearn(
        kind, lambda E: quiet(E(**SMALL).fit, X, y).partial_fit(X[:, :3], y, **kw))
    with pytest.raises(ValueError, match="X has 3 features, but .* expecting 4"):
        quiet(PAIRS[kind][0](**SMALL).partial_fit, X, y, **kw).partial_fit(
            X[:, :3], y, **kw)


def test_partial_fit_label_outside_classes():
    err = _raise_like_sklearn(
        "clf", lambda E: E(**SMALL).partial_fit(X, Y + 5, classes=[0, 1, 2]))
    assert "classes not in" in str(err)
    # and on a later call
    _raise_like_sklearn(
        "clf",
        lambda E: E(**SMALL).partial_fit(X, Y, classes=[0, 1, 2]).partial_fit(X, Y + 1),
    )


def test_partial_fit_classes_required_and_fixed():
    _raise_like_sklearn("clf", lambda E: E(**SMALL).partial_fit(X, Y))
    _raise_like_sklearn(
        "clf",
        lambda E: E(**SMALL).partial_fit(X, Y, classes=[0, 1, 2]).partial_fit(
            X, Y, classes=[0, 1, 2, 3]),
    )


def test_warm_start_with_other_classes():
    _raise_like_sklearn(
        "clf",
        lambda E: quiet(E(warm_start=True, **SMALL).fit, X, Y).fit(X, np.minimum(Y, 1)),
    )


@pytest.mark.parametrize("sizes", [(0,), (5, 0), (-1,), (5, -3)])
@pytest.mark.parametrize("kind", ["clf", "reg"])
def test_hidden_layer_sizes_not_positive(kind, sizes):
    y = Y if kind == "clf" else YR
    err = _raise_like_sklearn(kind, lambda E: E(hidden_layer_sizes=sizes).fit(X, y))
    assert "hidden_layer_sizes must be > 0" in str(err)


def test_non_numeric_strings_in_regression_y():
    # numeric strings convert (as LinearRegression's); others are a clear error
    with pytest.raises(ValueError, match="could not convert string to float"):
        MLPRegressor(**SMALL).fit(X, np.array(list("abcdefghijklmnopqrstuvwxyzABCD")))


# -- one class: a scikit-learn quirk kept for compatibility -------------------
@pytest.mark.parametrize("labels", [np.zeros(30), np.full(30, "spam"), np.ones(30, bool)])
def test_one_class_fits_as_sklearn(labels):
    # scikit-learn fits a constant model: classes_ of one label, predict returns
    # it, predict_proba has two columns
    for call in ["fit", "partial_fit"]:
        kw = dict(classes=labels[:1]) if call == "partial_fit" else {}
        ours = quiet(getattr(MLPClassifier(**SMALL), call), X, labels, **kw)
        theirs = quiet(getattr(SkMLPClassifier(**SMALL), call), X, labels, **kw)
        np.testing.assert_array_equal(ours.classes_, theirs.classes_)
        np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))
        assert ours.predict(X).dtype == theirs.predict(X).dtype
        np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), rtol=1e-10)
        assert ours.predict_proba(X).shape == (len(X), 2)
        np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-10)


def test_one_sample():
    # one sample is one class: fitted as scikit-learn does
    ours = quiet(MLPClassifier(**SMALL).fit, X[:1], Y[:1])
    theirs = quiet(SkMLPClassifier(**SMALL).fit, X[:1], Y[:1])
    np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), rtol=1e-10)
    # but partial_fit with all classes can, as can a regressor
    for solver in ["sgd", "adam", "lbfgs"]:
        ours = quiet(MLPRegressor(solver=solver, **SMALL).fit, X[:1], YR[:1])
        theirs = quiet(SkMLPRegressor(solver=solver, **SMALL).fit, X[:1], YR[:1])
        for a, b in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    ours = MLPClassifier(**SMALL).partial_fit(X[:1], Y[:1], classes=[0, 1, 2])
    theirs = SkMLPClassifier(**SMALL).partial_fit(X[:1], Y[:1], classes=[0, 1, 2])
    for a, b in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    assert ours.predict(X[:2]).shape == (2,)
    # early stopping needs a validation set: scikit-learn's error
    _raise_like_sklearn("reg", lambda E: E(early_stopping=True, **SMALL).fit(X[:1], YR[:1]))


@pytest.mark.parametrize("kind", ["clf", "reg"])
def test_batch_size_larger_than_data_warns_and_clips(kind):
    ours, theirs = PAIRS[kind]
    y = Y if kind == "clf" else YR
    kw = dict(solver="sgd", hidden_layer_sizes=(5,), max_iter=3, random_state=0)
    with pytest.warns(UserWarning, match="larger than sample size. It is going to be clipped") as rec:
        big = quiet(ours(batch_size=1000, **kw).fit, X, y)
    with pytest.warns(UserWarning) as sk_rec:
        quiet(theirs(batch_size=1000, **kw).fit, X, y)
    def msgs(r):
        return sorted(str(w.message) for w in r if w.category is UserWarning)

    assert msgs(rec) == msgs(sk_rec)
    assert_same_model(big, quiet(ours(batch_size=30, **kw).fit, X, y))


# -- the 32-bit BLAS limit: refused before any allocation or BLAS call -------
@pytest.mark.parametrize("sizes", [(2**31,), (2**31 - 1,), (2**16, 2**16), (5, 2**40)])
def test_network_beyond_32bit_blas_refused_before_allocating(sizes):
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match="32-bit"):
            MLPClassifier(hidden_layer_sizes=sizes).fit(X, Y)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 50 * 2**20


def test_sparse_X_with_2_to_31_features_refused():
    Xs = sp.csr_matrix((np.ones(3), ([0, 1, 2], [0, 5, 2**31 - 1])), shape=(30, 2**31))
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match="32-bit"):
            MLPClassifier(**SMALL).fit(Xs, Y)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 50 * 2**20


@pytest.fixture
def engine_forbidden(monkeypatch):
    """Any engine call fails the test."""
    def forbidden(*args, **kwargs):
        raise AssertionError("the engine was called")

    for name in ["train_epoch", "loss_and_gradient", "predict", "Workspace", "Network"]:
        monkeypatch.setattr(_train, name, forbidden)


@pytest.mark.parametrize("shape", [(30, 4), (8, 30)])
@pytest.mark.parametrize("solver", ["sgd", "lbfgs"])
def test_blas_limit_checked_before_the_engine(monkeypatch, shape, solver):
    """A cheap fake: lower the facade's limit to 25 and check that 30 rows or
    30 features are refused before the engine (and BLAS) is reached."""
    rng = np.random.RandomState(1)
    Xb, yb = rng.randn(*shape), np.arange(shape[0]) % 2
    est = MLPClassifier(solver=solver, **SMALL)
    monkeypatch.setattr(_train, "_INT32_MAX", 25)
    real = {name: getattr(_train, name) for name in ["train_epoch", "predict"]}
    calls = []
    for name, fn in real.items():
        monkeypatch.setattr(_train, name, lambda *a, _fn=fn, _n=name, **k: (
            calls.append(_n), _fn(*a, **k))[1])
    with pytest.raises(ValueError, match="32-bit"):
        est.fit(Xb, yb)
    assert calls == []
    monkeypatch.setattr(_train, "_INT32_MAX", 2**31 - 1)
    quiet(est.fit, Xb[:20, :20], yb[:20])
    monkeypatch.setattr(_train, "_INT32_MAX", 25)
    calls.clear()
    Xp = np.vstack([Xb[:20, :20]] * 4)  # 32 or 80 rows
    with pytest.raises(ValueError, match="32-bit"):
        est.predict(Xp)
    assert calls == []


def test_fake_limit_refuses_layers_before_the_engine(monkeypatch, engine_forbidden):
    # the layer-size limit is the engine module's own (_train.check_layer_units)
    monkeypatch.setattr(_train, "_INT32_MAX", 25)
    with pytest.raises(ValueError, match="32-bit"):
        MLPClassifier(hidden_layer_sizes=(7,)).fit(X[:20], Y[:20])  # a 4 x 7 matrix


# ----------------------------------------------------------------------
# unusual but valid input: the same model
# ----------------------------------------------------------------------
def _fit(kind, Xv, yv, solver="adam", **kw):
    E = MLPClassifier if kind == "clf" else MLPRegressor
    return quiet(E(solver=solver, batch_size=8, **SMALL, **kw).fit, Xv, yv)


def _layouts(tmp_path):
    """(name, array) pairs holding the values of X in unusual layouts."""
    wide = np.zeros((30, 12))
    wide[:, ::3] = X
    rev = X[::-1, ::-1].copy()[::-1, ::-1]
    ro = X.copy()
    ro.flags.writeable = False
    mm = np.memmap(tmp_path / "X.dat", dtype=np.float64, mode="w+", shape=X.shape)
    mm[:] = X
    mm.flush()
    joblib.dump(X, tmp_path / "X.joblib")
    return [
        ("fortran", np.asfortranarray(X)),
        ("strided", wide[:, ::3]),
        ("negative strides", rev),
        ("read-only", ro),
        ("np.memmap", np.memmap(tmp_path / "X.dat", dtype=np.float64, mode="r",
                                shape=X.shape)),
        ("joblib memmap", joblib.load(tmp_path / "X.joblib", mmap_mode="r")),
        ("big-endian", X.astype(">f8")),
        ("list", X.tolist()),
        ("DataFrame", pd.DataFrame(X)),
    ]


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
@pytest.mark.parametrize("kind", ["clf", "reg"])
def test_unusual_layouts_give_the_same_model(tmp_path, kind, solver):
    y = Y if kind == "clf" else YR
    ref = _fit(kind, X, y, solver)
    ref_out = ref.predict_proba(X) if kind == "clf" else ref.predict(X)
    for name, Xv in _layouts(tmp_path):
        est = _fit(kind, Xv, y, solver)
        assert_same_model(est, ref)
        out = est.predict_proba(Xv) if kind == "clf" else est.predict(Xv)
        np.testing.assert_array_equal(out, ref_out, err_msg=name)
        np.testing.assert_array_equal(est.predict(Xv), ref.predict(X), err_msg=name)
        np.testing.assert_array_equal(ref.predict(Xv), ref.predict(X), err_msg=name)
    # y in unusual layouts too
    ys = np.zeros(60, dtype=y.dtype)
    ys[::2] = y
    yro = y.copy()
    yro.flags.writeable = False
    for yv in [ys[::2], y[::-1].copy()[::-1], yro, y.astype(y.dtype.newbyteorder(">")),
               y.tolist(), pd.Series(y)]:
        assert_same_model(_fit(kind, X, yv, solver), ref)


def test_float32_layouts_stay_float32():
    X32 = X.astype(np.float32)
    ref = _fit("clf", X32, Y)
    assert ref.coefs_[0].dtype == np.float32
    for Xv in [np.asfortranarray(X32), X32[::-1].copy()[::-1], X32[:, [0, 1, 2, 3]]]:
        assert_same_model(_fit("clf", Xv, Y), ref)
    # big-endian float32 is not float32 to scikit-learn's validation: both
    # libraries train in float64 on its values
    be = _fit("clf", X.astype(">f4"), Y)
    sk = quiet(SkMLPClassifier(batch_size=8, **SMALL).fit, X.astype(">f4"), Y)
    assert be.coefs_[0].dtype == sk.coefs_[0].dtype == np.float64
    assert_same_model(be, _fit("clf", X32.astype(np.float64), Y))


@pytest.mark.parametrize("dtype", [np.int8, np.int32, np.int64, np.uint16, bool,
                                   np.float16])
def test_int_and_bool_X(dtype):
    Xi = (X * 3).astype(dtype)
    assert_same_model(_fit("clf", Xi, Y), _fit("clf", Xi.astype(np.float64), Y))
    # object arrays of numbers convert as scikit-learn does
    assert_same_model(_fit("clf", Xi.astype(object), Y),
                      _fit("clf", Xi.astype(np.float64), Y))


def test_sparse_layouts_give_the_same_model():
    Xs = X * (np.abs(X) > 0.5)
    ref = _fit("clf", sp.csr_matrix(Xs), Y, "sgd")
    for Xv in [sp.csc_matrix(Xs), sp.csr_matrix(Xs.astype(">f8").astype(float)),
               sp.csr_array(Xs), sp.csr_matrix(np.asfortranarray(Xs)), sp.coo_matrix(Xs)]:
        est = _fit("clf", Xv, Y, "sgd")
        assert_same_model(est, ref)
        np.testing.assert_array_equal(est.predict_proba(Xv), ref.predict_proba(sp.csr_matrix(Xs)))


@pytest.mark.parametrize("labels", [
    np.array([10, 20, 30]), np.array([-1.0, 0.0, 2.0]), np.array(["a", "b", "c"]),
    np.array(["ant", "bee", "cat"], dtype=object), np.array([0, 1, 2], dtype=np.uint8),
])
def test_label_types_give_the_same_model(labels):
    ref = _fit("clf", X, Y)
    y = labels[Y]
    for yv in [y, y.tolist(), pd.Series(y), pd.Series(y, dtype="category")]:
        est = _fit("clf", X, yv)
        assert_same_model(est, ref)
        np.testing.assert_array_equal(est.classes_, labels)
        np.testing.assert_array_equal(est.predict(X), labels[ref.predict(X)])


def test_bool_labels():
    yb = Y % 2 == 1
    ref = _fit("clf", X, (Y % 2).astype(int))
    est = _fit("clf", X, yb)
    assert_same_model(est, ref)
    assert est.predict(X).dtype == bool
    np.testing.assert_array_equal(est.predict(X), ref.predict(X).astype(bool))


def test_regression_targets():
    ref = _fit("reg", X, YR)
    for yv in [YR.tolist(), pd.Series(YR), YR.astype(">f8")]:
        assert_same_model(_fit("reg", X, yv), ref)
    with pytest.warns(DataConversionWarning, match="column-vector y"):  # as sklearn
        assert_same_model(_fit("reg", X, YR.reshape(-1, 1)), ref)
    yi = (YR * 5).astype(int)
    assert_same_model(_fit("reg", X, yi), _fit("reg", X, yi.astype(float)))
    # numeric strings convert, as for scikit-learn's other regressors
    assert_same_model(_fit("reg", X, yi.astype(str)), _fit("reg", X, yi.astype(float)))


# -- pandas: feature names, and scikit-learn's warnings -----------------------
@pytest.mark.parametrize("kind", ["clf", "reg"])
def test_dataframe_feature_names(kind):
    y = Y if kind == "clf" else YR
    cols = ["w", "x", "y", "z"]
    df = pd.DataFrame(X, columns=cols)
    est = _fit(kind, df, pd.Series(y))
    np.testing.assert_array_equal(est.feature_names_in_, cols)
    assert est.feature_names_in_.dtype == object
    assert_same_model(est, _fit(kind, X, y))
    # mixed column dtypes are converted to float64
    mixed = df.astype({"w": np.float32, "x": np.int64})
    assert_same_model(_fit(kind, mixed, y), _fit(kind, mixed.to_numpy(np.float64), y))

    sk = quiet((SkMLPClassifier if kind == "clf" else SkMLPRegressor)(**SMALL).fit, df, y)

    def messages(model, Xp):
        with warnings.catch_warnings(record=True) as rec:
            warnings.simplefilter("always")
            model.predict(Xp)
        return [str(w.message) for w in rec]

    # ndarray to a model fitted with names: sklearn's UserWarning
    assert messages(est, X) == messages(sk, X)
    assert any("does not have valid feature names" in m for m in messages(est, X))
    # DataFrame to a model fitted without names
    plain = _fit(kind, X, y)
    sk_plain = quiet((SkMLPClassifier if kind == "clf" else SkMLPRegressor)(**SMALL).fit, X, y)
    assert messages(plain, df) == messages(sk_plain, df)
    assert any("X has feature names" in m for m in messages(plain, df))
    with pytest.warns(UserWarning, match="X has feature names"):
        np.testing.assert_array_equal(plain.predict(df), plain.predict(X))
    # other names, or another order: sklearn's ValueError
    for other in [pd.DataFrame(X, columns=["a", "b", "c", "d"]), df[cols[::-1]]]:
        with pytest.raises(ValueError) as cy_err:
            est.predict(other)
        with pytest.raises(ValueError) as sk_err:
            sk.predict(other)
        assert str(cy_err.value) == str(sk_err.value)
