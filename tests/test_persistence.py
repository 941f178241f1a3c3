"""est.save(path) / cymlp.load(path): a pickle-free, versioned file that
restores an identical model and refuses malformed or hostile files."""

import io
import json
import pickle
import struct
import warnings
import zipfile

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

import cymlp
from _util import quiet, assert_params_are_views, assert_same_model, assert_same_state
from cymlp import MLPClassifier, MLPRegressor, _persist

RNG = np.random.RandomState(0)
X = RNG.randn(50, 4)
Y = np.arange(50) % 3
YR = X @ RNG.randn(4)


def _clf(**kw):
    return MLPClassifier(**{**dict(hidden_layer_sizes=(6, 5), max_iter=4, batch_size=10,
                                   random_state=0), **kw})


def _reg(**kw):
    return MLPRegressor(**{**dict(hidden_layer_sizes=(6,), max_iter=4, batch_size=10,
                                  random_state=0), **kw})


XDF = pd.DataFrame(X, columns=list("abcd"))
YML = np.stack([Y == 0, Y == 1, Y != 1], 1)
YPOS = np.abs(YR).round()
YR2 = np.stack([YR, -YR], 1)
OBJ = pd.Series(np.array(["p", "q", "r"], dtype=object)[Y])
MODELS = {  # name: (estimator, X, y), fitted by the test
    "adam, string labels, DataFrame": (_clf(), XDF, np.array(["x", "y", "z"])[Y]),
    "sgd, early stopping, int labels": (_clf(solver="sgd", early_stopping=True, max_iter=6),
                                        X, Y + 10),
    "sgd, no momentum, binary bool": (_clf(solver="sgd", momentum=0.0), X, Y == 1),
    "lbfgs, float32": (_clf(solver="lbfgs"), X.astype(np.float32), Y),
    "partial_fit, object labels": (_clf(), X, OBJ),
    "multilabel": (_clf(), X, YML),
    "float labels, sparse X": (_clf(solver="sgd"), sp.csr_matrix(X), Y * 2.0),
    "hidden list, no hidden": (_clf(hidden_layer_sizes=[]), X, Y),
    "regressor adam": (_reg(), X, YR),
    "regressor multi-output sgd invscaling": (
        _reg(solver="sgd", learning_rate="invscaling"), X, YR2),
    "regressor poisson lbfgs": (_reg(loss="poisson", solver="lbfgs"), X, YPOS),
    "regressor early stopping float32": (
        _reg(early_stopping=True, n_iter_no_change=np.inf), X.astype(np.float32), YR),
    "hidden ndarray": (_reg(hidden_layer_sizes=np.array([7, 3])), X, YR),
    "hidden int": (_reg(hidden_layer_sizes=7), X, YR),
}


def _fitted(name):
    est, Xf, yf = MODELS[name]
    est = clone(est)
    if name.startswith("partial_fit"):
        est.partial_fit(Xf, yf, classes=["p", "q", "r"])
    else:
        quiet(est.fit, Xf, yf)
    return est, Xf, yf


def _outputs(est, Xp):
    out = [est.predict(Xp)]
    if hasattr(est, "predict_proba"):
        out.append(est.predict_proba(Xp))
    return out


@pytest.mark.parametrize("name", list(MODELS))
def test_roundtrip_restores_an_identical_model(tmp_path, name):
    est, Xf, yf = _fitted(name)
    path = tmp_path / "model.npz"
    est.save(path)
    loaded = cymlp.load(path)
    assert_same_state(loaded, est)
    params, lparams = est.get_params(), loaded.get_params()
    hls, lhls = params.pop("hidden_layer_sizes"), lparams.pop("hidden_layer_sizes")
    assert params == lparams
    assert type(hls) is type(lhls)
    np.testing.assert_array_equal(hls, lhls)
    if hasattr(est, "classes_"):
        assert (loaded.classes_ is loaded._label_binarizer.classes_) == (
            est.classes_ is est._label_binarizer.classes_)
    for a, b in zip(_outputs(est, Xf), _outputs(loaded, Xf)):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    # training continues identically: the optimizer state was saved
    for model in (est, loaded):
        if est.solver != "lbfgs" and not est.early_stopping:
            model.partial_fit(Xf, yf)
        model.set_params(warm_start=True, max_iter=2)
        quiet(model.fit, Xf, yf)
    assert_same_state(loaded, est)


