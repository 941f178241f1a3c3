"""The estimators: scikit-learn's MLPClassifier and MLPRegressor over the Cython engine.

The facade owns everything that happens once per call or once per epoch:
parameter and input validation, label binarizing, the random number stream
(initial weights, early-stopping split, per-epoch permutations, in exactly
scikit-learn's order), L-BFGS through scipy, stopping rules and the fitted
attributes. Everything per minibatch happens in ``cymlp._train`` without the GIL.

Parameters live in one flat buffer (``_params``); ``coefs_`` and
``intercepts_`` are views into it (rebuilt after unpickling, and re-packed if
a user assigns new arrays).
"""

import copy
import warnings
from abc import ABC, abstractmethod
from numbers import Integral, Real

import numpy as np
import scipy.optimize
import scipy.sparse as sp
from sklearn import get_config
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    RegressorMixin,
    _fit_context,
    is_classifier,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import assert_all_finite, check_random_state, column_or_1d
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import (
    _check_partial_fit_first_call,
    type_of_target,
    unique_labels,
)
from sklearn.utils.optimize import _check_optimize_result
from sklearn.utils.validation import check_is_fitted, validate_data

from cymlp import _callbacks, _class_weight, _train

_STOCHASTIC_SOLVERS = ["sgd", "adam"]
_INT32_MAX = 2**31 - 1
_SNAPSHOT_EXTRA = "<restore in place>"  # a key no attribute can have
# scikit-learn's callback machinery (set_callbacks, the fit's context, what a
# meta-estimator propagates): a failed fit leaves it to _fit_context's teardown
_CALLBACK_ATTRS = frozenset(
    {"_skl_callbacks", "_callback_fit_ctx", "_skl_callbacks_to_teardown", "_parent_callback_ctx"}
)


def _check_blas_dims(n_samples, n_features):
    """Refuse sizes the 32-bit BLAS cannot address, before any BLAS call."""
    if n_features > _INT32_MAX or n_samples > _INT32_MAX:
        raise ValueError(
            f"X has shape ({n_samples}, {n_features}); cymlp's BLAS uses 32-bit "
            "sizes, so both dimensions must be below 2**31."
        )


def _engine_input(X, dtype):
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


class _DeferredXCheck:
    """scikit-learn's NaN / infinity check of a dense X, left to the engine.

    scikit-learn scans X for non-finite values before anything else; on a
    large X that pass costs as much as a fast epoch's worth of reading X. When
    the engine reads every row anyway (the first shuffled epoch's gather, or
    predict's chunks), it checks the values it copies instead, and ``X`` is
    set to None once it has. Until then, anything that fails or warns first
    asks ``error()`` / ``now()``, which run scikit-learn's own check on ``X``,
    so its error (with its exact message) still comes first.
    """

    def __init__(self, estimator):
        self.estimator_name = type(estimator).__name__
        self.X = None

    def defer(self, X):
        """Leave the check of the validated ``X`` to the engine; a sparse X is
        checked at once (only its stored values: no gather to ride on).
        Returns whether the engine still has to check."""
        self.X = X
        if sp.issparse(X):
            self.now()
            return False
        return True

    def error(self):
        """scikit-learn's error for a non-finite ``X``, or None; ``X`` counts as
        checked afterwards."""
        X, self.X = self.X, None
        if X is None:
            return None
        try:
            assert_all_finite(X, input_name="X", estimator_name=self.estimator_name)
        except ValueError as exc:
            return exc
        return None

    def now(self):
        """Check ``X`` now (before a warning or a conversion)."""
        err = self.error()
        if err is not None:
            raise err


def _interrupted_epoch(opt, t_before, steps):
    """The optimizer after an epoch that a signal stopped after ``steps`` steps."""
    if opt.solver == "adam":
        opt.t = t_before + steps
        if opt.t:
            opt.learning_rate = float(
                opt.learning_rate_init * np.sqrt(1 - opt.beta_2**opt.t)
                / (1 - opt.beta_1**opt.t)
            )


class _Optimizer:
    """Stochastic optimizer state: scikit-learn's SGDOptimizer / AdamOptimizer
    over the flat parameter layout (the update itself runs in the engine).

    ``state1``/``state2`` are the SGD velocities (state2 unused) or Adam's
    first and second moments.
    """

    def __init__(self, solver, n_params, dtype, learning_rate_init, lr_schedule,
                 momentum, nesterov, power_t, beta_1, beta_2, epsilon):
        self.solver = solver
        self.learning_rate_init = learning_rate_init
        self.learning_rate = float(learning_rate_init)
        self.lr_schedule = lr_schedule
        self.momentum = momentum
        self.nesterov = nesterov
        self.power_t = power_t
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.t = 0
        if solver == "adam":
            self.state1 = np.zeros(n_params, dtype=dtype)
            self.state2 = np.zeros(n_params, dtype=dtype)
        else:
            self.state1 = np.zeros(n_params if momentum != 0 else 0, dtype=dtype)
            self.state2 = np.zeros(0, dtype=dtype)

    def __setstate__(self, state):
        # read-only arrays (joblib.load(mmap_mode="r")) are copied: training writes them
        self.__dict__.update(
            {k: (v.copy() if isinstance(v, np.ndarray) and not v.flags.writeable else v)
             for k, v in state.items()}
        )

    def iteration_ends(self, time_step):
        if self.solver == "sgd" and self.lr_schedule == "invscaling":
            self.learning_rate = (
                float(self.learning_rate_init) / (time_step + 1) ** self.power_t
            )

    def trigger_stopping(self, msg, verbose):
        if self.solver == "adam" or self.lr_schedule != "adaptive":
            if verbose:
                print(msg + " Stopping.")
            return True
        if self.learning_rate <= 1e-6:
            if verbose:
                print(msg + " Learning rate too small. Stopping.")
            return True
        self.learning_rate /= 5.0
        if verbose:
            print(msg + " Setting learning rate to %f" % self.learning_rate)
        return False


