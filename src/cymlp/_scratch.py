"""What partial_fit keeps between calls: scratch, never fitted state.

A stream calls ``partial_fit`` thousands of times on chunks of the same
shape; what each call used to build afresh (the engine's ``Network``, its
minibatch ``Workspace``, the gradient buffer, the failure snapshot's copies
of the weights and optimizer moments, a seeded ``RandomState``) is kept here,
one ``Scratch`` per estimator, and reused when it fits the call.

Nothing here is part of the model. The table is keyed weakly by the
estimator object, so the scratch dies with it, and is never pickled, saved,
copied (``copy.deepcopy``, ``clone``) or restored by a failed call: a copy or
a loaded model starts without one. Every item is checked against the call
that reuses it (layer sizes, activation, loss, batch size, dtype, sizes), so
nothing needs invalidating when the estimator changes (``set_params``, a
``fit`` with other layer sizes, a warm start, float32 after float64...): a
mismatch builds a new one. ``fit`` drops the estimator's scratch (it allocates
per call, and a fitted model should not keep partial_fit's buffers).
"""

import weakref
from itertools import chain as _chain

import numpy as np

from cymlp import _train

_TABLE = weakref.WeakKeyDictionary()


def get(est):
    """The estimator's scratch, created on first use."""
    scratch = _TABLE.get(est)
    if scratch is None:
        scratch = _TABLE[est] = Scratch()
    return scratch


def peek(est):
    """The estimator's scratch, or None (never creates one)."""
    return _TABLE.get(est)


def drop(est):
    """Forget the estimator's scratch (fit: nothing of partial_fit's is kept)."""
    _TABLE.pop(est, None)