def test_every_fitted_attribute_is_described_once():
    """cymlp._state.FITTED lists every attribute a fit sets (what save/load
    store), and each of them is set by one of the models above."""
    from cymlp import _state

    seen = set()
    for name in MODELS:
        est, _, _ = _fitted(name)
        fitted = set(vars(est)) - set(vars(clone(est)))  # what the constructor sets
        assert fitted <= set(_state.FITTED), (name, sorted(fitted - set(_state.FITTED)))
        assert {k for k, a in _state.FITTED.items() if a.always} <= fitted, name
        seen |= fitted
    assert seen == set(_state.FITTED)


def test_file_objects_and_plain_numpy(tmp_path):
    est, _, _ = _fitted("regressor adam")
    buf = io.BytesIO()
    est.save(buf)
    assert_same_state(cymlp.load(io.BytesIO(buf.getvalue())), est)
    # a plain npz that numpy reads without pickle
    path = tmp_path / "m.npz"
    est.save(path)
    with np.load(path, allow_pickle=False) as npz:
        header = json.loads(npz["header"].tobytes())
        np.testing.assert_array_equal(npz["params"], est._params)
    assert header["format"] == "cymlp-model" and header["format_version"] == 2
    assert header["estimator"] == "MLPRegressor"
    assert header["cymlp_version"] == cymlp.__version__
    # saving replaces the file atomically; no temporary left behind
    est.save(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.npz"]


def test_loaded_params_are_views_and_writable(tmp_path):
    est, _, _ = _fitted("lbfgs, float32")
    est.save(tmp_path / "m.npz")
    loaded = cymlp.load(tmp_path / "m.npz")
    assert_params_are_views(loaded)
    assert loaded._params.flags.writeable and loaded._params.dtype == np.float32


def test_randomstate_random_state_is_stored_as_none(tmp_path):
    est = quiet(_clf(random_state=np.random.RandomState(3)).fit, X, Y)
    with pytest.warns(UserWarning, match="RandomState instance, which is not stored"):
        est.save(tmp_path / "m.npz")
    loaded = cymlp.load(tmp_path / "m.npz")
    assert loaded.random_state is None
    assert_same_model(loaded, est)


def test_unfitted_and_foreign_estimators_are_refused(tmp_path):
    with pytest.raises(NotFittedError):
        _clf().save(tmp_path / "m.npz")

    class Sub(MLPClassifier):
        pass

    sub = quiet(Sub(max_iter=2).fit, X, Y)
    with pytest.raises(ValueError, match="only cymlp.MLPClassifier"):
        sub.save(tmp_path / "m.npz")


def test_unsupported_label_objects_are_refused(tmp_path):
    from decimal import Decimal

    est, _, _ = _fitted("sgd, early stopping, int labels")
    labels = np.array([Decimal(10), Decimal(11), Decimal(12)], dtype=object)
    est.classes_ = est._label_binarizer.classes_ = labels
    with pytest.raises(ValueError, match="only str and numeric labels"):
        est.save(tmp_path / "m.npz")
    assert not (tmp_path / "m.npz").exists()


# ----------------------------------------------------------------------
# malformed and hostile files: a clear ValueError, nothing executed
# ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def good(tmp_path_factory):
    est = quiet(_clf(solver="sgd").fit, pd.DataFrame(X, columns=list("abcd")), Y)
    path = tmp_path_factory.mktemp("good") / "m.npz"
    est.save(path)
    return path.read_bytes()


def _members(data):
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


def _npy(a, allow_pickle=False):
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.asanyarray(a), allow_pickle=allow_pickle)
    return buf.getvalue()


def _build(members, compression=zipfile.ZIP_STORED):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _header(data):
    return json.loads(np.load(io.BytesIO(_members(data)["header.npy"])).tobytes())


