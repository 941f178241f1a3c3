"""What fit and partial_fit do around the solvers, and what a failed call undoes.

``BaseMultilayerPerceptron._fit`` is the whole of fit and partial_fit, in
one pass: validate X and y (the estimator's ``_validate_input``: labels for
the classifier, numeric targets for the regressor), derive the layer sizes,
draw the initial weights (first fit) or check them against the previous fit
(warm start, partial_fit), train with one of ``cymlp._solvers`` and refuse
non-finite weights. Everything it may change is snapshotted first and
restored if anything fails, so a failed call leaves a fitted model exactly as
it was (scikit-learn's would be half-updated).

The base class also holds what both estimators share around the engine:
prediction's call into it, pickling (through ``cymlp._state``) and ``save``.
"""

import functools
from abc import ABC, abstractmethod
from numbers import Integral

import numpy as np
import scipy.sparse as sp
from sklearn import get_config
from sklearn.base import BaseEstimator, _fit_context, is_classifier
from sklearn.utils import assert_all_finite, check_random_state, column_or_1d
from sklearn.utils.validation import validate_data

from cymlp import _callbacks, _class_weight, _persist, _scratch, _state, _train
from cymlp._solvers import (STOCHASTIC_SOLVERS, _Optimizer, fit_lbfgs, fit_stochastic,
                            partial_epoch)
from cymlp._state import check_blas_dims, engine_input

_SNAPSHOT_EXTRA = "<restore in place>"  # a key no attribute can have
# scikit-learn's callback machinery (set_callbacks, the fit's context, what a
# meta-estimator propagates): a failed fit leaves it to the callbacks' teardown
_CALLBACK_ATTRS = frozenset(
    {"_skl_callbacks", "_callback_fit_ctx", "_skl_callbacks_to_teardown", "_parent_callback_ctx"}
)
_PLAIN_ARRAYS = (np.ndarray, np.memmap)
# the per-epoch records: fit only appends to them (or rebinds them)
_APPENDED = frozenset(["loss_curve_", "validation_scores_"])
# attribute values a fit only ever rebinds (never mutates): kept by reference
_KEPT_TYPES = frozenset([int, float, str, bool, type(None), np.float64, np.float32,
                         np.int64, np.random.RandomState])
_FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))

# what predict and predict_proba run: a subclass overriding any is not given
# the fast path (it would bypass the override)
_PREDICTION_METHODS = ("predict", "predict_proba", "_predict", "_forward_pass_fast",
                       "_forward_plain", "_decode")


_NON_FINITE = ("Solver produced non-finite parameter weights. The input data may"
               " contain large values and need to be preprocessed.")
_NON_FINITE_STOCHASTIC = (" The learning rate may be too large (try a smaller "
                          "learning_rate_init).")
# what partial_fit's lean path may rebind (besides what it restores in place)
_PLAIN_CHANGES = ("n_outputs_", "_random_state", "n_iter_", "loss_", "t_", "best_loss_",
                  "_no_improvement_count")
_PLAIN_BACKUPS = ("_params", "state1", "state2")  # the scratch's roles of its copies
# what the lean path reads from the instance's dict; a class defining any of
# them (a property...) is not given the lean path
_PLAIN_INSTANCE_ATTRS = ("verbose", "early_stopping", "_skl_callbacks", "_parent_callback_ctx",
                         "_callback_fit_ctx", "class_weight", "random_state", "max_iter",
                         "hidden_layer_sizes", "warm_start")
# what training runs: a subclass overriding any is not given the lean path
_TRAINING_METHODS = ("partial_fit", "_fit", "_partial_fit_lean", "_partial_fit_plain",
                     "_validate_input", "_validated_xy", "_validated_as_is", "_known_labels",
                     "_binarize", "_snapshot", "_restore", "_initialize", "_init_params",
                     "_score")


def _plain_hidden(hidden):
    """``list(hidden_layer_sizes)`` (an int: one layer) if every size is a
    positive int, else None; for a tuple, the one seen last is remembered (a
    tuple of ints cannot change)."""
    global _LAST_HIDDEN
    last = _LAST_HIDDEN  # one read: a pair another thread may replace, never tear
    if hidden is last[0]:
        return last[1]
    sizes = list(hidden) if hasattr(hidden, "__iter__") else [hidden]
    if not all(type(h) is int and h > 0 for h in sizes):
        return None
    if type(hidden) is tuple:
        _LAST_HIDDEN = (hidden, sizes)
    return sizes


