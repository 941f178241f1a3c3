"""Saving and loading fitted estimators without pickle.

``est.save(path)`` writes, and ``cymlp.load(path)`` reads, a versioned file that
holds data only, so loading a file from an untrusted source never runs code
from it (unlike pickle and joblib).

Format ``cymlp-model`` version 2: an uncompressed ZIP archive of ``.npy``
members (NumPy's ``.npz`` layout; ``numpy.load(path, allow_pickle=False)``
reads it too):

``header.npy``
    uint8, a UTF-8 JSON object: ``format``, ``format_version``,
    ``cymlp_version``, ``estimator`` (``"MLPClassifier"`` or
    ``"MLPRegressor"``), ``params`` (``get_params()``; a RandomState
    ``random_state`` is stored as None, with a warning; a ``class_weight``
    dict as ``{"kind": "dict", "items": [[label, weight], ...]}`` and a list
    of dicts as ``{"kind": "list", "items": [[[label, weight], ...], ...]}``,
    so labels keep their JSON types), ``layer_units``, the
    scalar fitted attributes, the label binarizer's state, the optimizer's
    hyper-parameters and step count, and the ``random_state_`` stream position.
``params.npy``
    float32 or float64, the flat parameter buffer (every ``coefs_[i]``
    row-major, then every ``intercepts_[i]``).
``best_params.npy``, ``optimizer_state1.npy``, ``optimizer_state2.npy``
    the same layout: the early-stopping best weights, and SGD's velocities or
    Adam's moments, so ``partial_fit`` / warm-started ``fit`` continue exactly.
``classes.npy``, ``binarizer_classes.npy``
    the class labels: bool, integer, float or unicode arrays (object arrays of
    str or numbers are stored as such and restored as object arrays).
``feature_names_in.npy``
    unicode, when the model was fitted on a DataFrame.
``loss_curve.npy``, ``validation_scores.npy``
    float64.
``random_state_key.npy``
    uint32 (624,), the Mersenne Twister state of ``_random_state``.

Version 1 (before ``class_weight``) is the same without ``params["class_weight"]``;
``load`` reads it as ``class_weight=None``.

``load`` refuses anything else with a ``ValueError``: other format names or
versions, estimator names other than the two above, unknown or duplicate
members, compressed or encrypted members, members larger than the file,
object/structured dtypes, shapes or dtypes that do not fit the header,
inconsistent sizes, parameters that fail validation and non-finite weights.
It reads each member's ``.npy`` header itself and checks the declared size
before allocating anything.
"""

import json
import numbers
import os
import threading
import warnings
import zipfile

import numpy as np
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils.validation import check_is_fitted

from cymlp import _state, _train
from cymlp._solvers import _Optimizer
from cymlp._version import __version__

FORMAT = "cymlp-model"
FORMAT_VERSION = 2
# version 1 (cymlp before class_weight) has no params["class_weight"]: it loads
# with class_weight=None, the only value it could have had
READ_VERSIONS = (1, 2)

_HEADER = "header.npy"
_MAX_HEADER_BYTES = 4 << 20
_MEMBERS = {
    "header",
    "params",
    "best_params",
    "optimizer_state1",
    "optimizer_state2",
    "classes",
    "binarizer_classes",
    "feature_names_in",
    "loss_curve",
    "validation_scores",
    "random_state_key",
}
# the fitted attributes by how the file stores them (cymlp._state.FITTED)
_INTS = _state.names_of_kind("int")                # header "attributes"
_FLOATS = _state.names_of_kind("float_or_none")    # header "attributes"
_FLOAT_LISTS = _state.names_of_kind("floats")      # a float64 member each
_FLOAT_LISTS_OR_NONE = _state.names_of_kind("floats_or_none")  # a flag and a member
_OPTIMIZER_FIELDS = {
    "solver": str,
    "learning_rate_init": numbers.Real,
    "learning_rate": numbers.Real,
    "lr_schedule": str,
    "momentum": numbers.Real,
    "nesterov": bool,
    "power_t": numbers.Real,
    "beta_1": numbers.Real,
    "beta_2": numbers.Real,
    "epsilon": numbers.Real,
    "t": numbers.Integral,
}


