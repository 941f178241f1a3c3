"""The fitted state, described once: the parameter layout and every fitted attribute.

A fitted estimator keeps all its weights in one flat buffer, ``_params``:
every ``coefs_[i]`` (``fan_in x fan_out``, row-major), then every
``intercepts_[i]``. ``coefs_`` and ``intercepts_`` are views into it, so the
engine reads and writes the weights in place. ``Layout`` is where each
layer's block sits in that buffer, derived once from the layer sizes;
everything else (the views, pickling, the saved file, the engine's
``Network``) reads it from there.

``FITTED`` lists every attribute a fit sets, once, with the kind that says
how ``cymlp._persist`` stores it. Pickling stores every attribute as it is,
except the views: ``_params`` once, and the layer sizes to rebuild them.

Also here: X as the engine reads it (``engine_input``) and the 32-bit BLAS
size check, both shared by fitting and prediction.
"""

import operator
from numbers import Integral
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

from cymlp import _train

ESTIMATORS = {}
"""The estimator classes by name (filled by ``cymlp._estimators``): what a
saved file may name."""


class Layout:
    """Where each layer's weights live in the flat parameter buffer.

    Parameters
    ----------
    layer_units : sequence of int
        Units per layer, input first. Integers (NumPy's too) become Python
        ints; anything else is kept as given, so that allocating the buffer
        raises NumPy's own TypeError for it, as fit always has.

    Attributes
    ----------
    units : list of int
        The layer sizes, input first.
    coef_shapes : list of (int, int)
        ``(fan_in, fan_out)`` of each ``coefs_[i]``.
    coef_offsets, intercept_offsets : list of int
        Where ``coefs_[i]`` and ``intercepts_[i]`` start in the buffer
        (Python ints: no fixed-width overflow on any platform).
    n_params : int
        The buffer's length.
    """

    __slots__ = ("units", "coef_shapes", "coef_offsets", "intercept_offsets", "n_params")

    def __init__(self, layer_units):
        self.units = [operator.index(u) if isinstance(u, Integral) else u for u in layer_units]
        self.coef_shapes = list(zip(self.units[:-1], self.units[1:]))
        offset = 0
        self.coef_offsets = []
        for fan_in, fan_out in self.coef_shapes:
            self.coef_offsets.append(offset)
            offset += fan_in * fan_out
        self.intercept_offsets = []
        for fan_out in self.units[1:]:
            self.intercept_offsets.append(offset)
            offset += fan_out
        self.n_params = offset

    @classmethod
    def of(cls, est):
        """The layout of a fitted estimator's ``coefs_`` / ``intercepts_``."""
        return cls([est.coefs_[0].shape[0]] + [len(b) for b in est.intercepts_])

    def views(self, params):
        """``(coefs, intercepts)``: lists of views into the flat ``params``."""
        coefs = [params[o : o + fan_in * fan_out].reshape(fan_in, fan_out)
                 for o, (fan_in, fan_out) in zip(self.coef_offsets, self.coef_shapes)]
        intercepts = [params[o : o + fan_out]
                      for o, fan_out in zip(self.intercept_offsets, self.units[1:])]
        return coefs, intercepts

    def pack(self, arrays, dtype):
        """The flat buffer of ``arrays`` (every coef, then every intercept)."""
        return np.concatenate([np.asarray(a).astype(dtype).ravel() for a in arrays])


# ----------------------------------------------------------------------
# every fitted attribute
# ----------------------------------------------------------------------
class Attr(NamedTuple):
    kind: str
    """How a saved file stores it (``cymlp._persist`` has one codec per kind)."""
    always: bool = False
    """Every fit sets it: a saved file without it is malformed."""


FITTED = {
    # the network
    "n_features_in_": Attr("int", always=True),
    "n_outputs_": Attr("int", always=True),
    "n_layers_": Attr("int", always=True),
    "out_activation_": Attr("out_activation", always=True),
    "_params": Attr("buffer", always=True),      # the flat buffer (see Layout)
    "coefs_": Attr("view", always=True),         # views into _params
    "intercepts_": Attr("view", always=True),
    # the training record
    "n_iter_": Attr("int", always=True),
    "t_": Attr("int", always=True),
    "loss_": Attr("float_or_none", always=True),
    "best_loss_": Attr("float_or_none"),         # the stochastic solvers'
    "best_validation_score_": Attr("float_or_none"),
    "_no_improvement_count": Attr("int"),
    "loss_curve_": Attr("floats"),
    "validation_scores_": Attr("floats_or_none"),
    "_best_coefs": Attr("best"),                 # the early-stopping best weights,
    "_best_intercepts": Attr("best"),            # copies in the same layout
    "feature_names_in_": Attr("names"),          # fitted on a DataFrame
    # what training continues from (partial_fit, warm start)
    "_optimizer": Attr("optimizer"),             # cymlp._solvers._Optimizer
    "_random_state": Attr("random_state"),       # the RandomState fit draws from
    # the classifier's labels
    "classes_": Attr("labels"),
    "_label_binarizer": Attr("label_binarizer"),
}
"""Every attribute a fit sets, once, by kind: in this order the saved file
lists them (``_persist``'s codecs); pickling stores them as they are."""


