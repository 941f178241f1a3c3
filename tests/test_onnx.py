"""ONNX export (cymlp.onnx): onnxruntime's outputs against predict and predict_proba.

Every kind of model cymlp fits is exported as a float32 and as a float64 graph,
alone and behind a StandardScaler in a Pipeline, from a model fitted on float64
and on float32 X (cymlp then keeps float32 parameters). Labels must equal
``predict``'s exactly; probabilities and values agree at a tolerance set by the
less precise of the model's dtype and the graph's (a float32 model in a float64
graph is compared as float32). Poisson outputs are compared relatively. The
model predicts from the graph's input itself (X cast to the graph's dtype):
a float32 graph's input is X rounded to float32, and that rounding (up to
6e-6 on the feature around 100 in the Pipeline's data, 10 float32 eps once
scaled) is the data's, not the export's.

Labels could only differ on a row whose probability is within rounding of the
decision threshold (0.5, or a tie between the two largest probabilities):
``_assert_clear_margin`` checks that no row of the test data is, so that a
change of data or model cannot make the label comparison flaky silently.
"""

import warnings

import numpy as np
import pytest

pytest.importorskip("onnx")
skl2onnx = pytest.importorskip("skl2onnx")
ort = pytest.importorskip("onnxruntime")

from sklearn.exceptions import ConvergenceWarning, NotFittedError  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

import cymlp.onnx  # noqa: E402
from cymlp import MLPClassifier, MLPRegressor  # noqa: E402

N_ROWS = 150
MARGIN = 1e-4  # no row of the test data is closer than this to a decision threshold


def _data():
    rng = np.random.RandomState(0)
    X = rng.randn(N_ROWS, 5)
    score = X[:, 0] + 0.7 * X[:, 1] - 0.5 * X[:, 2] ** 2
    return X, score


def _targets():
    X, score = _data()
    two = (score > 0).astype(int)
    three = np.digitize(score, [-0.6, 0.4])
    return {
        "binary": (two * 4 + 3, "relu", "classifier"),                  # labels 3, 7
        "multiclass": (three - 1, "tanh", "classifier"),                # -1, 0, 1
        "int8": ((three * 5).astype(np.int8), "relu", "classifier"),
        "uint64": (three.astype(np.uint64) + np.uint64(2**63), "relu", "classifier"),
        "string": (np.array(["cat", "dog", "emu"])[three], "logistic", "classifier"),
        "binary_string": (np.array(["no", "yes"])[two], "identity", "classifier"),
        "float": (np.array([-1.0, 2.0, 10.0])[three], "relu", "classifier"),
        "float32": (np.array([0.0, 4.0], dtype=np.float32)[two], "tanh", "classifier"),
        "float16": (np.array([1.0, 2.0, 3.0], dtype=np.float16)[three], "relu",
                    "classifier"),
        "bool": (two.astype(bool), "logistic", "classifier"),
        "multilabel": (np.c_[two, three == 1, X[:, 3] > 0.2].astype(int), "relu",
                       "classifier"),
        "squared_error": (score, "tanh", "regressor"),
        "squared_error_3": (np.c_[score, X[:, 3] * 2, -X[:, 4]], "relu", "regressor"),
        "poisson": (np.exp(0.5 * score), "tanh", "poisson"),
        "poisson_2": (np.c_[np.exp(0.5 * score), np.exp(X[:, 3])], "relu", "poisson"),
    }


CLASSIFIER_KINDS = [k for k, (_, _, what) in _targets().items() if what == "classifier"]
REGRESSOR_KINDS = [k for k, (_, _, what) in _targets().items() if what != "classifier"]
ALL_KINDS = CLASSIFIER_KINDS + REGRESSOR_KINDS

_FITTED = {}