def _member(attribute):
    """The member that stores a fitted attribute: its name without the
    trailing underscore (``loss_curve_`` in ``loss_curve.npy``)."""
    return attribute.rstrip("_")


# ----------------------------------------------------------------------
# saving
# ----------------------------------------------------------------------
def _json_scalar(name, v):
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, np.bool_):
        return bool(v)
    if isinstance(v, numbers.Integral):
        return int(v)
    if isinstance(v, numbers.Real):
        return float(v)
    raise ValueError(
        f"cannot save {name}={v!r}: only None, bool, int, float and str values "
        "can be stored without pickle."
    )


def _encode_params(est):
    params = {}
    for name, v in est.get_params(deep=False).items():
        if name == "random_state" and isinstance(v, np.random.RandomState):
            warnings.warn(
                "random_state is a RandomState instance, which is not stored: the "
                "saved estimator gets random_state=None (the fitted model itself is "
                "saved exactly). Use an int seed to keep it.",
                UserWarning,
                stacklevel=3,
            )
            v = None
        if name == "class_weight":
            v = _encode_class_weight(v)
        elif name == "hidden_layer_sizes":
            kind = "tuple" if isinstance(v, tuple) else "list" if isinstance(v, list) else (
                "ndarray" if isinstance(v, np.ndarray) else "scalar")
            values = np.asarray(v).ravel().tolist() if kind != "scalar" else [v]
            v = {"kind": kind, "values": [_json_scalar(name, u) for u in values]}
        else:
            v = _json_scalar(name, v)
        params[name] = v
    return params


def _encode_class_weight(v):
    """None, "balanced", or a dict / list of dicts as [key, weight] pairs, so
    that the label keys keep their JSON types (int, float, bool, str)."""
    if v is None or isinstance(v, str):
        return v

    def pairs(d):
        return [[_json_scalar("a class_weight label", k), _json_scalar("a class weight", w)]
                for k, w in d.items()]

    if isinstance(v, dict):
        return {"kind": "dict", "items": pairs(v)}
    if isinstance(v, list) and all(isinstance(d, dict) for d in v):
        return {"kind": "list", "items": [pairs(d) for d in v]}
    raise ValueError(f"cannot save class_weight={v!r}: expected None, a str, a dict or a "
                     "list of dicts.")


def _decode_class_weight(v):
    if v is None or isinstance(v, str):
        return v
    kind = _field(v, "kind", str, "class_weight")
    items = _field(v, "items", list, "class_weight")

    def scalar(x, what):
        if x is not None and not isinstance(x, (bool, int, float, str)):
            _bad(f"class_weight {what} has type {type(x).__name__}")
        return x

    def to_dict(ps):
        if not isinstance(ps, list) or not all(isinstance(p, list) and len(p) == 2
                                               for p in ps):
            _bad("class_weight items must be [label, weight] pairs")
        d = {scalar(k, "label"): scalar(w, "weight") for k, w in ps}
        if len(d) != len(ps):
            _bad("class_weight has a label twice")
        return d

    if kind == "dict":
        return to_dict(items)
    if kind == "list":
        return [to_dict(ps) for ps in items]
    _bad(f"class_weight kind {kind!r}")


def _label_array(name, a):
    """(array without objects, kind) for class labels and feature names."""
    a = np.asarray(a)
    if a.ndim != 1:
        raise ValueError(f"cannot save {name}: expected a 1-D array, got shape {a.shape}.")
    if a.dtype.kind in "biufU":
        return a, "array"
    if a.dtype.kind == "O":
        items = a.tolist()
        if all(isinstance(x, str) for x in items):
            return np.asarray(items, dtype=str), "object"
        if all(isinstance(x, numbers.Integral) and not isinstance(x, (bool, np.bool_))
               for x in items):
            return np.asarray(items, dtype=np.int64), "object"
        if all(isinstance(x, numbers.Real) and not isinstance(x, (bool, np.bool_))
               for x in items):
            return np.asarray(items, dtype=np.float64), "object"
    raise ValueError(
        f"cannot save {name} of dtype {a.dtype} "
        f"({sorted({type(x).__name__ for x in a.ravel().tolist()})}): only str "
        "and numeric labels can be stored without pickle."
    )