def _with_header(data, edit):
    members = _members(data)
    header = _header(data)
    edit(header)
    members["header.npy"] = _npy(np.frombuffer(json.dumps(header).encode(), np.uint8))
    return _build(members)


def _with_member(data, name, value):
    members = _members(data)
    if value is None:
        del members[name]
    else:
        members[name] = value if isinstance(value, bytes) else _npy(value)
    return _build(members)


def _load_bytes(tmp_path, data):
    path = tmp_path / "bad.npz"
    path.write_bytes(data)
    return cymlp.load(path)


def test_the_fixture_file_loads(tmp_path, good):
    est = _load_bytes(tmp_path, _build(_members(good)))
    assert est.n_features_in_ == 4


class Payload:
    """Unpickling this creates a file: proof that code ran."""

    def __init__(self, target):
        self.target = str(target)

    def __reduce__(self):
        return (open, (self.target, "w"))


def _set(key, value, where=None):
    def edit(h):
        (h if where is None else h[where])[key] = value
    return edit


HEADER_EDITS = {
    "format name": _set("format", "sklearn-model"),
    "format version 3": _set("format_version", 3),
    "version 1 with class_weight": _set("format_version", 1),
    "format version as string": _set("format_version", "1"),
    "format version 0": _set("format_version", 0),
    "no format": lambda h: h.pop("format"),
    "class name LogisticRegression": _set("estimator", "LogisticRegression"),
    "class name os.system": _set("estimator", "os.system"),
    "class name base class": _set("estimator", "BaseMultilayerPerceptron"),
    "regressor header, classifier data": _set("estimator", "MLPRegressor"),
    "header is a list": lambda h: h.clear() or h.update({"format": []}),
    "unknown parameter": _set("exec", "print(1)", "params"),
    "missing parameter": lambda h: h["params"].pop("alpha"),
    "invalid parameter value": _set("activation", "__import__('os')", "params"),
    "parameter of wrong type": _set("alpha", [1, 2], "params"),
    "hidden sizes as strings": _set("hidden_layer_sizes", {"kind": "tuple", "values": ["6"]},
                                    "params"),
    "layer_units too short": _set("layer_units", [4]),
    "layer_units negative": _set("layer_units", [4, -6, 5, 3]),
    "layer_units vs n_features_in_": _set("layer_units", [5, 6, 5, 3]),
    "layer units beyond 32-bit": _set("layer_units", [4, 2**31, 5, 3]),
    "huge declared network": _set("layer_units", [4, 40000, 40000, 3]),
    "n_outputs_ vs classes": lambda h: h.update(
        layer_units=[4, 6, 5, 2], attributes={**h["attributes"], "n_outputs_": 2}),
    "output activation": _set("out_activation_", "identity"),
    "n_layers_": _set("n_layers_", 7, "attributes"),
    "negative t_": _set("t_", -1, "attributes"),
    "huge int": _set("n_iter_", 10**30, "attributes"),
    "bool as int": _set("n_iter_", True, "attributes"),
    "loss_ as string": _set("loss_", "nan", "attributes"),
    "y_type_": _set("y_type_", "continuous", "label_binarizer"),
    "optimizer solver": _set("solver", "lbfgs", "optimizer"),
    "optimizer momentum off, state kept": _set("momentum", 0.0, "optimizer"),
    "random state position": _set("pos", 10**6, "random_state_"),
    "label kind": _set("classes_kind", "pickle", "label_binarizer"),
}


@pytest.mark.parametrize("case", list(HEADER_EDITS))
def test_malformed_headers_are_refused(tmp_path, good, case):
    with pytest.raises(ValueError):
        _load_bytes(tmp_path, _with_header(good, HEADER_EDITS[case]))


def test_error_messages_name_the_problem(tmp_path, good):
    cases = {
        "format version 3": "format version 3 is not supported",
        "class name os.system": "'os.system' is not MLPClassifier or MLPRegressor",
        "unknown parameter": "params",
        "layer units beyond 32-bit": "32-bit",
        "huge declared network": "shape",
    }
    for case, msg in cases.items():
        with pytest.raises(ValueError, match=msg):
            _load_bytes(tmp_path, _with_header(good, HEADER_EDITS[case]))