def _fitted(kind, fit_dtype, pipeline):
    """The model of ``kind`` fitted once on X (of ``fit_dtype``), and that X."""
    key = (kind, np.dtype(fit_dtype).name, pipeline)
    if key not in _FITTED:
        X, _ = _data()
        y, activation, what = _targets()[kind]
        if pipeline:
            X = X * [1.0, 3.0, 0.5, 10.0, 2.0] + [5.0, -2.0, 0.0, 100.0, 1.0]
        params = dict(hidden_layer_sizes=(12, 7), activation=activation, solver="lbfgs",
                      max_iter=100, random_state=0)
        if what == "classifier":
            est = MLPClassifier(**params)
        else:
            est = MLPRegressor(loss="poisson" if what == "poisson" else "squared_error",
                               **params)
        model = make_pipeline(StandardScaler(), est) if pipeline else est
        X = X.astype(fit_dtype)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X, y)
        _FITTED[key] = model, X
    return _FITTED[key]


def _final(model):
    return model[-1] if hasattr(model, "steps") else model


def _model_dtype(model):
    return _final(model).coefs_[0].dtype


def _rtol(model, graph_dtype):
    """Tolerance set by the less precise of the model's dtype and the graph's."""
    precise = np.dtype(graph_dtype) == np.float64 and _model_dtype(model) == np.float64
    dtype = np.float64 if precise else np.float32
    return 64 * np.finfo(dtype).eps


def _run(onx, X, graph_dtype):
    so = ort.SessionOptions()
    so.intra_op_num_threads = so.inter_op_num_threads = 1
    sess = ort.InferenceSession(onx.SerializeToString(), so, providers=["CPUExecutionProvider"])
    outputs = sess.run(None, {sess.get_inputs()[0].name: np.asarray(X, dtype=graph_dtype)})
    return {o.name: value for o, value in zip(sess.get_outputs(), outputs)}


def _no_zipmap(model):
    return {id(_final(model)): {"zipmap": False}}


def _assert_clear_margin(model, X):
    """No row's probabilities within MARGIN of predict's decision threshold."""
    proba = model.predict_proba(X)
    est = _final(model)
    if est.out_activation_ == "softmax":
        top2 = np.sort(proba, axis=1)[:, -2:]
        margin = top2[:, 1] - top2[:, 0]
    elif est.n_outputs_ == 1:
        margin = np.abs(proba[:, 1] - 0.5)
    else:
        margin = np.abs(proba - 0.5)
    assert margin.min() > MARGIN, margin.min()
    # and the data are not trivial: every label is predicted somewhere
    if est.n_outputs_ == 1 or est.out_activation_ == "softmax":
        assert set(np.unique(model.predict(X))) == set(est.classes_)


def _assert_labels_equal(got, want):
    want = np.asarray(want)
    assert got.shape == want.shape
    assert np.array_equal(got, want), (got[got != want][:5], want[got != want][:5])
    if want.dtype.kind in "US":
        assert got.dtype == object and all(isinstance(v, str) for v in got.ravel())
    elif want.dtype.kind == "f":
        assert got.dtype == want.dtype  # float labels keep their float type
    elif want.dtype.kind == "b":
        assert got.dtype == np.bool_
    elif want.dtype == np.uint64 and want.max() > np.iinfo(np.int64).max:
        assert got.dtype == np.uint64
    else:
        assert got.dtype == np.int64


@pytest.mark.parametrize("pipeline", [False, True], ids=["alone", "pipeline"])
@pytest.mark.parametrize("graph_dtype", [np.float32, np.float64], ids=["graph32", "graph64"])
@pytest.mark.parametrize("fit_dtype", [np.float64, np.float32], ids=["fit64", "fit32"])
@pytest.mark.parametrize("kind", CLASSIFIER_KINDS)
def test_classifier_matches_predict(kind, fit_dtype, graph_dtype, pipeline):
    model, X = _fitted(kind, fit_dtype, pipeline)
    X = X.astype(graph_dtype)  # the graph's input, and predict's (see the module's docstring)
    assert _model_dtype(model) == fit_dtype
    _assert_clear_margin(model, X)
    onx = cymlp.onnx.to_onnx(model, X[:1].astype(graph_dtype), options=_no_zipmap(model))
    out = _run(onx, X, graph_dtype)
    assert list(out) == ["label", "probabilities"]
    _assert_labels_equal(out["label"], model.predict(X))
    proba = out["probabilities"]
    assert proba.dtype == graph_dtype
    want = model.predict_proba(X)
    assert proba.shape == want.shape
    tol = _rtol(model, graph_dtype)
    np.testing.assert_allclose(proba, want, rtol=tol, atol=tol)