def save(est, path):
    """Write the fitted estimator ``est`` to ``path`` (see the module docstring).

    ``path`` is a file name (written via a temporary file in the same
    directory, then renamed, so a crash never leaves a truncated model) or a
    binary file object.
    """
    check_is_fitted(est)
    name = type(est).__name__
    if _state.ESTIMATORS.get(name) is not type(est):
        raise ValueError(f"cannot save a {name}: only cymlp.MLPClassifier and "
                         "cymlp.MLPRegressor are supported.")
    params = _state.flat_params(est)
    layout = _state.Layout.of(est)
    d = est.__dict__
    header = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "cymlp_version": __version__,
        "estimator": name,
        "params": _encode_params(est),
        "layer_units": layout.units,
        "out_activation_": str(est.out_activation_),
        "attributes": {},
    }
    arrays = {"params": params}
    attrs = header["attributes"]
    for k, attr in _state.FITTED.items():   # the plain kinds; the others follow
        if k not in d:
            continue
        v = d[k]
        if attr.kind == "int":
            attrs[k] = int(v)
        elif attr.kind == "float_or_none":
            attrs[k] = None if v is None else float(v)
        elif attr.kind in ("floats", "floats_or_none"):
            if attr.kind == "floats_or_none":
                attrs[k] = v is not None
            if v is not None:
                arrays[_member(k)] = np.asarray(v, dtype=np.float64).reshape(-1)
        elif k == "_best_coefs":
            arrays["best_params"] = layout.pack(
                list(d["_best_coefs"]) + list(d["_best_intercepts"]), params.dtype)
        elif attr.kind == "names":
            arrays[_member(k)], _ = _label_array(k, v)
    opt = d.get("_optimizer")
    if opt is not None:
        header["optimizer"] = {
            k: _json_scalar(f"_optimizer.{k}", getattr(opt, k)) for k in _OPTIMIZER_FIELDS
        }
        arrays["optimizer_state1"] = opt.state1
        arrays["optimizer_state2"] = opt.state2
    rs = d.get("_random_state")
    if isinstance(rs, np.random.RandomState):
        kind, key, pos, has_gauss, cached = rs.get_state()
        header["random_state_"] = {"pos": int(pos), "has_gauss": int(has_gauss),
                                   "cached_gaussian": float(cached)}
        arrays["random_state_key"] = np.asarray(key, dtype=np.uint32)
    if name == "MLPClassifier":
        lb = est._label_binarizer
        arrays["classes"], classes_kind = _label_array("classes_", est.classes_)
        arrays["binarizer_classes"], lb_kind = _label_array(
            "the label binarizer's classes_", lb.classes_)
        header["classes_kind"] = classes_kind
        header["label_binarizer"] = {
            "neg_label": _json_scalar("neg_label", lb.neg_label),
            "pos_label": _json_scalar("pos_label", lb.pos_label),
            "sparse_output": bool(lb.sparse_output),
            "y_type_": str(lb.y_type_),
            "sparse_input_": bool(lb.sparse_input_),
            "classes_kind": lb_kind,
            "classes_is_classes_": est.classes_ is lb.classes_,
        }
    header_bytes = json.dumps(header, allow_nan=True).encode("utf-8")
    arrays = {"header": np.frombuffer(header_bytes, dtype=np.uint8), **arrays}

    if isinstance(path, (str, os.PathLike)):
        path = os.fspath(path)
        # unique per process and thread, so concurrent saves never share it
        tmp = f"{path}.{os.getpid()}.{threading.get_ident()}.tmp"
        try:
            with open(tmp, "xb") as f:
                _write_zip(f, arrays)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
    else:
        _write_zip(path, arrays)