_LAST_HIDDEN = (object(), None)


def _static(cls, name):
    """The class attribute ``name`` as stored (a descriptor such as
    available_if's builds a new function on each access)."""
    return next((c.__dict__[name] for c in cls.__mro__ if name in c.__dict__), None)


def _cheap_fit_context():
    """The thread-local configuration dict of scikit-learn 1.9's ``_config``
    module when ``partial_fit_context`` can reproduce its ``_fit_context``
    (the scikit-learn whose decorator it was written from), else None."""
    import sklearn
    from sklearn import _config

    if not sklearn.__version__.startswith("1.9."):
        return None
    get = getattr(_config, "_get_threadlocal_config", None)
    if get is None or set(get()) != set(get_config()):
        return None
    return get


_THREADLOCAL_CONFIG = _cheap_fit_context()


def partial_fit_context(method):
    """``partial_fit`` within scikit-learn's
    ``_fit_context(prefer_skip_nested_validation=True)`` and the callbacks'
    teardown (``_callbacks.managed``), for the price of a dictionary copy on
    a fitted estimator.

    For a partial_fit on a fitted estimator, scikit-learn 1.9's
    ``_fit_context`` validates no parameter (``_is_fitted`` is true) and runs
    the method within ``config_context(skip_parameter_validation=True)`` and
    ``callback_management_context`` (the callbacks' teardown, after the
    method, under that configuration); ``config_context`` then sets every
    key back (``set_config(**old)``). Here the same on the thread-local
    configuration itself: the fitted test as ``_is_fitted``'s (an attribute
    ending in "_": ``coefs_``), the same key set to True, the teardown inside
    (managed's), the whole configuration back after. 30 us of a 200-row
    partial_fit's 250 us otherwise (``_is_fitted`` lists ``vars(est)``,
    ``set_config`` runs twice). The plain call (``_partial_fit_lean``) is
    tried first, before the method. Anything else (the first call, a class with
    ``__sklearn_is_fitted__``, array API dispatch, whose restore revalidates,
    another scikit-learn) takes scikit-learn's own ``_fit_context``.
    """
    @functools.wraps(method)
    def lean_first(est, *args, **kwargs):
        if "coefs_" in est.__dict__ and est._partial_fit_lean(args, kwargs):
            return est
        return method(est, *args, **kwargs)

    # in scikit-learn's context: the lean path, then the method
    full = _fit_context(prefer_skip_nested_validation=True)(_callbacks.managed(lean_first))
    if _THREADLOCAL_CONFIG is None:
        return full
    managed = _callbacks.managed(method)
    local_config = _THREADLOCAL_CONFIG

    @functools.wraps(method)
    def partial_fit(est, *args, **kwargs):
        if "coefs_" not in est.__dict__ or hasattr(type(est), "__sklearn_is_fitted__"):
            return full(est, *args, **kwargs)
        config = local_config()
        old = config.copy()
        if old["array_api_dispatch"]:
            return full(est, *args, **kwargs)
        config["skip_parameter_validation"] = True
        try:
            # the plain call opens no callback context: no teardown to run
            if est._partial_fit_lean(args, kwargs):
                return est
            return managed(est, *args, **kwargs)
        finally:
            config.update(old)

    return partial_fit


def _all_finite(a):
    """Whether every value of the C-contiguous float32 / float64 array ``a`` is
    finite: the engine's one-pass check (no mask as large as ``a``, no
    floating-point warning; 20,000 float32 in about 1 us)."""
    return _train.all_finite(a.reshape(-1))