@pytest.mark.parametrize("pipeline", [False, True], ids=["alone", "pipeline"])
@pytest.mark.parametrize("graph_dtype", [np.float32, np.float64], ids=["graph32", "graph64"])
@pytest.mark.parametrize("fit_dtype", [np.float64, np.float32], ids=["fit64", "fit32"])
@pytest.mark.parametrize("kind", REGRESSOR_KINDS)
def test_regressor_matches_predict(kind, fit_dtype, graph_dtype, pipeline):
    model, X = _fitted(kind, fit_dtype, pipeline)
    X = X.astype(graph_dtype)  # the graph's input, and predict's (see the module's docstring)
    assert _model_dtype(model) == fit_dtype
    onx = cymlp.onnx.to_onnx(model, X[:1].astype(graph_dtype))
    out = _run(onx, X, graph_dtype)
    assert list(out) == ["variable"]
    got = out["variable"]
    assert got.dtype == graph_dtype
    want = model.predict(X)
    n_outputs = _final(model).n_outputs_
    assert got.shape == (len(X), n_outputs)  # (n, 1) for one output, as skl2onnx
    want = want.reshape(len(X), n_outputs)
    tol = _rtol(model, graph_dtype)
    if _final(model).loss == "poisson":
        np.testing.assert_allclose(got, want, rtol=tol, atol=0)
    else:
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol * np.abs(want).max())