def _write_zip(f, arrays):
    with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for key, a in arrays.items():
            with zf.open(key + ".npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.ascontiguousarray(a),
                                          allow_pickle=False)


# ----------------------------------------------------------------------
# loading
# ----------------------------------------------------------------------
class _Malformed(ValueError):
    pass


def _bad(msg):
    raise _Malformed(msg)


def _field(d, key, types, where="header", optional=False):
    if not isinstance(d, dict):
        _bad(f"{where} is not a JSON object")
    if key not in d:
        if optional:
            return None
        _bad(f"{where} has no {key!r}")
    v = d[key]
    if isinstance(v, bool) and bool not in (types if isinstance(types, tuple) else (types,)):
        _bad(f"{where}[{key!r}] has the wrong type (bool)")
    if not isinstance(v, types):
        _bad(f"{where}[{key!r}] has the wrong type ({type(v).__name__})")
    if isinstance(v, int) and not -(2**62) < v < 2**62:
        _bad(f"{where}[{key!r}] is out of range")
    return v


def _read_members(zf, size):
    """Validate the archive's directory: known names, once each, stored, small."""
    infos = zf.infolist()
    names = [i.filename for i in infos]
    if len(names) != len(set(names)):
        _bad("duplicate members")
    total = 0
    for info in infos:
        stem = info.filename[:-4] if info.filename.endswith(".npy") else None
        if stem not in _MEMBERS:
            _bad(f"unexpected member {info.filename!r}")
        if info.flag_bits & 0x1:
            _bad(f"member {info.filename!r} is encrypted")
        if info.compress_type != zipfile.ZIP_STORED or info.compress_size != info.file_size:
            _bad(f"member {info.filename!r} is compressed (only stored members are read)")
        total += info.file_size
    if total > size:
        _bad(f"members declare {total} bytes, more than the file's {size}")
    if _HEADER not in names:
        _bad("no header")
    return {n[:-4] for n in names}


def _read_npy(zf, stem, kinds, ndim=1, shape=None, dtype=None, mmap_file=None):
    """One member as an array, after checking its .npy header against the
    allowed dtype kinds and shape, and its declared size against the member's
    size, before allocating anything. With ``mmap_file`` (the archive's file
    name), a read-only memory map of the member's data in the file instead,
    where the data is stored as the engine reads it (native byte order, C
    order); otherwise read as usual."""
    info = zf.getinfo(stem + ".npy")
    with zf.open(info) as fp:
        version = np.lib.format.read_magic(fp)
        if version == (1, 0):
            shp, fortran, dt = np.lib.format.read_array_header_1_0(fp)
        elif version in ((2, 0), (3, 0)):
            shp, fortran, dt = np.lib.format.read_array_header_2_0(fp)
        else:
            _bad(f"{stem}: unsupported .npy version {version}")
        if dt.hasobject or dt.fields is not None or dt.subdtype is not None:
            _bad(f"{stem}: dtype {dt} is not allowed")
        if dt.kind not in kinds or (dtype is not None and dt.newbyteorder("=") != dtype):
            _bad(f"{stem}: dtype {dt} is not allowed here")
        if len(shp) != ndim or (shape is not None and tuple(shp) != tuple(shape)):
            _bad(f"{stem}: shape {shp} does not match the header (expected "
                 f"{'%d-D' % ndim if shape is None else tuple(shape)})")
        nbytes = dt.itemsize
        for n in shp:  # Python ints: no overflow
            nbytes *= n
        offset = fp.tell()
        if offset + nbytes != info.file_size:
            _bad(f"{stem}: declares {nbytes} bytes of data, the member holds "
                 f"{info.file_size - offset}")
        if mmap_file is not None and dt.isnative and not fortran and nbytes:
            return _memmap_member(zf, info, mmap_file, offset, dt, shp)
        data = fp.read(nbytes)
        if len(data) != nbytes:
            _bad(f"{stem}: truncated")
    a = np.frombuffer(data, dtype=dt).reshape(shp, order="F" if fortran else "C")
    return np.array(a, dtype=dt.newbyteorder("="), order="C")