class BaseMultilayerPerceptron(_callbacks.CallbackSupport, BaseEstimator, ABC):
    """Base class for the cymlp MLP estimators. Use the subclasses."""

    @abstractmethod
    def __init__(
        self,
        hidden_layer_sizes,
        activation,
        solver,
        alpha,
        batch_size,
        learning_rate,
        learning_rate_init,
        power_t,
        max_iter,
        loss,
        shuffle,
        random_state,
        tol,
        verbose,
        warm_start,
        momentum,
        nesterovs_momentum,
        early_stopping,
        validation_fraction,
        beta_1,
        beta_2,
        epsilon,
        n_iter_no_change,
        max_fun,
    ):
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.loss = loss
        self.hidden_layer_sizes = hidden_layer_sizes
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun

    # ------------------------------------------------------------------
    # fit and partial_fit
    # ------------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    @_callbacks.managed
    def fit(self, X, y, sample_weight=None):
        """Fit the model to data matrix X and target(s) y.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            The target values (class labels in classification, real numbers in
            regression).
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        self : object
            Returns a trained MLP model.
        """
        return self._fit(X, y, sample_weight, incremental=False)

    def _fit(self, X, y, sample_weight, incremental, before=None):
        """fit (``incremental=False``) and partial_fit: ``before()`` (the
        classifier's first-call labels), then validate, initialize or check
        the network, train and check the weights; if anything raises, the
        estimator is restored exactly as it was.

        partial_fit keeps its scratch between calls (``cymlp._scratch``: the
        engine's objects, the snapshot's copies, a seeded RandomState); fit
        drops it."""
        if incremental:
            scratch = _scratch.get(self)
        else:
            _scratch.drop(self)
            scratch = None
        snapshot = self._snapshot(scratch)
        try:
            if before is not None:
                before()
            hidden_layer_sizes = self.hidden_layer_sizes
            if not hasattr(hidden_layer_sizes, "__iter__"):
                hidden_layer_sizes = [hidden_layer_sizes]
            hidden_layer_sizes = list(hidden_layer_sizes)
            if all(type(h) is int for h in hidden_layer_sizes):  # the usual: no array
                too_small = any(h <= 0 for h in hidden_layer_sizes)
            else:
                too_small = np.any(np.array(hidden_layer_sizes) <= 0)
            if too_small:
                raise ValueError(
                    "hidden_layer_sizes must be > 0, got %s." % hidden_layer_sizes
                )
            first_pass = not hasattr(self, "coefs_") or (
                not self.warm_start and not incremental
            )

            X, y = self._validate_input(X, y, incremental, reset=first_pass)
            n_samples, n_features = X.shape
            check_blas_dims(n_samples, n_features)
            # the training loss's weights (class_weight x sample_weight) and the user's
            sample_weight, user_sample_weight = _class_weight.sample_weights(
                self, X, y, sample_weight, incremental)
            if y.ndim == 1:
                y = y.reshape((-1, 1))
            self.n_outputs_ = y.shape[1]
            layer_units = [n_features] + hidden_layer_sizes + [self.n_outputs_]
            _train.check_layer_units(layer_units)

            seed = self.random_state
            if scratch is not None and isinstance(seed, Integral):
                # check_random_state(seed) is np.random.RandomState(seed): the
                # same state, from a kept RandomState reseeded (building one
                # costs more than a 200-row minibatch)
                self._random_state = scratch.seeded(seed, self.__dict__.get("_random_state"))
            else:
                self._random_state = check_random_state(seed)
            known = None
            if first_pass:
                layout = _state.Layout(layer_units)
                self._initialize(y, layout, X.dtype)
            else:
                known = scratch.views(self) if scratch is not None else None
                layout = known[1] if known is not None else _state.Layout.of(self)
                if layout.units != layer_units:
                    raise ValueError(
                        f"The network of the previous fit has layer sizes {layout.units}; "
                        f"this call needs {layer_units}. Use warm_start=False to start over."
                    )
            if known is not None:
                params = known[0]  # what flat_params returns: coefs_ are its views
            else:
                params = _state.writable_params(self)  # a read-only (memmap) model: a copy
                if scratch is not None:
                    scratch.remember_views(self, params, layout)
            if params.dtype != X.dtype:
                # keep training in the model's dtype (warm start / partial_fit)
                X = X.astype(params.dtype)
                same = user_sample_weight is sample_weight
                if sample_weight is not None:
                    sample_weight = sample_weight.astype(params.dtype)
                user_sample_weight = sample_weight if same else (
                    None if user_sample_weight is None
                    else user_sample_weight.astype(params.dtype))
            Y = np.ascontiguousarray(y, dtype=params.dtype)

            # callbacks (sklearn.callback): the root task; None without callbacks
            stochastic = self.solver in STOCHASTIC_SOLVERS
            watch = _callbacks.start(
                self, "partial_fit" if incremental else "fit",
                (1 if incremental else self.max_iter) if stochastic else self.max_iter + 1,
                X, _callbacks.labels(self, Y), user_sample_weight,
            )
            if stochastic:
                fit_stochastic(self, X, Y, sample_weight, layout, incremental, watch=watch,
                               user_sample_weight=user_sample_weight, params=params)
            else:
                fit_lbfgs(self, X, Y, sample_weight, layout, incremental, watch=watch,
                          user_sample_weight=user_sample_weight)

            if not _all_finite(params):  # trained in place: the same buffer
                hint = _NON_FINITE_STOCHASTIC if self.solver in STOCHASTIC_SOLVERS else ""
                raise ValueError(_NON_FINITE + hint)
            if watch is not None:
                watch.end()
        except BaseException:
            self._restore(snapshot)
            raise
        return self

    def _partial_fit_plain(self, X, y, classes=None):
        """partial_fit's lean path: True once it has trained on ``(X, y)``
        exactly as ``_fit(X, y, None, incremental=True)`` would (the same
        weights, records, optimizer and RandomState; the same error, and
        nothing changed, if it fails); None, having changed nothing, when the
        call is not the plain one, and the caller then runs ``_fit``.

        Plain: a cymlp class that trains as its own (no overridden training
        method), no callback, no sample_weight or class_weight, no early
        stopping, no verbose output, an integer or None random_state, a
        classifier without warm_start; the state the previous partial_fit
        left (the scratch's views, the optimizer and records of the
        stochastic solvers), the same layer sizes and dtype; an X and y that
        ``_validated_as_is`` passes, labels that ``_known_labels`` finds
        (``classes=`` as one already checked), a batch that needs no
        clipping warning. Everything ``_fit`` checks is checked in its order
        or falls back to it, so that every error and warning stays
        ``_fit``'s. What this path may change is saved first (the few
        attributes, the lengths of the records, the buffer copies of the
        weights and optimizer moments, the optimizer's attributes) and put
        back if anything raises.
        """
        d = self.__dict__
        scratch = _scratch.peek(self)
        plain = type(self)._trains_plainly()  # (plain, a classifier)
        # read from the instance's dict: _trains_plainly vouches that the
        # class defines none of these names (_PLAIN_INSTANCE_ATTRS)
        if (scratch is None or not plain[0] or d.get("verbose")
                or d.get("early_stopping") or d.get("_skl_callbacks")
                or "_parent_callback_ctx" in d or "_callback_fit_ctx" in d
                or d.get("class_weight") is not None):
            return None
        seed = d.get("random_state")
        if seed is not None and type(seed) is not int and not isinstance(seed, Integral):
            return None
        max_iter = d.get("max_iter")
        if type(max_iter) is not int or max_iter < 1:
            return None  # not validated in partial_fit: _fit's loop runs max_iter times
        opt = d.get("_optimizer")
        curve = d.get("loss_curve_")
        if (type(opt) is not _Optimizer or type(curve) is not list
                or d.get("best_loss_") is None or "t_" not in d):
            return None
        known = scratch.views(self)
        if known is None:
            return None
        params, layout = known
        hidden = _plain_hidden(d.get("hidden_layer_sizes"))
        if hidden is None:
            return None
        classifier = plain[1]  # is_classifier (its tags cost 30 us per call)
        if classifier and (d.get("warm_start") or (
                classes is not None
                and not scratch.classes_checked(classes, d.get("classes_")))):
            return None
        # X's NaN / infinity test rides on the engine's gather of the shuffled
        # rows (it reads each row once anyway): a failure there puts
        # everything back and hands the call to _fit, which raises
        # scikit-learn's error. Not with random_state=None: the global
        # RandomState's draws could not be put back.
        config = get_config() if _THREADLOCAL_CONFIG is None else _THREADLOCAL_CONFIG()
        defer_x = self.shuffle and seed is not None and not config["assume_finite"]
        checked = self._validated_as_is(X, y, y_2d=not classifier, check_x=not defer_x)
        if checked is None:
            return None
        X, y = checked
        if classifier:
            Y = self._known_labels(y, target=lambda rows, cols: scratch.target(
                rows, cols, params.dtype))
            if Y is None:
                return None
        else:
            if self.loss == "poisson" and np.any(y < 0):
                return None
            Y = y.reshape((-1, 1)) if y.ndim == 1 else y
        n_samples, n_features = X.shape
        check_blas_dims(n_samples, n_features)  # raises as _fit would, here
        if (layout.units != [n_features, *hidden, Y.shape[1]]
                or params.dtype is not X.dtype):
            return None
        batch_size = self.batch_size
        if batch_size == "auto":
            batch_size = min(200, n_samples)
        elif batch_size > n_samples:
            return None  # _fit's clipping warning
        else:
            batch_size = int(min(max(batch_size, 1), n_samples))

        # what this call may change, put back on failure
        saved = {k: d[k] for k in _PLAIN_CHANGES if k in d}
        n_keys = len(d)  # nothing below deletes a key: added ones come last
        opt_state = dict(opt.__dict__)
        arrays = (params, opt.state1, opt.state2)
        in_place = list(zip(arrays, scratch.backup_all(_PLAIN_BACKUPS, arrays)))
        n_curve = len(curve)
        try:
            d["n_outputs_"] = Y.shape[1]
            if seed is None:
                self._random_state = check_random_state(seed)
            else:
                self._random_state = scratch.seeded(seed, d.get("_random_state"))
            partial_epoch(self, scratch, X, np.ascontiguousarray(Y, dtype=params.dtype), layout,
                          params, batch_size, defer_x)
            if not _train.all_finite(params):  # params: the flat buffer
                raise ValueError(_NON_FINITE + _NON_FINITE_STOCHASTIC)
        except BaseException as exc:
            for k in list(d)[n_keys:]:
                del d[k]
            d.update(saved)
            opt.__dict__.clear()
            opt.__dict__.update(opt_state)
            del curve[n_curve:]
            for array, copy in in_place:
                array[...] = copy
            if defer_x and type(exc) is ValueError and str(exc) == _train.X_NOT_FINITE:
                return None  # _fit raises scikit-learn's error for X
            raise
        return True

    @classmethod
    def _trains_plainly(cls):
        """``(plain, classifier)``: whether the class trains as cymlp's own
        classes (no overridden training method: a subclass's own code is
        always run), and whether that class is the classifier. Cached."""
        plain = cls.__dict__.get("_cymlp_trains_plain")
        if plain is None:
            own = next(c for c in cls.__mro__ if c.__module__ == "cymlp")
            plain = (all(_static(cls, m) is _static(own, m) for m in _TRAINING_METHODS)
                     and _static(cls, "__sklearn_tags__") is _static(own, "__sklearn_tags__")
                     and not any(a in c.__dict__ for c in cls.__mro__
                                 for a in _PLAIN_INSTANCE_ATTRS),
                     _static(own, "_known_labels") is not None)
            cls._cymlp_trains_plain = plain
        return plain

    def _validated_xy(self, X, y, incremental, reset, y_2d, y_numeric=False):
        """``(X, y)`` as scikit-learn's MLPs validate them (``validate_data``,
        then a one-column y made 1-D with its warning); for partial_fit,
        without the call when ``_validated_as_is`` vouches for them."""
        checked = self._validated_as_is(X, y, y_2d=y_2d) if incremental else None
        if checked is not None:
            X, y = checked
        else:
            X, y = validate_data(self, X, y, accept_sparse=["csr", "csc"], multi_output=True,
                                 y_numeric=y_numeric, dtype=(np.float64, np.float32),
                                 order="C", reset=reset)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        return X, y

    def _validated_as_is(self, X, y, y_2d, check_x=True):
        """``(X, y)`` as NumPy arrays if scikit-learn's ``validate_data(self,
        X, y, reset=False, accept_sparse=["csr", "csc"], multi_output=True,
        dtype=(np.float64, np.float32), order="C")`` (``y_numeric`` too)
        would return them unchanged, with no error and no warning; else None,
        and the caller runs validate_data itself.

        partial_fit's fast path (validate_data costs more than a 200-row
        minibatch): only for what needs no conversion and no message, checked
        as scikit-learn checks it. X: an ndarray (or memmap) of float32 /
        float64, 2-D, C-contiguous, at least one row and one column, as many
        features as fitted, and no feature names on either side (a fitted
        ``feature_names_in_`` makes validate_data warn about an array). y: an
        ndarray of numbers (no object, string or complex dtype), of X's
        length, 1-D (or 2-D with several columns if ``y_2d``: one column is
        column_or_1d's warning). Every value finite (skipped under
        ``assume_finite``, as check_array skips it); anything else goes to
        validate_data, which then raises or accepts exactly as it would have.
        """
        if (type(X) not in _PLAIN_ARRAYS or type(y) not in _PLAIN_ARRAYS
                or X.ndim != 2 or X.dtype not in _FLOAT_DTYPES or not X.flags.c_contiguous
                or y.dtype.kind not in "biuf"):
            return None
        if y.ndim != 1 and not (y_2d and y.ndim == 2 and y.shape[1] > 1):
            return None
        n_samples, n_features = X.shape
        if (n_samples < 1 or n_features < 1 or y.shape[0] != n_samples
                or self.__dict__.get("n_features_in_") != n_features
                or "feature_names_in_" in self.__dict__):
            return None
        # read in place where partial_fit_context can (get_config copies it)
        config = get_config() if _THREADLOCAL_CONFIG is None else _THREADLOCAL_CONFIG()
        if config["array_api_dispatch"]:
            return None
        # an O(1)-memory test (np.isfinite(X) would allocate a mask as large as
        # X): see _all_finite; an X it cannot vouch for goes to validate_data,
        # which then checks value by value
        if not config["assume_finite"] and not (
                (not check_x or _all_finite(X))
                and (y.dtype.kind != "f" or np.isfinite(np.sum(y)))):
            return None
        # np.asarray as check_array's: a memmap's chunk becomes an ndarray view
        return (X if type(X) is np.ndarray else np.asarray(X),
                y if type(y) is np.ndarray else np.asarray(y))

    # ------------------------------------------------------------------
    # initialization
    # ------------------------------------------------------------------
    def _init_params(self, layout, dtype):
        """Glorot-uniform draws in scikit-learn's order, into one flat buffer."""
        factor = 2.0 if self.activation == "logistic" else 6.0
        _state.set_buffer(self, np.empty(layout.n_params, dtype=dtype), layout)
        # drawn in float64, layer by layer, straight into the flat buffer
        for coef, intercept in zip(self.coefs_, self.intercepts_):
            fan_in, fan_out = coef.shape
            bound = np.sqrt(factor / (fan_in + fan_out))
            coef[...] = self._random_state.uniform(-bound, bound, (fan_in, fan_out))
            intercept[...] = self._random_state.uniform(-bound, bound, fan_out)

    def _initialize(self, y, layout, dtype):
        """The first fit's attributes and initial weights (scikit-learn's
        ``_initialize``)."""
        self.n_iter_ = 0
        self.t_ = 0
        self.n_outputs_ = y.shape[1]
        self.n_layers_ = len(layout.units)
        if not is_classifier(self):
            self.out_activation_ = "exp" if self.loss == "poisson" else "identity"
        elif self._label_binarizer.y_type_ == "multiclass":
            self.out_activation_ = "softmax"
        else:
            self.out_activation_ = "logistic"
        self._init_params(layout, dtype)
        self._best_coefs = [c.copy() for c in self.coefs_]
        self._best_intercepts = [i.copy() for i in self.intercepts_]
        if self.solver in STOCHASTIC_SOLVERS:
            self.loss_curve_ = []
            self._no_improvement_count = 0
            if self.early_stopping:
                self.validation_scores_ = []
                self.best_validation_score_ = -np.inf
                self.best_loss_ = None
            else:
                self.best_loss_ = np.inf
                self.validation_scores_ = None
                self.best_validation_score_ = None

    # ------------------------------------------------------------------
    # failure atomicity
    # ------------------------------------------------------------------
    def _snapshot(self, scratch=None):
        """Everything fit may change, to restore on failure.

        Fitting rebinds attributes to new objects, except for the few it
        mutates in place: the flat parameter buffer, the optimizer and the
        per-epoch lists. The lists are copied; the buffer and the optimizer's
        state arrays are copied aside (into ``scratch``'s kept buffers when
        given: partial_fit allocates nothing per call) and restored in place,
        so coefs_/intercepts_ (and views a user holds) stay views of the same
        buffer; the rest is kept by reference (nothing per layer or per
        label). A RandomState passed as random_state is rewound (the global
        NumPy RNG of None is not).
        """
        d = self.__dict__
        skip = self._snapshot_skip()
        snap = d.copy()  # everything by reference, then the exceptions
        for k in skip.intersection(d):
            del snap[k]
        in_place = []  # (array, its copy), copied back on restore
        appended = []  # (list, its length), truncated back on restore
        optimizer = None
        for k in [k for k, v in snap.items() if type(v) not in _KEPT_TYPES]:
            v = snap[k]
            t = type(v)
            if k in _APPENDED:
                # one entry per epoch: its length, not a copy (a copy per call
                # would make a stream of n calls cost O(n**2))
                if t is list:
                    appended.append((v, len(v)))
            elif t is list:
                snap[k] = list(v)
            elif k == "_params" and isinstance(v, np.ndarray):
                saved = scratch.backup("_params", v) if scratch is not None else v.copy()
                in_place.append((v, saved))
            elif isinstance(v, np.ndarray):
                snap[k] = v.copy()
            elif isinstance(v, list):
                snap[k] = list(v)
            elif isinstance(v, _Optimizer):
                optimizer = (v, dict(v.__dict__))
                for name in ("state1", "state2"):
                    a = v.__dict__[name]
                    saved = (scratch.backup(name, a) if scratch is not None
                             else a.copy())
                    in_place.append((a, saved))
        rng = self.random_state
        rng = (rng, rng.get_state()) if isinstance(rng, np.random.RandomState) else None
        snap[_SNAPSHOT_EXTRA] = (in_place, appended, optimizer, rng)
        return snap

    def _restore(self, snapshot):
        snapshot = dict(snapshot)
        in_place, appended, optimizer, rng = snapshot.pop(_SNAPSHOT_EXTRA)
        params = self._param_names()
        for k in [k for k in self.__dict__ if k not in params and k not in _CALLBACK_ATTRS]:
            del self.__dict__[k]
        self.__dict__.update(snapshot)
        if optimizer is not None:
            opt, state = optimizer
            opt.__dict__.clear()
            opt.__dict__.update(state)
        for lst, n in appended:
            del lst[n:]
        for array, saved in in_place:
            if array.flags.writeable:  # read-only: untouched
                array[...] = saved
        if rng is not None:
            rng[0].set_state(rng[1])

    @classmethod
    def _snapshot_skip(cls):
        """What the snapshot leaves alone: the parameters and the callback
        machinery (cached per class)."""
        skip = cls.__dict__.get("_cymlp_snapshot_skip")
        if skip is None:
            skip = cls._param_names() | _CALLBACK_ATTRS
            cls._cymlp_snapshot_skip = skip
        return skip

    @classmethod
    def _param_names(cls):
        """The constructor's parameter names (cached: get_params inspects)."""
        names = cls.__dict__.get("_cymlp_param_names")
        if names is None:
            names = frozenset(cls._get_param_names())
            cls._cymlp_param_names = names
        return names

    # ------------------------------------------------------------------
    # pickling: the flat buffer once (see _state)
    # ------------------------------------------------------------------
    def __getstate__(self):
        return _state.getstate(self, super().__getstate__())

    def __setstate__(self, state):
        state, layout = _state.split_state(state)
        super().__setstate__(state)
        if layout is not None:
            _state.set_buffer(self, self._params, layout)

    def save(self, path):
        """Save the fitted model to ``path`` without pickle.

        The file holds data only (a versioned ``.npz`` of the weights, the
        fitted attributes and the optimizer state), so ``cymlp.load(path)``
        never runs code from it, and a loaded model predicts and continues
        training (``partial_fit``, warm-started ``fit``) exactly as this one.

        Parameters
        ----------
        path : str, path-like or binary file object
            Where to write. A file name is written via a temporary file in the
            same directory, then renamed, so a crash never leaves a truncated
            model.

        Raises
        ------
        NotFittedError
            If the model is not fitted.
        ValueError
            For a subclass, or labels or parameters that cannot be stored
            without pickle (a RandomState ``random_state`` is stored as None,
            with a warning).
        """
        _persist.save(self, path)

    def _check_solver(self):
        if self.solver not in STOCHASTIC_SOLVERS:
            raise AttributeError(
                "partial_fit is only available for stochastic"
                " optimizers. %s is not stochastic." % self.solver
            )
        return True

    # ------------------------------------------------------------------
    # prediction
    # ------------------------------------------------------------------
    def _forward_pass_fast(self, X, check_input=True):
        """Output-layer activations for X, computed by the engine without the GIL."""
        check_x = False
        if check_input:
            # dtype="numeric" as scikit-learn's predict (strings are an error).
            # A dense X is checked for NaN / infinity by the engine, in the
            # chunks it reads anyway (scikit-learn's own pass over X costs up to
            # 5 % of a predict on MNIST-shaped X); scikit-learn's check, run
            # only if the engine stops on a value, then gives its exact error.
            X = validate_data(self, X, accept_sparse=["csr", "csc"], reset=False,
                              ensure_all_finite=False)
            if not get_config()["assume_finite"]:
                if sp.issparse(X):  # only the stored values: no chunks to ride on
                    assert_all_finite(X, input_name="X", estimator_name=type(self).__name__)
                else:
                    check_x = True
        X_checked = X
        serving = _state.serving(self, plain=self._predicts_plainly())
        params = serving.params
        dtype = np.result_type(X.dtype, params.dtype)
        if dtype not in (np.float32, np.float64):
            dtype = np.float64
        if params.dtype == dtype:
            predictor = serving.predictor
        else:  # as NumPy would: the wider of X's and the model's dtypes
            predictor = _train.Predictor(serving.network, params.astype(dtype))
        check_blas_dims(*X.shape)
        X = engine_input(X, dtype)
        if self.n_outputs_ != serving.network.units[-1]:
            raise ValueError("X or out does not match the network")
        try:
            return predictor(X, check_x=check_x)
        except ValueError:
            if check_x:
                assert_all_finite(X_checked, input_name="X", estimator_name=type(self).__name__)
            raise

    def _forward_plain(self, X):
        """The fast path of predict and predict_proba: ``(serving, y)``, the
        current ``_state.Serving`` and the output-layer activations, for an X
        that is plainly what the engine reads; or None (the caller then takes
        ``_forward_pass_fast``, scikit-learn's validation).

        Plainly: an exact ndarray, 2-D, C-contiguous, of the model's own dtype
        and width, with at least one row, for a model fitted without feature
        names, under no array API dispatch. On such an X scikit-learn's
        validate_data changes nothing, warns nothing and can only raise on
        NaN or infinity, which the engine finds as it reads X (scikit-learn's
        own check then gives its error); everything else goes through it. A
        current Serving (see ``_state.serving``) also means the model is
        fitted: it is built only after check_is_fitted has passed.
        """
        s = _state.current_serving(self)
        if (s is None or not s.plain or type(X) is not np.ndarray or X.ndim != 2
                or X.dtype is not s.dtype):
            return None
        n, m = X.shape
        if (m != s.n_features or n == 0 or n > _train._INT32_MAX
                or not X.flags.c_contiguous or "feature_names_in_" in self.__dict__):
            return None
        config = get_config()
        if config["array_api_dispatch"]:
            return None
        check_x = not config["assume_finite"]
        try:
            return s, s.predictor(X, check_x=check_x)
        except ValueError:
            if check_x:
                assert_all_finite(X, input_name="X", estimator_name=type(self).__name__)
            raise

    @classmethod
    def _predicts_plainly(cls):
        """Whether the class predicts as cymlp's own classes: a subclass that
        overrides a prediction method is always given its own code (no fast
        path). Cached per class."""
        plain = cls.__dict__.get("_cymlp_plain")
        if plain is None:
            own = next(c for c in cls.__mro__ if c.__module__ == "cymlp")
            plain = all(getattr(cls, m, None) is getattr(own, m, None)
                        for m in _PREDICTION_METHODS)
            cls._cymlp_plain = plain
        return plain

    def _score_with_function(self, X, y, sample_weight, score_function):
        y_pred = self._predict(X, check_input=False)
        if np.issubdtype(y_pred.dtype, np.floating) and not np.isfinite(y_pred).all():
            return np.nan
        return score_function(y, y_pred, sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