class BaseMultilayerPerceptron(_callbacks.CallbackSupport, BaseEstimator, ABC):
    """Base class for the cymlp MLP estimators. Use the subclasses."""

    _parameter_constraints: dict = {
        "hidden_layer_sizes": [
            "array-like",
            Interval(Integral, 1, None, closed="left"),
        ],
        "activation": [StrOptions({"identity", "logistic", "tanh", "relu"})],
        "solver": [StrOptions({"lbfgs", "sgd", "adam"})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [
            StrOptions({"auto"}),
            Interval(Integral, 1, None, closed="left"),
        ],
        "learning_rate": [StrOptions({"constant", "invscaling", "adaptive"})],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "n_iter_no_change": [
            Interval(Integral, 1, None, closed="left"),
            Options(Real, {np.inf}),
        ],
        "max_fun": [Interval(Integral, 1, None, closed="left")],
    }

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
    # parameters: one flat buffer, coefs_ / intercepts_ as views
    # ------------------------------------------------------------------
    def _network(self, layer_units=None):
        if layer_units is None:
            layer_units = [self.coefs_[0].shape[0]] + [b.shape[0] for b in self.intercepts_]
        loss = self.loss
        if loss == "log_loss" and self.out_activation_ == "logistic":
            loss = "binary_log_loss"
        return _train.Network(layer_units, self.activation, loss, self.out_activation_)

    def _set_params_buffer(self, params, layer_units):
        """Make ``params`` the flat buffer and coefs_ / intercepts_ views into it."""
        self._params = params
        coefs, intercepts = [], []
        start = 0
        for fan_in, fan_out in zip(layer_units[:-1], layer_units[1:]):
            end = start + fan_in * fan_out
            coefs.append(params[start:end].reshape(fan_in, fan_out))
            start = end
        for fan_out in layer_units[1:]:
            intercepts.append(params[start : start + fan_out])
            start += fan_out
        self.coefs_ = coefs
        self.intercepts_ = intercepts

    def _flat_params(self):
        """The flat parameter buffer, re-packed if coefs_/intercepts_ were replaced."""
        params = getattr(self, "_params", None)
        arrays = list(self.coefs_) + list(self.intercepts_)
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
        coefs = [np.asarray(c) for c in self.coefs_]
        intercepts = [np.asarray(b) for b in self.intercepts_]
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
        params = np.concatenate([a.astype(dtype).ravel() for a in coefs + intercepts])
        self._set_params_buffer(params, layer_units)
        return params

    def __getstate__(self):
        state = super().__getstate__()
        # coefs_ / intercepts_ are views into _params: store them once
        if "_params" in state:
            state = dict(state)
            state["_params"] = self._flat_params()
            state.pop("coefs_", None)
            state.pop("intercepts_", None)
            state["_layer_units"] = [self.coefs_[0].shape[0]] + [
                len(b) for b in self.intercepts_
            ]
        return state

    def __setstate__(self, state):
        state = dict(state)
        layer_units = state.pop("_layer_units", None)
        params = state.get("_params")
        if isinstance(params, np.ndarray) and not params.flags.writeable:
            # e.g. joblib.load(mmap_mode="r"): the engine needs writable buffers
            state["_params"] = params.copy()
        super().__setstate__(state)
        if layer_units is not None:
            self._set_params_buffer(self._params, layer_units)

    # ------------------------------------------------------------------
    # fitting
    # ------------------------------------------------------------------
    def _init_params(self, layer_units, dtype):
        """Glorot-uniform draws in scikit-learn's order, into one flat buffer."""
        factor = 2.0 if self.activation == "logistic" else 6.0
        n_params = sum(a * b for a, b in zip(layer_units[:-1], layer_units[1:]))
        self._set_params_buffer(np.empty(n_params + sum(layer_units[1:]), dtype=dtype),
                                layer_units)
        # drawn in float64, layer by layer, straight into the flat buffer
        for coef, intercept in zip(self.coefs_, self.intercepts_):
            fan_in, fan_out = coef.shape
            bound = np.sqrt(factor / (fan_in + fan_out))
            coef[...] = self._random_state.uniform(-bound, bound, (fan_in, fan_out))
            intercept[...] = self._random_state.uniform(-bound, bound, fan_out)

    def _initialize(self, y, layer_units, dtype):
        self.n_iter_ = 0
        self.t_ = 0
        self.n_outputs_ = y.shape[1]
        self.n_layers_ = len(layer_units)
        if not is_classifier(self):
            self.out_activation_ = "exp" if self.loss == "poisson" else "identity"
        elif self._label_binarizer.y_type_ == "multiclass":
            self.out_activation_ = "softmax"
        else:
            self.out_activation_ = "logistic"
        self._init_params(layer_units, dtype)
        self._best_coefs = [c.copy() for c in self.coefs_]
        self._best_intercepts = [i.copy() for i in self.intercepts_]
        if self.solver in _STOCHASTIC_SOLVERS:
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

    def _snapshot(self):
        """Everything fit may change, to restore on failure.

        Fitting rebinds attributes to new objects, except for the few it
        mutates in place: the flat parameter buffer, the optimizer state and
        the per-epoch lists. Those are copied; the rest is kept by reference
        (cheap: one copy of the parameters, nothing per layer or per label).
        """
        params = self._param_names()
        snap = {}
        for k, v in self.__dict__.items():
            if k in params or k in _CALLBACK_ATTRS:
                continue
            if isinstance(v, np.ndarray):
                v = v.copy()
            elif isinstance(v, list):
                v = list(v)
            elif isinstance(v, _Optimizer):
                v = copy.copy(v)
                v.state1 = v.state1.copy()
                v.state2 = v.state2.copy()
            snap[k] = v
        # The parameter buffer is restored in place, so coefs_/intercepts_
        # (and views a user holds) stay views of it; a RandomState passed as
        # random_state is rewound (the global NumPy RNG of None is not).
        saved = snap.get("_params")  # the copy made above
        if saved is not None:
            snap["_params"] = self._params
        rng = self.random_state
        rng = (rng, rng.get_state()) if isinstance(rng, np.random.RandomState) else None
        snap[_SNAPSHOT_EXTRA] = (saved, rng)
        return snap

    def _restore(self, snapshot):
        snapshot = dict(snapshot)
        saved, rng = snapshot.pop(_SNAPSHOT_EXTRA)
        params = self._param_names()
        for k in [k for k in self.__dict__ if k not in params and k not in _CALLBACK_ATTRS]:
            del self.__dict__[k]
        self.__dict__.update(snapshot)
        if saved is not None and self._params.flags.writeable:  # read-only: untouched
            self._params[...] = saved
        if rng is not None:
            rng[0].set_state(rng[1])

    @classmethod
    def _param_names(cls):
        """The constructor's parameter names (cached: get_params inspects)."""
        names = cls.__dict__.get("_cymlp_param_names")
        if names is None:
            names = frozenset(cls._get_param_names())
            cls._cymlp_param_names = names
        return names

    def _fit_atomic(self, X, y, sample_weight, incremental, before=None):
        """Run ``before()`` then _fit; if either raises, leave the estimator
        exactly as it was."""
        snapshot = self._snapshot()
        try:
            if before is not None:
                before()
            return self._fit(X, y, sample_weight=sample_weight, incremental=incremental)
        except BaseException:
            self._restore(snapshot)
            raise

    def _fit(self, X, y, sample_weight=None, incremental=False):
        # a dense X trained on shuffled epochs is checked by the first gather
        # (nothing is checked under set_config(assume_finite=True), as in sklearn)
        x_check = None
        if (self.solver in _STOCHASTIC_SOLVERS and self.shuffle and not self.early_stopping
                and not get_config()["assume_finite"]):
            x_check = _DeferredXCheck(self)
        try:
            return self._fit_checked(X, y, sample_weight, incremental, x_check)
        except BaseException:
            err = x_check.error() if x_check is not None else None
            if err is not None:
                raise err from None
            raise

    def _fit_checked(self, X, y, sample_weight, incremental, x_check):
        hidden_layer_sizes = self.hidden_layer_sizes
        if not hasattr(hidden_layer_sizes, "__iter__"):
            hidden_layer_sizes = [hidden_layer_sizes]
        hidden_layer_sizes = list(hidden_layer_sizes)
        if np.any(np.array(hidden_layer_sizes) <= 0):
            raise ValueError(
                "hidden_layer_sizes must be > 0, got %s." % hidden_layer_sizes
            )
        first_pass = not hasattr(self, "coefs_") or (
            not self.warm_start and not incremental
        )

        X, y = self._validate_input(X, y, incremental, reset=first_pass, x_check=x_check)
        n_samples, n_features = X.shape
        _check_blas_dims(n_samples, n_features)
        # the training loss's weights (class_weight x sample_weight) and the user's own
        sample_weight, user_sample_weight = _class_weight.sample_weights(
            self, X, y, sample_weight, incremental)
        if y.ndim == 1:
            y = y.reshape((-1, 1))
        self.n_outputs_ = y.shape[1]
        layer_units = [n_features] + hidden_layer_sizes + [self.n_outputs_]
        _train.check_layer_units(layer_units)

        self._random_state = check_random_state(self.random_state)
        if first_pass:
            self._initialize(y, layer_units, X.dtype)
        elif (
            self.coefs_[0].shape[0] != n_features
            or [len(b) for b in self.intercepts_] != layer_units[1:]
        ):
            raise ValueError(
                "The network of the previous fit has layer sizes "
                f"{[self.coefs_[0].shape[0]] + [len(b) for b in self.intercepts_]}; "
                f"this call needs {layer_units}. Use warm_start=False to start over."
            )
        params = self._flat_params()
        if params.dtype != X.dtype:
            # keep training in the model's dtype (warm start / partial_fit);
            # X is checked as given, before the cast
            if x_check is not None:
                x_check.now()
            X = X.astype(params.dtype)
            same = user_sample_weight is sample_weight
            if sample_weight is not None:
                sample_weight = sample_weight.astype(params.dtype)
            user_sample_weight = sample_weight if same else (
                None if user_sample_weight is None else user_sample_weight.astype(params.dtype))
        Y = np.ascontiguousarray(y, dtype=params.dtype)

        # callbacks (sklearn.callback): the root task; None without callbacks
        stochastic = self.solver in _STOCHASTIC_SOLVERS
        watch = _callbacks.start(
            self, "partial_fit" if incremental else "fit",
            (1 if incremental else self.max_iter) if stochastic else self.max_iter + 1,
            X, _callbacks.labels(self, Y), user_sample_weight,
        )
        if stochastic:
            self._fit_stochastic(X, Y, sample_weight, layer_units, incremental, x_check,
                                 watch=watch, user_sample_weight=user_sample_weight)
        else:
            self._fit_lbfgs(X, Y, sample_weight, layer_units, watch=watch)

        if not np.isfinite(self._flat_params()).all():
            hint = (
                " The learning rate may be too large (try a smaller "
                "learning_rate_init)."
                if self.solver in _STOCHASTIC_SOLVERS
                else ""
            )
            raise ValueError(
                "Solver produced non-finite parameter weights. The input data may"
                " contain large values and need to be preprocessed." + hint
            )
        if watch is not None:
            watch.end()
        return self

    def _fit_lbfgs(self, X, Y, sample_weight, layer_units, watch=None):
        net = self._network(layer_units)
        dtype = X.dtype
        X = _engine_input(X, dtype)
        ws = _train.Workspace(net, X.shape[0], dtype, False)  # X is read in place
        params = self._flat_params()
        grads = np.empty_like(params)
        work = np.empty_like(params)

        def loss_grad(packed):
            work[...] = packed
            loss = _train.loss_and_gradient(
                net, ws, X, Y, sample_weight, work, grads, float(self.alpha)
            )
            return loss, grads.astype(np.float64)

        x0 = params.astype(np.float64)
        bridge = None if watch is None else watch.lbfgs_callback(x0, layer_units, dtype)
        opt_res = scipy.optimize.minimize(
            loss_grad,
            x0,
            method="L-BFGS-B",
            jac=True,
            options={"maxfun": self.max_fun, "maxiter": self.max_iter, "gtol": self.tol},
            callback=bridge,
        )
        if bridge is not None:
            bridge.close()
        if not (np.isfinite(opt_res.fun) and np.isfinite(opt_res.x).all()):
            # scipy ends "successfully" on a NaN/inf objective: never keep that
            raise ValueError(
                "Solver produced non-finite parameter weights: the L-BFGS loss "
                f"became NaN or infinite (loss = {opt_res.fun}). The input data "
                "may contain large values and need to be preprocessed (e.g. "
                "scaled with StandardScaler)."
            )
        if watch is not None and watch.stopped:
            # a callback asked to stop: no convergence warning for that
            self.n_iter_ = min(opt_res.nit, self.max_iter)
        else:
            self.n_iter_ = _check_optimize_result("lbfgs", opt_res, self.max_iter)
        self.loss_ = float(opt_res.fun)
        params[...] = opt_res.x

    def _fit_stochastic(self, X, Y, sample_weight, layer_units, incremental, x_check=None,
                        watch=None, user_sample_weight=None):
        params = self._flat_params()
        if not incremental or not hasattr(self, "_optimizer"):
            self._optimizer = _Optimizer(
                self.solver,
                params.size,
                params.dtype,
                self.learning_rate_init,
                self.learning_rate,
                self.momentum,
                self.nesterovs_momentum,
                self.power_t,
                self.beta_1,
                self.beta_2,
                self.epsilon,
            )
        opt = self._optimizer

        if self.early_stopping and incremental:
            raise ValueError("partial_fit does not support early_stopping=True")
        early_stopping = self.early_stopping
        # solver or early_stopping switched since the first fit (warm start, or
        # partial_fit after an early-stopping fit): start the records the other
        # mode never kept, where scikit-learn fails on a missing or None attribute
        if not hasattr(self, "loss_curve_"):
            self.loss_curve_ = []
            self._no_improvement_count = 0
            self.best_loss_ = self.validation_scores_ = self.best_validation_score_ = None
        if early_stopping and self.validation_scores_ is None:
            self.validation_scores_ = []
            self.best_validation_score_ = -np.inf
        elif not early_stopping and self.best_loss_ is None:
            self.best_loss_ = np.inf
        if early_stopping:
            should_stratify = is_classifier(self) and self.n_outputs_ == 1
            stratify = Y.astype(bool) if should_stratify else None
            arrays = [X, Y] if sample_weight is None else [X, Y, sample_weight]
            # class weights: the validation score weighs by the user's weights alone
            own_user_sw = user_sample_weight is not sample_weight
            if own_user_sw and user_sample_weight is not None:
                arrays.append(user_sample_weight)
            split = train_test_split(
                *arrays,
                random_state=self._random_state,
                test_size=self.validation_fraction,
                stratify=stratify,
            )
            X_train, X_val, Y_train, Y_val = split[:4]
            sw_train, sw_val = (split[4], split[5]) if sample_weight is not None else (None, None)
            usw_train = sw_train
            if own_user_sw:
                usw_train, sw_val = (split[6], split[7]) if len(split) > 6 else (None, None)
            if X_val.shape[0] < 2:
                raise ValueError(
                    "The validation set is too small. Increase 'validation_fraction' "
                    "or the size of your dataset."
                )
            if is_classifier(self):
                y_val = self._label_binarizer.inverse_transform(Y_val.astype(bool))
            else:
                y_val = Y_val if Y_val.shape[1] > 1 else Y_val.ravel()
            Y_train = np.ascontiguousarray(Y_train)
        else:
            X_train, Y_train, sw_train = X, Y, sample_weight
            X_val = y_val = sw_val = None
            usw_train = user_sample_weight
        if watch is not None:
            watch.epoch_data(X_train, _callbacks.labels(self, Y_train), usw_train)
        X_train = _engine_input(X_train, params.dtype)

        n_samples = X_train.shape[0]
        sample_idx = np.arange(n_samples, dtype=np.intp)
        if self.batch_size == "auto":
            batch_size = min(200, n_samples)
        else:
            if self.batch_size > n_samples:
                if x_check is not None:
                    x_check.now()
                warnings.warn(
                    "Got `batch_size` less than 1 or larger than "
                    "sample size. It is going to be clipped"
                )
            batch_size = int(np.clip(self.batch_size, 1, n_samples))

        net = self._network(layer_units)
        # rows of a dense X are gathered per shuffled batch; CSR rows are read in place
        gather_x = self.shuffle and not isinstance(X_train, _train.CSR)
        ws = _train.Workspace(net, batch_size, params.dtype, gather_x)
        grads = np.empty_like(params)
        if sw_train is not None:
            sw_train = np.ascontiguousarray(sw_train, dtype=params.dtype)

        in_epoch = False
        try:
            self.n_iter_ = 0
            for it in range(self.max_iter):
                order = None
                if self.shuffle:
                    # sklearn.utils.shuffle(sample_idx, random_state=rs), without
                    # its per-call validation: the same RandomState.shuffle draw
                    perm = np.arange(n_samples)
                    self._random_state.shuffle(perm)
                    sample_idx = sample_idx[perm]
                    order = sample_idx
                if watch is not None:
                    watch.epoch_begin()
                t_before, in_epoch, ws.steps = opt.t, True, 0
                accumulated_loss, opt.t, finite = _train.train_epoch(
                    net,
                    ws,
                    X_train,
                    Y_train,
                    sw_train,
                    order,
                    params,
                    grads,
                    opt.state1,
                    opt.state2,
                    # the optimizer's own settings, fixed when it was built (as
                    # scikit-learn's optimizer objects keep theirs)
                    opt.solver,
                    opt.learning_rate_init if opt.solver == "adam" else opt.learning_rate,
                    float(opt.momentum) if opt.solver == "sgd" else 0.0,
                    bool(opt.nesterov),
                    float(opt.beta_1),
                    float(opt.beta_2),
                    float(opt.epsilon),
                    float(self.alpha),
                    opt.t,
                    x_check is not None and x_check.X is not None,
                )
                in_epoch = False
                if finite and x_check is not None:
                    x_check.X = None   # the epoch gathered, and checked, every row
                if not finite:
                    raise ValueError(
                        "Solver produced non-finite parameter weights: the training "
                        f"loss became NaN or infinite in epoch {self.n_iter_ + 1}. "
                        "The learning rate may be too large (try a smaller "
                        "learning_rate_init), or the input data may contain large "
                        "values and need to be preprocessed."
                    )
                if opt.solver == "adam":
                    opt.learning_rate = float(
                        opt.learning_rate_init
                        * np.sqrt(1 - opt.beta_2**opt.t)
                        / (1 - opt.beta_1**opt.t)
                    )
                self.n_iter_ += 1
                self.loss_ = accumulated_loss / n_samples
                self.t_ += n_samples
                self.loss_curve_.append(self.loss_)
                if self.verbose:
                    print("Iteration %d, loss = %.8f" % (self.n_iter_, self.loss_))

                self._update_no_improvement_count(early_stopping, X_val, y_val, sw_val)
                opt.iteration_ends(self.t_)
                stop_requested = watch is not None and watch.epoch_end()

                if self._no_improvement_count > self.n_iter_no_change:
                    if early_stopping:
                        msg = (
                            "Validation score did not improve more than "
                            "tol=%f for %d consecutive epochs."
                            % (self.tol, self.n_iter_no_change)
                        )
                    else:
                        msg = (
                            "Training loss did not improve more than tol=%f"
                            " for %d consecutive epochs."
                            % (self.tol, self.n_iter_no_change)
                        )
                    if opt.trigger_stopping(msg, self.verbose):
                        break
                    self._no_improvement_count = 0

                if incremental or stop_requested:
                    break

                if self.n_iter_ == self.max_iter:
                    warnings.warn(
                        "Stochastic Optimizer: Maximum iterations (%d) "
                        "reached and the optimization hasn't converged yet."
                        % self.max_iter,
                        ConvergenceWarning,
                    )
        except KeyboardInterrupt:
            if in_epoch:
                # Ctrl-C inside an epoch (the engine looks for it every 50 ms): its
                # updates stay, n_iter_ / t_ / loss_curve_ do not advance; Adam's
                # step count and learning rate do, per step, as in scikit-learn
                _interrupted_epoch(opt, t_before, ws.steps)
            if x_check is not None:
                x_check.now()
            if watch is not None:
                watch.epoch_abort()
            warnings.warn("Training interrupted by user.")

        if early_stopping:
            # restore the best weights, in place so coefs_ stay views
            for c, best in zip(self.coefs_, self._best_coefs):
                c[...] = best
            for b, best in zip(self.intercepts_, self._best_intercepts):
                b[...] = best

    def _update_no_improvement_count(self, early_stopping, X, y, sample_weight):
        if early_stopping:
            val_score = self._score(X, y, sample_weight=sample_weight)
            self.validation_scores_.append(val_score)
            if self.verbose:
                print("Validation score: %f" % self.validation_scores_[-1])
            last_valid_score = self.validation_scores_[-1]
            if last_valid_score < (self.best_validation_score_ + self.tol):
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if last_valid_score > self.best_validation_score_:
                self.best_validation_score_ = last_valid_score
                self._best_coefs = [c.copy() for c in self.coefs_]
                self._best_intercepts = [i.copy() for i in self.intercepts_]
        else:
            if self.loss_curve_[-1] > self.best_loss_ - self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if self.loss_curve_[-1] < self.best_loss_:
                self.best_loss_ = self.loss_curve_[-1]

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
        return self._fit_atomic(X, y, sample_weight, incremental=False)

    def save(self, path):
        """Save the fitted model to ``path`` without pickle; read it back with
        ``cymlp.load(path)``. See the README, "Errors, threads and persistence".
        """
        from cymlp._persist import save

        save(self, path)

    def _validate_data_deferred(self, X, y, x_check, **kwargs):
        """``validate_data(self, X, y, **kwargs)``, leaving X's finiteness check
        to ``x_check`` (see _DeferredXCheck) when it is given."""
        if x_check is None:
            return validate_data(self, X, y, **kwargs)
        try:
            X, y = validate_data(self, X, y, ensure_all_finite=False, **kwargs)
        except (ValueError, TypeError):
            # y was refused: scikit-learn would have refused a non-finite X
            # first, so ask again with its whole check
            try:
                validate_data(self, X, y, **kwargs)
            except (ValueError, TypeError) as err:
                raise err from None
            raise
        x_check.defer(X)
        return X, y

    def _check_solver(self):
        if self.solver not in _STOCHASTIC_SOLVERS:
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
        x_check = None
        if check_input:
            # dtype="numeric" as scikit-learn's predict (strings are an error);
            # a dense X is checked for NaN / infinity chunk by chunk in the engine
            X = validate_data(self, X, accept_sparse=["csr", "csc"], reset=False,
                              ensure_all_finite=False)
            if not get_config()["assume_finite"]:
                x_check = _DeferredXCheck(self)
                if not x_check.defer(X):
                    x_check = None
        params = self._flat_params()
        dtype = np.result_type(X.dtype, params.dtype)
        if dtype not in (np.float32, np.float64):
            dtype = np.float64
        if params.dtype != dtype:
            params = params.astype(dtype)
        _check_blas_dims(*X.shape)
        X = _engine_input(X, dtype)
        out = np.empty((X.shape[0], self.n_outputs_), dtype=dtype)
        try:
            _train.predict(self._network(), X, params, out, check_x=x_check is not None)
        except ValueError:
            if x_check is not None:
                x_check.now()
            raise
        return out

    def _score_with_function(self, X, y, sample_weight, score_function):
        y_pred = self._predict(X, check_input=False)
        if np.issubdtype(y_pred.dtype, np.floating) and not np.isfinite(y_pred).all():
            return np.nan
        return score_function(y, y_pred, sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


class MLPClassifier(ClassifierMixin, BaseMultilayerPerceptron):
    """Multi-layer Perceptron classifier, compiled: scikit-learn's MLPClassifier, faster.

    Same parameters, defaults, attributes and methods as
    ``sklearn.neural_network.MLPClassifier`` (scikit-learn 1.9); with the same
    ``random_state`` it draws the same initial weights and the same per-epoch
    permutations, so results agree. The minibatch loop runs in Cython without
    the GIL. See the README for the documented differences.

    Parameters
    ----------
    hidden_layer_sizes : array-like of shape (n_layers - 2,), default=(100,)
        The ith element represents the number of neurons in the ith hidden layer.
    activation : {'identity', 'logistic', 'tanh', 'relu'}, default='relu'
        Activation function for the hidden layers.
    solver : {'lbfgs', 'sgd', 'adam'}, default='adam'
        The solver for weight optimization.
    alpha : float, default=0.0001
        Strength of the L2 regularization term (divided by the sample size).
    batch_size : int, default='auto'
        Size of minibatches for stochastic optimizers; 'auto' is min(200, n_samples).
    learning_rate : {'constant', 'invscaling', 'adaptive'}, default='constant'
        Learning rate schedule for weight updates (solver='sgd' only).
    learning_rate_init : float, default=0.001
        The initial learning rate (solver='sgd' or 'adam').
    power_t : float, default=0.5
        The exponent for inverse scaling learning rate (solver='sgd').
    max_iter : int, default=200
        Maximum number of epochs (stochastic solvers) or iterations (lbfgs).
    shuffle : bool, default=True
        Whether to shuffle samples in each iteration (solver='sgd' or 'adam').
    random_state : int, RandomState instance, default=None
        Weight and bias initialization, train-test split for early stopping,
        and batch sampling.
    tol : float, default=1e-4
        Tolerance for the optimization.
    verbose : bool, default=False
        Whether to print progress messages to stdout.
    warm_start : bool, default=False
        Reuse the solution of the previous call to fit as initialization.
    momentum : float, default=0.9
        Momentum for gradient descent update (solver='sgd').
    nesterovs_momentum : bool, default=True
        Whether to use Nesterov's momentum (solver='sgd' and momentum > 0).
    early_stopping : bool, default=False
        Whether to use early stopping on a held-out validation score.
    validation_fraction : float, default=0.1
        The proportion of training data to set aside for early stopping.
    beta_1 : float, default=0.9
        Exponential decay rate for the first moment in adam.
    beta_2 : float, default=0.999
        Exponential decay rate for the second moment in adam.
    epsilon : float, default=1e-8
        Value for numerical stability in adam.
    n_iter_no_change : int, default=10
        Maximum number of epochs to not meet ``tol`` improvement.
    max_fun : int, default=15000
        Maximum number of loss function calls (solver='lbfgs').
    class_weight : dict, list of dicts, "balanced" or None, default=None
        cymlp's own (scikit-learn's MLPClassifier has none). Class weights,
        multiplying ``sample_weight`` in the training loss: ``{label: weight}``
        (missing labels weigh 1), "balanced" for ``n_samples / (n_classes *
        np.bincount(y))``, or for multilabel y one ``{0: w0, 1: w1}`` per
        column; as ``sklearn.utils.class_weight.compute_sample_weight``. Early
        stopping's validation score uses ``sample_weight`` alone; partial_fit
        refuses "balanced" (as SGDClassifier) and weighs a dict over ``classes_``.

    Attributes
    ----------
    classes_ : ndarray or list of ndarray of shape (n_classes,)
    loss_ : float
    best_loss_ : float or None
    loss_curve_ : list of shape (n_iter_,)
    validation_scores_ : list of shape (n_iter_,) or None
    best_validation_score_ : float or None
    t_ : int
    coefs_ : list of shape (n_layers - 1,)
    intercepts_ : list of shape (n_layers - 1,)
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
    n_iter_ : int
    n_layers_ : int
    n_outputs_ : int
    out_activation_ : str

    Examples
    --------
    >>> import cymlp
    >>> from sklearn.datasets import load_digits
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = cymlp.MLPClassifier(random_state=0, max_iter=50).fit(X / 16, y)
    >>> clf.score(X / 16, y) > 0.95
    True
    """

    _parameter_constraints: dict = {
        **BaseMultilayerPerceptron._parameter_constraints,
        "class_weight": [StrOptions({"balanced"}), dict, list, None],
    }

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        class_weight=None,
    ):
        self.class_weight = class_weight
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            solver=solver,
            alpha=alpha,
            batch_size=batch_size,
            learning_rate=learning_rate,
            learning_rate_init=learning_rate_init,
            power_t=power_t,
            max_iter=max_iter,
            loss="log_loss",
            shuffle=shuffle,
            random_state=random_state,
            tol=tol,
            verbose=verbose,
            warm_start=warm_start,
            momentum=momentum,
            nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            n_iter_no_change=n_iter_no_change,
            max_fun=max_fun,
        )

    def _validate_input(self, X, y, incremental, reset, x_check=None):
        X, y = self._validate_data_deferred(
            X,
            y,
            x_check,
            accept_sparse=["csr", "csc"],
            multi_output=True,
            dtype=(np.float64, np.float32),
            order="C",
            reset=reset,
        )
        if y.ndim == 2 and y.shape[1] == 1:
            if x_check is not None:
                x_check.now()
            y = column_or_1d(y, warn=True)
        if (not hasattr(self, "classes_")) or (not self.warm_start and not incremental):
            self._label_binarizer = LabelBinarizer()
            self._label_binarizer.fit(y)
            self.classes_ = self._label_binarizer.classes_
        else:
            classes = unique_labels(y)
            if self.warm_start:
                if set(classes) != set(self.classes_):
                    raise ValueError(
                        "warm_start can only be used where `y` has the same "
                        "classes as in the previous call to fit. Previously "
                        f"got {self.classes_}, `y` has {classes}"
                    )
            elif len(np.setdiff1d(classes, self.classes_, assume_unique=True)):
                raise ValueError(
                    "`y` has classes not in `self.classes_`. "
                    f"`self.classes_` has {self.classes_}. 'y' has {classes}."
                )
        if self._label_binarizer.y_type_ != "multilabel-indicator" and len(self.classes_) < 2:
            # scikit-learn would fit a constant model whose predict_proba has
            # two columns for one class; refuse, as its linear classifiers do
            raise ValueError(
                "MLPClassifier needs samples of at least 2 classes, but got only "
                f"one class: {self.classes_[0]}."
            )
        return X, self._binarize(y)

    def _binarize(self, y):
        """``self._label_binarizer.transform(y).astype(bool)``; for 1-D numeric
        labels (all in ``classes_``: checked by the caller) without its second
        type_of_target pass and int64 detour."""
        lb = self._label_binarizer
        classes = lb.classes_
        if not (lb.y_type_ in ("binary", "multiclass") and y.ndim == 1
                and y.dtype.kind in "biuf" and classes.dtype.kind in "biuf"):
            return lb.transform(y).astype(bool)
        col = np.searchsorted(classes, y)
        if len(classes) == 2:
            return (col == 1).reshape(-1, 1)
        Y = np.zeros((y.shape[0], len(classes)), dtype=bool)
        Y[np.arange(y.shape[0]), col] = True
        return Y

    def predict(self, X):
        """Predict using the multi-layer perceptron classifier.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y : ndarray, shape (n_samples,) or (n_samples, n_classes)
            The predicted classes.
        """
        check_is_fitted(self)
        return self._predict(X)

    def _predict(self, X, check_input=True):
        y_pred = self._forward_pass_fast(X, check_input=check_input)
        if self.n_outputs_ == 1:
            y_pred = y_pred.ravel()
        return self._label_binarizer.inverse_transform(y_pred)

    def _score(self, X, y, sample_weight=None):
        return self._score_with_function(X, y, sample_weight, accuracy_score)

    @available_if(lambda est: est._check_solver())
    @_fit_context(prefer_skip_nested_validation=True)
    @_callbacks.managed
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """Update the model with a single iteration over the given data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.
        y : array-like of shape (n_samples,)
            The target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.
        classes : array of shape (n_classes,), default=None
            Classes across all calls to partial_fit. Required on the first call
            (unless y is a multilabel indicator matrix); may be repeated later.

        Returns
        -------
        self : object
            Trained MLP model.
        """

        _class_weight.check_partial_fit(self)

        def first_call_labels():
            if _check_partial_fit_first_call(self, classes):
                self._label_binarizer = LabelBinarizer()
                if type_of_target(y).startswith("multilabel"):
                    self._label_binarizer.fit(y)
                else:
                    self._label_binarizer.fit(classes)

        return self._fit_atomic(X, y, sample_weight, incremental=True,
                                before=first_call_labels)

    def predict_log_proba(self, X):
        """Return the log of probability estimates.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        log_y_prob : ndarray of shape (n_samples, n_classes)
            The predicted log-probability of the sample for each class.
        """
        y_prob = self.predict_proba(X)
        return np.log(y_prob, out=y_prob)

    def predict_proba(self, X):
        """Probability estimates.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y_prob : ndarray of shape (n_samples, n_classes)
            The predicted probability of the sample for each class.
        """
        check_is_fitted(self)
        y_pred = self._forward_pass_fast(X)
        if self.n_outputs_ == 1:
            y_pred = y_pred.ravel()
        if y_pred.ndim == 1:
            return np.vstack([1 - y_pred, y_pred]).T
        return y_pred

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