def _memmap_member(zf, info, path, offset, dt, shape):
    """A read-only memory map of a stored member's data at ``offset`` into
    the member: the member's data starts after its local file header (30
    bytes, then the name and the extra field, whose lengths that header
    gives: they may differ from the central directory's)."""
    zf.fp.seek(info.header_offset)
    local = zf.fp.read(30)
    if len(local) != 30 or local[:4] != b"PK\x03\x04":
        _bad(f"{info.filename}: bad local file header")
    start = (info.header_offset + 30 + int.from_bytes(local[26:28], "little")
             + int.from_bytes(local[28:30], "little"))
    return np.memmap(path, dtype=dt, mode="r", offset=start + offset, shape=tuple(shape))


def _labels(a, kind):
    if kind == "object":
        return a.astype(object)
    if kind != "array":
        _bad(f"unknown label kind {kind!r}")
    return a


def load(path, mmap_mode=None):
    """Read an estimator written by ``est.save(path)``; see the module docstring.

    Parameters
    ----------
    path : str, path-like or binary file object
        The file. Raises ``ValueError`` for any file that is not a valid cymlp
        model (nothing in it is executed).
    mmap_mode : {None, "r"}, default=None
        "r": the parameter buffer is a read-only memory map of the file's
        stored ``params.npy`` (its data is never copied into memory: worker
        processes serving one file share it). The model predicts from it;
        ``fit`` / ``partial_fit`` first take a private writable copy. Needs a
        file name, not a file object.
    """
    if mmap_mode not in (None, "r"):
        raise ValueError(f"mmap_mode must be None or 'r', got {mmap_mode!r}")
    if mmap_mode is not None and not isinstance(path, (str, os.PathLike)):
        raise ValueError("mmap_mode='r' needs a file name, not a file object")
    try:
        if isinstance(path, (str, os.PathLike)):
            with open(path, "rb") as f:
                return _load(f, path if mmap_mode else None)
        return _load(path)
    except (_Malformed, ValueError) as e:  # ours, numpy's, parameter validation
        raise ValueError(f"not a valid cymlp model file: {e}") from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, KeyError, TypeError,
            IndexError, AttributeError, RecursionError, OverflowError,
            NotImplementedError) as e:
        raise ValueError(f"not a valid cymlp model file: {type(e).__name__}: {e}") from None