@pytest.mark.parametrize("graph_dtype", [np.float32, np.float64], ids=["graph32", "graph64"])
@pytest.mark.parametrize("activation", ["identity", "logistic", "tanh", "relu"])
@pytest.mark.parametrize("hidden", [(), (9,), (10, 8, 6)], ids=["no_hidden", "1", "3"])
def test_every_activation_and_depth(activation, hidden, graph_dtype):
    X, score = _data()
    three = np.digitize(score, [-0.6, 0.4])
    params = dict(hidden_layer_sizes=hidden, activation=activation, solver="lbfgs",
                  max_iter=200, random_state=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = MLPClassifier(**params).fit(X, three)
        reg = MLPRegressor(**params).fit(X, score)
    X = X.astype(graph_dtype)  # the graph's input, and predict's
    tol = _rtol(clf, graph_dtype)
    out = _run(cymlp.onnx.to_onnx(clf, X[:1].astype(graph_dtype), options=_no_zipmap(clf)),
               X, graph_dtype)
    _assert_clear_margin(clf, X)
    _assert_labels_equal(out["label"], clf.predict(X))
    np.testing.assert_allclose(out["probabilities"], clf.predict_proba(X), rtol=tol, atol=tol)
    out = _run(cymlp.onnx.to_onnx(reg, X[:1].astype(graph_dtype)), X, graph_dtype)
    want = reg.predict(X)
    np.testing.assert_allclose(out["variable"].ravel(), want, rtol=tol,
                               atol=tol * np.abs(want).max())


def _zipmap_key(est, label):
    """skl2onnx's ZipMap key of a class label: int64 (floats, bools too) or str."""
    if np.asarray(est.classes_).dtype.kind in "US":
        return str(label)
    return int(label)


@pytest.mark.parametrize("graph_dtype", [np.float32, np.float64], ids=["graph32", "graph64"])
@pytest.mark.parametrize("kind", [k for k in CLASSIFIER_KINDS if k != "uint64"])
def test_zipmap(kind, graph_dtype):
    """The default ZipMap: a list of {class: probability} dicts, float32 (ZipMap's
    only type; a float64 graph casts its probabilities for it), and the label."""
    model, X = _fitted(kind, np.float64, False)
    X = X.astype(graph_dtype)  # the graph's input, and predict's (see the module's docstring)
    onx = skl2onnx.to_onnx(model, X[:1].astype(graph_dtype))  # default options
    out = _run(onx, X, graph_dtype)
    assert list(out) == ["output_label", "output_probability"]
    _assert_labels_equal(out["output_label"], model.predict(X))
    keys = [_zipmap_key(model, c) for c in model.classes_]
    want = model.predict_proba(X)
    rows = out["output_probability"]
    assert len(rows) == len(X)
    assert all(list(row) == keys for row in rows)
    got = np.array([[row[k] for k in keys] for row in rows])
    tol = _rtol(model, np.float32)
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


def test_zipmap_refused_for_labels_beyond_int64():
    model, X = _fitted("uint64", np.float64, False)
    with pytest.raises(ValueError, match="beyond int64"):
        cymlp.onnx.to_onnx(model, X[:1])


@pytest.mark.parametrize("graph_dtype", [np.float32, np.float64], ids=["graph32", "graph64"])
@pytest.mark.parametrize("kind", CLASSIFIER_KINDS)
def test_zipmap_columns(kind, graph_dtype):
    """zipmap='columns': the label, then one probability column per class."""
    model, X = _fitted(kind, np.float64, False)
    X = X.astype(graph_dtype)  # the graph's input, and predict's (see the module's docstring)
    onx = cymlp.onnx.to_onnx(model, X[:1].astype(graph_dtype),
                             options={id(model): {"zipmap": "columns"}})
    out = _run(onx, X, graph_dtype)
    names = list(out)
    assert names[0] == "output_label"
    _assert_labels_equal(out["output_label"], model.predict(X))
    if model.classes_.dtype.kind in "iub":  # skl2onnx's column names
        assert names[1:] == ["i%d" % c for c in model.classes_]
    else:
        assert names[1:] == ["s%s" % c for c in model.classes_]
    got = np.column_stack([out[name] for name in names[1:]])
    assert got.dtype == graph_dtype
    tol = _rtol(model, graph_dtype)
    np.testing.assert_allclose(got, model.predict_proba(X), rtol=tol, atol=tol)


@pytest.mark.parametrize("kind", CLASSIFIER_KINDS)
def test_output_class_labels_and_nocl(kind):
    model, X = _fitted(kind, np.float64, False)
    onx = cymlp.onnx.to_onnx(model, X[:1], options={
        id(model): {"zipmap": False, "output_class_labels": True}})
    out = _run(onx, X, np.float64)
    assert list(out) == ["label", "probabilities", "class_labels"]
    _assert_labels_equal(out["class_labels"], model.classes_)
    _assert_labels_equal(out["label"], model.predict(X))

    # nocl: the label is the index of the class in classes_
    onx = cymlp.onnx.to_onnx(model, X[:1], options={id(model): {"zipmap": False,
                                                                 "nocl": True}})
    out = _run(onx, X, np.float64)
    pred = model.predict(X)
    if kind == "multilabel":  # classes_ is already 0 .. n_labels - 1
        want = pred
    else:
        want = np.searchsorted(model.classes_, pred)
    assert out["label"].dtype == np.int64
    np.testing.assert_array_equal(out["label"], want)


def test_skl2onnx_entry_points_after_import():
    """Importing cymlp.onnx is enough for skl2onnx's own to_onnx and convert_sklearn."""
    from skl2onnx.common.data_types import FloatTensorType

    model, X = _fitted("string", np.float64, True)
    onx = skl2onnx.convert_sklearn(model, initial_types=[("X", FloatTensorType([None, 5]))],
                                   options=_no_zipmap(model))
    out = _run(onx, X, np.float32)
    _assert_labels_equal(out["label"], model.predict(X))
    onx = skl2onnx.to_onnx(model, X[:1], options=_no_zipmap(model))
    _assert_labels_equal(_run(onx, X, np.float64)["label"], model.predict(X))
    # options keyed by class, as skl2onnx allows
    onx = skl2onnx.to_onnx(model, X[:1], options={MLPClassifier: {"zipmap": False}})
    assert [o.name for o in onx.graph.output] == ["label", "probabilities"]


def test_import_without_skl2onnx_names_the_extra(monkeypatch):
    import importlib
    import sys

    monkeypatch.setitem(sys.modules, "skl2onnx", None)  # import skl2onnx -> ImportError
    monkeypatch.delitem(sys.modules, "cymlp.onnx")
    with pytest.raises(ImportError, match=r"pip install 'cymlp\[onnx\]'"):
        importlib.import_module("cymlp.onnx")


@pytest.mark.parametrize("target_opset", [13, 17, None])
def test_target_opsets(target_opset):
    model, X = _fitted("multiclass", np.float64, True)
    onx = cymlp.onnx.to_onnx(model, X[:1], options=_no_zipmap(model),
                             target_opset=target_opset)
    out = _run(onx, X, np.float64)
    _assert_labels_equal(out["label"], model.predict(X))
    np.testing.assert_allclose(out["probabilities"], model.predict_proba(X), rtol=1e-13,
                               atol=1e-13)


def test_integer_input_gives_float32_graph():
    """As in skl2onnx: an integer input is cast to float32."""
    X, score = _data()
    Xi = np.round(X * 3).astype(np.int64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg = MLPRegressor(hidden_layer_sizes=(6,), solver="lbfgs", max_iter=100,
                           random_state=0).fit(Xi, score)
    out = _run(cymlp.onnx.to_onnx(reg, Xi[:1]), Xi, np.int64)["variable"]
    assert out.dtype == np.float32
    want = reg.predict(Xi)
    tol = _rtol(reg, np.float32)
    np.testing.assert_allclose(out.ravel(), want, rtol=tol, atol=tol * np.abs(want).max())


@pytest.mark.parametrize("est", [MLPClassifier(), MLPRegressor()], ids=["clf", "reg"])
def test_unfitted_model_raises_not_fitted(est):
    X, _ = _data()
    with pytest.raises(NotFittedError, match="is not fitted yet"):
        cymlp.onnx.to_onnx(est, X[:1])
    with pytest.raises(NotFittedError, match="is not fitted yet"):
        skl2onnx.to_onnx(est, X[:1].astype(np.float32))


@pytest.mark.parametrize("kind", ["multiclass", "squared_error"])
def test_wrong_input_width_raises(kind):
    model, X = _fitted(kind, np.float64, False)
    with pytest.raises(ValueError, match="X has 4 features, but MLP.* is expecting 5 features"):
        cymlp.onnx.to_onnx(model, X[:1, :4])


def test_export_does_not_change_the_model():
    model, X = _fitted("multiclass", np.float32, False)
    before = [c.copy() for c in model.coefs_], model.predict_proba(X)
    cymlp.onnx.to_onnx(model, X[:1].astype(np.float64), options=_no_zipmap(model))
    assert all(np.array_equal(a, b) for a, b in zip(before[0], model.coefs_))
    assert all(c.dtype == np.float32 for c in model.coefs_)
    np.testing.assert_array_equal(model.predict_proba(X), before[1])


def test_deploying_guide_examples(tmp_path, monkeypatch):
    """Every ```python block of docs/deploying.md, run in order in one namespace."""
    import pathlib
    import re

    guide = pathlib.Path(__file__).resolve().parents[1] / "docs" / "deploying.md"
    blocks = re.findall(r"^```python\n(.*?)^```", guide.read_text(), flags=re.S | re.M)
    assert len(blocks) == 2
    monkeypatch.chdir(tmp_path)  # the guide writes digits.onnx
    namespace = {}
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # the examples' fits converge
        for block in blocks:
            exec(compile(block, str(guide), "exec"), namespace)
    assert (tmp_path / "digits.onnx").stat().st_size > 0