class MLPRegressor(RegressorMixin, BaseMultilayerPerceptron):
    """Multi-layer Perceptron regressor, compiled: scikit-learn's MLPRegressor, faster.

    Same parameters, defaults, attributes and methods as
    ``sklearn.neural_network.MLPRegressor`` (scikit-learn 1.9); ``loss`` is
    the first positional parameter. See MLPClassifier for the shared
    parameters and the README for the documented differences.

    Parameters
    ----------
    loss : {'squared_error', 'poisson'}, default='squared_error'
        The loss function. 'poisson' uses an exp output and requires y >= 0.
    hidden_layer_sizes, activation, solver, alpha, batch_size, learning_rate,
    learning_rate_init, power_t, max_iter, shuffle, random_state, tol, verbose,
    warm_start, momentum, nesterovs_momentum, early_stopping,
    validation_fraction, beta_1, beta_2, epsilon, n_iter_no_change, max_fun
        As in MLPClassifier.
    """

    _parameter_constraints: dict = {
        **BaseMultilayerPerceptron._parameter_constraints,
        "loss": [StrOptions({"squared_error", "poisson"})],
    }

    def __init__(
        self,
        loss="squared_error",
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
    ):
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            solver=solver,
            alpha=alpha,
            batch_size=batch_size,
            learning_rate=learning_rate,
            learning_rate_init=learning_rate_init,
            power_t=power_t,
            max_iter=max_iter,
            loss=loss,
            shuffle=shuffle,
            random_state=random_state,
            tol=tol,
            verbose=verbose,
            warm_start=warm_start,
            momentum=momentum,
            nesterovs_momentum=nesterovs_momentum,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            n_iter_no_change=n_iter_no_change,
            max_fun=max_fun,
        )

    def predict(self, X):
        """Predict using the multi-layer perceptron model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.

        Returns
        -------
        y : ndarray of shape (n_samples, n_outputs)
            The predicted values.
        """
        check_is_fitted(self)
        return self._predict(X)

    def _predict(self, X, check_input=True):
        y_pred = self._forward_pass_fast(X, check_input=check_input)
        if y_pred.shape[1] == 1:
            return y_pred.ravel()
        return y_pred

    def _score(self, X, y, sample_weight=None):
        return self._score_with_function(X, y, sample_weight, r2_score)

    def _validate_input(self, X, y, incremental, reset, x_check=None):
        X, y = self._validate_data_deferred(
            X,
            y,
            x_check,
            accept_sparse=["csr", "csc"],
            multi_output=True,
            y_numeric=True,
            dtype=(np.float64, np.float32),
            order="C",
            reset=reset,
        )
        if y.ndim == 2 and y.shape[1] == 1:
            if x_check is not None:
                x_check.now()
            y = column_or_1d(y, warn=True)
        if self.loss == "poisson" and np.any(y < 0):
            raise ValueError(
                "loss='poisson' requires non-negative y (the Poisson deviance is "
                "not defined for y < 0)."
            )
        return X, y

    @available_if(lambda est: est._check_solver())
    @_fit_context(prefer_skip_nested_validation=True)
    @_callbacks.managed
    def partial_fit(self, X, y, sample_weight=None):
        """Update the model with a single iteration over the given data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            The input data.
        y : ndarray of shape (n_samples,)
            The target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        self : object
            Trained MLP model.
        """
        return self._fit_atomic(X, y, sample_weight, incremental=True)


MLP = MLPClassifier