def _load(f, mmap_file=None):
    f.seek(0, os.SEEK_END)
    size = f.tell()
    f.seek(0)
    with zipfile.ZipFile(f) as zf:
        present = _read_members(zf, size)
        if zf.getinfo(_HEADER).file_size > _MAX_HEADER_BYTES:
            _bad("header too large")
        raw = _read_npy(zf, "header", "u", dtype=np.dtype(np.uint8))
        try:
            header = json.loads(raw.tobytes().decode("utf-8"))
        except json.JSONDecodeError as e:
            _bad(f"header is not JSON ({e})")
        if _field(header, "format", str) != FORMAT:
            _bad(f"format is {header['format']!r}, expected {FORMAT!r}")
        version = _field(header, "format_version", int)
        if version not in READ_VERSIONS:
            _bad(f"format version {version} is not supported (this cymlp "
                 f"{__version__} reads versions {', '.join(map(str, READ_VERSIONS))})")
        _field(header, "cymlp_version", str)
        name = _field(header, "estimator", str)
        cls = _state.ESTIMATORS.get(name)
        if cls is None:
            _bad(f"estimator {name!r} is not MLPClassifier or MLPRegressor")
        is_clf = name == "MLPClassifier"

        # -- parameters: exactly the estimator's, validated as fit would
        params = dict(_field(header, "params", dict))
        expected = set(cls().get_params(deep=False))
        if version == 1:
            expected.discard("class_weight")
        if set(params) != expected:
            _bad(f"params {sorted(params)} are not {name}'s {sorted(expected)}")
        hls = _field(params, "hidden_layer_sizes", dict, "params")
        values = _field(hls, "values", list, "hidden_layer_sizes")
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            _bad("hidden_layer_sizes must hold integers")
        kind = _field(hls, "kind", str, "hidden_layer_sizes")
        if kind == "tuple":
            params["hidden_layer_sizes"] = tuple(values)
        elif kind == "list":
            params["hidden_layer_sizes"] = list(values)
        elif kind == "ndarray":
            params["hidden_layer_sizes"] = np.asarray(values, dtype=np.int64)
        elif kind == "scalar" and len(values) == 1:
            params["hidden_layer_sizes"] = values[0]
        else:
            _bad(f"hidden_layer_sizes kind {kind!r}")
        if "class_weight" in params:
            params["class_weight"] = _decode_class_weight(params["class_weight"])
        for k, v in params.items():
            if k not in ("hidden_layer_sizes", "class_weight") and not (
                v is None or isinstance(v, (bool, int, float, str))
            ):
                _bad(f"parameter {k} has type {type(v).__name__}")
        est = cls(**params)
        est._validate_params()

        # -- architecture
        units = _field(header, "layer_units", list)
        if len(units) < 2 or not all(
            isinstance(u, int) and not isinstance(u, bool) and u >= 1 for u in units
        ):
            _bad(f"layer_units {units!r} must be at least 2 positive integers")
        _train.check_layer_units(units)
        attrs = _field(header, "attributes", dict)
        for k in _INTS:
            if not _state.FITTED[k].always and k not in attrs:
                continue
            v = _field(attrs, k, int, "attributes")
            if v < 0:
                _bad(f"{k} is negative")
            setattr(est, k, v)
        if est.n_layers_ != len(units) or est.n_features_in_ != units[0] or (
            est.n_outputs_ != units[-1]
        ):
            _bad(f"n_layers_/n_features_in_/n_outputs_ do not match layer_units {units}")
        out = _field(header, "out_activation_", str)
        allowed = {"softmax", "logistic"} if is_clf else (
            {"exp"} if est.loss == "poisson" else {"identity"})
        if out not in allowed:
            _bad(f"out_activation_ {out!r} is not possible for this {name}")
        est.out_activation_ = out
        layout = _state.Layout(units)
        n_params = layout.n_params

        # -- weights
        params_arr = _read_npy(zf, "params", "f", shape=(n_params,), mmap_file=mmap_file)
        if params_arr.dtype not in (np.float32, np.float64):
            _bad(f"params dtype {params_arr.dtype}")
        if not np.isfinite(params_arr).all():
            _bad("the weights are not all finite")
        _state.set_buffer(est, params_arr, layout)
        dtype = params_arr.dtype
        if "best_params" in present:
            best = _read_npy(zf, "best_params", "f", shape=(n_params,), dtype=dtype)
            coefs, intercepts = layout.views(best)
            est._best_coefs = [c.copy() for c in coefs]
            est._best_intercepts = [b.copy() for b in intercepts]

        # -- scalar and per-epoch attributes
        for k in _FLOATS:
            if k in attrs:
                v = attrs[k]
                if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float))):
                    _bad(f"{k} has type {type(v).__name__}")
                setattr(est, k, None if v is None else float(v))
        for k in _FLOATS:
            if _state.FITTED[k].always and k not in attrs:
                _bad(f"attributes have no {k!r}")
        for k in _FLOAT_LISTS:
            if _member(k) in present:
                setattr(est, k, _read_npy(zf, _member(k), "f",
                                          dtype=np.dtype(np.float64)).tolist())
        for k in _FLOAT_LISTS_OR_NONE:
            if k in attrs:
                if _field(attrs, k, bool, "attributes"):
                    if _member(k) not in present:
                        _bad(f"{_member(k)} member missing")
                    setattr(est, k, _read_npy(zf, _member(k), "f",
                                              dtype=np.dtype(np.float64)).tolist())
                else:
                    setattr(est, k, None)
        if "feature_names_in" in present:
            names = _read_npy(zf, "feature_names_in", "U", shape=(units[0],))
            est.feature_names_in_ = names.astype(object)

        # -- optimizer state
        opt = _field(header, "optimizer", dict, optional=True)
        if opt is not None:
            fields = {k: _field(opt, k, t, "optimizer") for k, t in _OPTIMIZER_FIELDS.items()}
            solver = fields["solver"]
            if solver not in ("sgd", "adam"):
                _bad(f"optimizer solver {solver!r}")
            o = _Optimizer(solver, 0, dtype, fields["learning_rate_init"],
                           fields["lr_schedule"], fields["momentum"], fields["nesterov"],
                           fields["power_t"], fields["beta_1"], fields["beta_2"],
                           fields["epsilon"])
            o.learning_rate = float(fields["learning_rate"])
            o.t = int(fields["t"])
            if solver == "adam":
                n1, n2 = n_params, n_params
            else:
                n1, n2 = (n_params if fields["momentum"] != 0 else 0), 0
            o.state1 = _read_npy(zf, "optimizer_state1", "f", shape=(n1,), dtype=dtype)
            o.state2 = _read_npy(zf, "optimizer_state2", "f", shape=(n2,), dtype=dtype)
            if not (np.isfinite(o.state1).all() and np.isfinite(o.state2).all()):
                _bad("the optimizer state is not all finite")
            est._optimizer = o

        # -- random stream position
        rs = _field(header, "random_state_", dict, optional=True)
        if rs is not None:
            key = _read_npy(zf, "random_state_key", "u", shape=(624,),
                            dtype=np.dtype(np.uint32))
            state = ("MT19937", key, _field(rs, "pos", int, "random_state_"),
                     _field(rs, "has_gauss", int, "random_state_"),
                     float(_field(rs, "cached_gaussian", (int, float), "random_state_")))
            if not 0 <= state[2] <= 624:
                _bad("random_state_ position out of range")
            est._random_state = np.random.RandomState()
            est._random_state.set_state(state)

        # -- labels
        if is_clf:
            lbh = _field(header, "label_binarizer", dict)
            lb = LabelBinarizer(
                neg_label=_field(lbh, "neg_label", int, "label_binarizer"),
                pos_label=_field(lbh, "pos_label", int, "label_binarizer"),
                sparse_output=_field(lbh, "sparse_output", bool, "label_binarizer"),
            )
            lb.y_type_ = _field(lbh, "y_type_", str, "label_binarizer")
            lb.sparse_input_ = _field(lbh, "sparse_input_", bool, "label_binarizer")
            lb.classes_ = _labels(_read_npy(zf, "binarizer_classes", "biufU"),
                                  _field(lbh, "classes_kind", str, "label_binarizer"))
            if _field(lbh, "classes_is_classes_", bool, "label_binarizer"):
                est.classes_ = lb.classes_
            else:
                est.classes_ = _labels(_read_npy(zf, "classes", "biufU"),
                                       _field(header, "classes_kind", str))
            k = len(lb.classes_)
            if lb.y_type_ == "binary":
                ok = est.n_outputs_ == 1 and k <= 2 and out == "logistic"
            elif lb.y_type_ == "multiclass":
                ok = est.n_outputs_ == k and out == "softmax"
            elif lb.y_type_ == "multilabel-indicator":
                ok = est.n_outputs_ == k and out == "logistic"
            else:
                ok = False
            if not ok or len(est.classes_) != k:
                _bad(f"labels (y_type_={lb.y_type_!r}, {k} classes) do not match "
                     f"n_outputs_={est.n_outputs_} and out_activation_={out!r}")
            est._label_binarizer = lb
        _state.network(est, layout)  # the engine's own size checks
        return est