class Scratch:
    """Buffers and engine objects of one estimator's partial_fit calls.

    It holds no reference to the estimator (the table's key is weak).
    """

    __slots__ = ("_engine", "_views", "_backups", "_rngs", "_classes", "_target")

    def __init__(self):
        self._engine = None     # (key, Network, Workspace, grads)
        self._views = None      # the parameter buffer and its views (see views)
        self._backups = {}      # role -> buffer of the failure snapshot
        self._rngs = []         # two RandomStates, taken in turn
        self._classes = None    # (classes=, classes_) last checked by scikit-learn
        self._target = None     # the float training targets of the last call

    # ------------------------------------------------------------------
    # the engine: Network, Workspace, gradient buffer
    # ------------------------------------------------------------------
    def engine(self, key, network, batch_size, dtype, gather_x):
        """``(Network, Workspace, grads)``: the previous call's when ``key``
        (what the Network is built from: layer sizes, activation, loss,
        output activation), the batch size, the dtype and ``gather_x`` are
        all the same (the Workspace's buffers are scratch that every
        minibatch overwrites; the Network is immutable); otherwise new ones,
        the Network from ``network()``."""
        dtype = np.dtype(dtype)
        key = (key, int(batch_size), dtype, bool(gather_x))
        cached = self._engine
        if cached is not None and cached[0] == key:
            return cached[1:]
        self._engine = None  # a failed build keeps nothing stale
        net = network()
        ws = _train.Workspace(net, batch_size, dtype, gather_x)
        grads = np.empty(net.n_params, dtype=dtype)
        self._engine = (key, net, ws, grads)
        return net, ws, grads

    @staticmethod
    def network_key(est, layout):
        """What the engine's Network of ``est`` is built from (``engine``'s
        ``key``): layer sizes, activation, loss, output activation."""
        return (tuple(layout.units), est.activation, est.loss, est.out_activation_)

    # ------------------------------------------------------------------
    # the parameter buffer and its views, as the previous call left them
    # ------------------------------------------------------------------
    def views(self, est):
        """``(params, layout)`` as ``_state.flat_params(est)`` and
        ``_state.Layout.of(est)`` would give them, if ``est._params``,
        ``coefs_``, ``intercepts_`` and every array in them are the very
        objects ``remember_views`` saw, with the same shapes and still
        C-contiguous (an array's shape and strides can be set in place);
        else None. Identity of the views means the same memory: what
        flat_params checks by address."""
        seen = self._views
        if seen is None:
            return None
        params, coefs, intercepts, arrays, shapes, layout = seen
        d = est.__dict__
        if (d.get("_params") is not params or d.get("coefs_") is not coefs
                or d.get("intercepts_") is not intercepts
                or len(coefs) + len(intercepts) != len(arrays)):
            return None
        dtype = params.dtype
        for a, b, shape in zip(arrays, _chain(coefs, intercepts), shapes):
            if (a is not b or a.shape != shape or a.dtype != dtype
                    or not a.flags.c_contiguous):
                return None
        return params, layout

    def remember_views(self, est, params, layout):
        """Record the buffer and views ``flat_params(est)`` just returned as
        ``params``, of ``layout``."""
        d = est.__dict__
        coefs, intercepts = d["coefs_"], d["intercepts_"]
        arrays = tuple(coefs) + tuple(intercepts)
        self._views = (params, coefs, intercepts, arrays, tuple(a.shape for a in arrays),
                       layout)

    # ------------------------------------------------------------------
    # the failure snapshot's copies
    # ------------------------------------------------------------------
    def backup(self, role, array):
        """A copy of ``array`` in this scratch's buffer for ``role`` (reused
        while size and dtype stay: no allocation, no page faults per call).
        The copy is valid until the next ``backup`` of the same role."""
        buf = self._backup_buffer(role, array)
        buf[...] = array
        return buf

    def _backup_buffer(self, role, array):
        buf = self._backups.get(role)
        if (buf is None or buf.shape != array.shape
                or (buf.dtype is not array.dtype and buf.dtype != array.dtype)):
            buf = self._backups[role] = np.empty_like(array, order="C")
        return buf

    # ------------------------------------------------------------------
    # the training targets
    # ------------------------------------------------------------------
    def target(self, rows, cols, dtype):
        """A C-contiguous ``rows`` x ``cols`` array of ``dtype`` for a call's
        binarized targets (the previous call's when the shape and dtype are
        the same: the engine only reads it during the call)."""
        buf = self._target
        if buf is None or buf.shape != (rows, cols) or buf.dtype != dtype:
            buf = self._target = np.empty((rows, cols), dtype=dtype)
        return buf

    def backup_all(self, roles, arrays):
        """``[self.backup(role, a) for role, a in zip(roles, arrays)]``, the
        copies made by one call to the engine (``_train.copy_into``)."""
        bufs = [self._backup_buffer(role, a) for role, a in zip(roles, arrays)]
        _train.copy_into(arrays, bufs)
        return bufs

    # ------------------------------------------------------------------
    # check_random_state(int) without building a RandomState per call
    # ------------------------------------------------------------------
    def seeded(self, seed, current):
        """``np.random.RandomState(seed)``'s equal (the same legacy seeding,
        the same state), without the cost of building one: one of two kept
        RandomStates, never ``current`` (the estimator's present one, which a
        failed call restores by reference and so must stay untouched)."""
        rngs = self._rngs
        if not rngs:
            rngs.extend([np.random.RandomState(seed), np.random.RandomState(seed)])
            rng = rngs[0]
        else:
            rng = rngs[1] if rngs[0] is current else rngs[0]
            rng.seed(seed)
        return rng

    # ------------------------------------------------------------------
    # partial_fit's classes=: scikit-learn's check, once per value
    # ------------------------------------------------------------------
    def classes_checked(self, classes, classes_):
        """True if scikit-learn's ``_check_partial_fit_first_call(est,
        classes)`` is known to pass as a later call (no error, returns False)
        for these values: the same ``classes`` (type, dtype, shape, values) as
        one it passed for, against the same ``classes_`` (dtype, shape,
        values). Its outcome is a function of those alone
        (``np.array_equal(classes_, unique_labels(classes))``)."""
        seen = self._classes
        return (
            seen is not None
            and classes_ is not None
            and same_values(classes, seen[0])
            and same_values(classes_, seen[1])
        )

    def remember_classes(self, classes, classes_):
        """Record that scikit-learn's check passed for ``classes`` against
        ``classes_`` (plain NumPy arrays of numbers or strings only: an object
        array's labels are compared by more than their values)."""
        if _plain_labels(classes) and _plain_labels(classes_):
            self._classes = (classes.copy(), classes_.copy())
        else:
            self._classes = None


def _plain_labels(a):
    return type(a) is np.ndarray and a.ndim == 1 and a.dtype.kind in "biufUS"


def same_values(a, b):
    """a is an ndarray of b's dtype and shape, with equal values (for a small
    array, the same bytes: equal values, and the same NaNs and zero signs,
    which a check depending on the values alone passes as well; 0.3 us where
    ``(a == b).all()`` costs 2.5)."""
    if type(a) is not np.ndarray or a.shape != b.shape or (
            a.dtype is not b.dtype and a.dtype != b.dtype):
        return False
    if a.size <= 4096 and a.dtype.kind in "biufUS":
        return a.tobytes() == b.tobytes()
    return bool((a == b).all())


def identity(n):
    """A read-only ``np.eye(n, dtype=bool)``, built once per n (kept for the
    sizes of recent calls)."""
    eye = _EYES.get(n)
    if eye is None:
        if len(_EYES) > 16:
            _EYES.clear()
        eye = np.eye(n, dtype=bool)
        eye.flags.writeable = False
        _EYES[n] = eye
    return eye


_EYES = {}