MEMBER_EDITS = {
    "params too short": ("params.npy", np.zeros(10)),
    "params int": ("params.npy", lambda n: np.zeros(n, np.int64)),
    "params complex": ("params.npy", lambda n: np.zeros(n, complex)),
    "params float16": ("params.npy", lambda n: np.zeros(n, np.float16)),
    "params 2-D": ("params.npy", lambda n: np.zeros((n, 1))),
    "params NaN": ("params.npy", lambda n: np.full(n, np.nan)),
    "params inf": ("params.npy", lambda n: np.r_[np.zeros(n - 1), np.inf]),
    "params structured": ("params.npy", lambda n: np.zeros(n, [("a", "f8")])),
    "no params": ("params.npy", None),
    "no header": ("header.npy", None),
    "no classes": ("binarizer_classes.npy", None),
    "classes complex": ("binarizer_classes.npy", np.array([0, 1, 2], complex)),
    "classes bytes": ("binarizer_classes.npy", np.array([b"a", b"b", b"c"])),
    "classes datetime": ("binarizer_classes.npy", np.array(["2020-01-01"] * 3, "M8[D]")),
    "classes wrong count": ("binarizer_classes.npy", np.array([0, 1])),
    "feature names wrong count": ("feature_names_in.npy", np.array(["a"])),
    "feature names as ints": ("feature_names_in.npy", np.arange(4)),
    "optimizer state wrong size": ("optimizer_state1.npy", np.zeros(3)),
    "optimizer state float32": ("optimizer_state1.npy", lambda n: np.zeros(n, np.float32)),
    "optimizer state NaN": ("optimizer_state1.npy", lambda n: np.full(n, np.nan)),
    "random key wrong dtype": ("random_state_key.npy", np.zeros(624, np.int64)),
    "loss curve 2-D": ("loss_curve.npy", np.zeros((2, 2))),
    "header not JSON": ("header.npy", np.frombuffer(b"{'format': 1", np.uint8)),
    "header not UTF-8": ("header.npy", np.frombuffer(b'{"format": "\xff"}', np.uint8)),
    "header as floats": ("header.npy", np.zeros(5)),
    "header deeply nested": ("header.npy", np.frombuffer(b"[" * 100000 + b"]" * 100000,
                                                         np.uint8)),
    "unknown member": ("evil.npy", np.zeros(3)),
    "member not .npy": ("params.pkl", b"\x80\x04N."),
    "member is not npy": ("params.npy", b"\x80\x04N."),
    "truncated member": ("params.npy", lambda n: _npy(np.zeros(n))[:-8]),
    "member with trailing data": ("params.npy", lambda n: _npy(np.zeros(n)) + b"junk"),
}


def _n_params(good):
    return np.load(io.BytesIO(_members(good)["params.npy"])).size


@pytest.mark.parametrize("case", list(MEMBER_EDITS))
def test_malformed_members_are_refused(tmp_path, good, case):
    name, value = MEMBER_EDITS[case]
    if callable(value):
        value = value(_n_params(good))
    with pytest.raises(ValueError):
        _load_bytes(tmp_path, _with_member(good, name, value))


def _claim_shape(raw, old, new):
    """The .npy bytes ``raw`` with its header's shape ``old`` replaced by ``new``."""
    header_len = struct.unpack("<H", raw[8:10])[0]
    head = raw[10:10 + header_len].decode("latin1")
    patched = head.replace(f"({old},)", f"({new},)")
    assert patched != head
    patched = patched.rstrip("\n ")
    patched = (patched + " " * (header_len - len(patched) - 1) + "\n").encode("latin1")
    assert len(patched) == header_len
    return raw[:10] + patched + raw[10 + header_len:]


@pytest.mark.parametrize("member, msg", [
    ("params.npy", "does not match the header"),   # its length follows from the header
    ("loss_curve.npy", "declares 32000000000000 bytes of data"),  # any length
])
def test_huge_npy_shape_refused_before_allocating(tmp_path, good, member, msg):
    import tracemalloc

    members = _members(good)
    n = np.load(io.BytesIO(members[member])).size
    members[member] = _claim_shape(members[member], n, 4000000000000)
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=msg):
            _load_bytes(tmp_path, _build(members))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20 * 2**20