def names_of_kind(kind):
    """The fitted attributes of one kind, in ``FITTED``'s order."""
    return [name for name, attr in FITTED.items() if attr.kind == kind]


# ----------------------------------------------------------------------
# the flat buffer and its views
# ----------------------------------------------------------------------
def set_buffer(est, params, layout):
    """Make ``params`` the estimator's flat buffer, and coefs_ / intercepts_
    views into it."""
    est._params = params
    est.coefs_, est.intercepts_ = layout.views(params)


def flat_params(est):
    """The flat parameter buffer, re-packed first if the user replaced
    coefs_ / intercepts_ by other arrays."""
    params = getattr(est, "_params", None)
    arrays = list(est.coefs_) + list(est.intercepts_)
    if params is not None:
        base = params.ctypes.data
        item = params.itemsize
        off = 0
        ok = True
        for a in arrays:
            if (
                not isinstance(a, np.ndarray)
                or a.dtype != params.dtype
                or a.ctypes.data != base + off * item
                or not a.flags.c_contiguous
            ):
                ok = False
                break
            off += a.size
        if ok and off == params.size:
            return params
    coefs = [np.asarray(c) for c in est.coefs_]
    intercepts = [np.asarray(b) for b in est.intercepts_]
    if not coefs or len(coefs) != len(intercepts) or coefs[0].ndim != 2:
        raise ValueError(
            f"coefs_ ({len(coefs)} arrays) and intercepts_ ({len(intercepts)} "
            "arrays) do not describe a network: they must be lists of the same "
            "length of 2-D and 1-D arrays."
        )
    layer_units = [coefs[0].shape[0]] + [b.shape[0] if b.ndim else -1 for b in intercepts]
    for i, (c, b) in enumerate(zip(coefs, intercepts)):
        expected = (layer_units[i], layer_units[i + 1])
        if c.shape != expected or b.ndim != 1:
            raise ValueError(
                f"coefs_[{i}] has shape {c.shape} and intercepts_[{i}] has shape "
                f"{b.shape}; for layer sizes {layer_units} they must have shapes "
                f"{expected} and ({expected[1]},)."
            )
    dtype = np.result_type(*[a.dtype for a in coefs + intercepts])
    if dtype not in (np.float32, np.float64):
        dtype = np.float64
    layout = Layout(layer_units)
    params = layout.pack(coefs + intercepts, dtype)
    set_buffer(est, params, layout)
    return params


def network(est, layout=None):
    """The engine's ``Network`` for the estimator (its layout by default)."""
    if layout is None:
        layout = Layout.of(est)
    loss = est.loss
    if loss == "log_loss" and est.out_activation_ == "logistic":
        loss = "binary_log_loss"
    return _train.Network(layout.units, est.activation, loss, est.out_activation_)


# ----------------------------------------------------------------------
# X as the engine reads it
# ----------------------------------------------------------------------
def check_blas_dims(n_samples, n_features):
    """Refuse sizes the 32-bit BLAS cannot address, before any BLAS call
    (the limit is the engine's ``_train._INT32_MAX``)."""
    if n_features > _train._INT32_MAX or n_samples > _train._INT32_MAX:
        raise ValueError(
            f"X has shape ({n_samples}, {n_features}); cymlp's BLAS uses 32-bit "
            "sizes, so both dimensions must be below 2**31."
        )


def engine_input(X, dtype):
    """X as the engine reads it: a C-contiguous array, or the CSR arrays of a
    sparse matrix (CSC is re-indexed to CSR; nothing is densified)."""
    if sp.issparse(X):
        X = X.tocsr()
        return _train.CSR(
            np.ascontiguousarray(X.data, dtype=dtype),
            np.ascontiguousarray(X.indices, dtype=np.intp),
            np.ascontiguousarray(X.indptr, dtype=np.intp),
            X.shape,
        )
    return np.ascontiguousarray(X, dtype=dtype)


# ----------------------------------------------------------------------
# pickling: the buffer once, without its views
# ----------------------------------------------------------------------
def getstate(est, state):
    """``state`` (BaseEstimator's ``__getstate__``) with ``_params`` stored
    once: the views dropped, the layer sizes kept to rebuild them."""
    if "_params" in state:
        state = dict(state)
        state["_params"] = flat_params(est)
        state.pop("coefs_", None)
        state.pop("intercepts_", None)
        state["_layer_units"] = Layout.of(est).units
    return state


def split_state(state):
    """``(state, layout)`` for ``__setstate__``: the layout of the views to
    rebuild (None if unfitted), and a writable ``_params``."""
    state = dict(state)
    layer_units = state.pop("_layer_units", None)
    params = state.get("_params")
    if isinstance(params, np.ndarray) and not params.flags.writeable:
        # e.g. joblib.load(mmap_mode="r"): the engine needs writable buffers
        state["_params"] = params.copy()
    return state, (None if layer_units is None else Layout(layer_units))