def test_zip_declaring_more_than_the_file_is_refused(tmp_path, good):
    data = bytearray(_build(_members(good)))
    # patch the central directory's compressed and uncompressed sizes of params.npy
    pos = 0
    while True:
        pos = data.find(b"PK\x01\x02", pos)
        assert pos >= 0
        name_len = struct.unpack("<H", data[pos + 28:pos + 30])[0]
        if data[pos + 46:pos + 46 + name_len] == b"params.npy":
            break
        pos += 4
    data[pos + 20:pos + 28] = struct.pack("<II", 2**32 - 2, 2**32 - 2)
    with pytest.raises(ValueError):
        _load_bytes(tmp_path, bytes(data))


def test_compressed_members_are_refused(tmp_path, good):
    bomb = _build(_members(good), compression=zipfile.ZIP_DEFLATED)
    with pytest.raises(ValueError, match="compressed"):
        _load_bytes(tmp_path, bomb)


def test_duplicate_members_are_refused(tmp_path, good):
    buf = io.BytesIO(good)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # zipfile: "Duplicate name"
        with zipfile.ZipFile(buf, "a") as zf:
            zf.writestr("params.npy", _npy(np.zeros(_n_params(good))))
    with pytest.raises(ValueError, match="duplicate"):
        _load_bytes(tmp_path, buf.getvalue())


@pytest.mark.parametrize("cut", [0, 1, 10, 100, 1000, -100, -22, -1])
def test_truncated_files_are_refused(tmp_path, good, cut):
    with pytest.raises(ValueError):
        _load_bytes(tmp_path, good[:cut])


def test_garbage_is_refused(tmp_path):
    for data in [b"", b"hello", RNG.bytes(5000), _npy(np.zeros(3)), b"PK\x05\x06" + bytes(18)]:
        with pytest.raises(ValueError):
            _load_bytes(tmp_path, data)


def test_pickles_are_never_executed(tmp_path, good):
    marker = tmp_path / "pwned"
    payload = Payload(marker)
    # a pickle file
    with pytest.raises(ValueError):
        _load_bytes(tmp_path, pickle.dumps(payload))
    # the estimator pickled, as joblib/pickle users would save it
    with pytest.raises(ValueError):
        _load_bytes(tmp_path, pickle.dumps(quiet(_clf().fit, X, Y)))
    # a pickle inside the archive: an object array as a member, a raw pickle
    # member, and an npz written by numpy with allow_pickle
    obj = np.array([payload, payload], dtype=object)
    for name in ["params.npy", "binarizer_classes.npy", "feature_names_in.npy",
                 "header.npy", "loss_curve.npy"]:
        with pytest.raises(ValueError):
            _load_bytes(tmp_path, _with_member(good, name, _npy(obj, allow_pickle=True)))
    with pytest.raises(ValueError):
        _load_bytes(tmp_path, _with_member(good, "payload.pkl", pickle.dumps(payload)))
    buf = io.BytesIO()
    np.savez(buf, header=obj, params=obj)
    with pytest.raises(ValueError):
        _load_bytes(tmp_path, buf.getvalue())
    assert not marker.exists()
    # the payload does work when unpickled: the test would see it
    pickle.loads(pickle.dumps(payload)).close()
    assert marker.exists()


def test_load_reads_only_data(tmp_path, good, monkeypatch):
    """No unpickling machinery is reached while loading a valid file."""
    def forbidden(*a, **k):
        raise AssertionError("pickle used")

    monkeypatch.setattr(pickle, "loads", forbidden)
    monkeypatch.setattr(pickle, "load", forbidden)
    monkeypatch.setattr(pickle, "Unpickler", forbidden)
    est = _load_bytes(tmp_path, good)
    assert est.predict(pd.DataFrame(X, columns=list("abcd"))).shape == (50,)


def test_format_is_documented():
    assert _persist.FORMAT == "cymlp-model" and _persist.FORMAT_VERSION == 2
    assert "load" in cymlp.__all__ and cymlp.load is _persist.load
