"""scikit-learn's callbacks (``sklearn.callback``, scikit-learn >= 1.9) on cymlp's fits.

``sklearn.callback`` is experimental and partly private, so it is detected,
not pinned:

- scikit-learn without it (1.7, 1.8): the estimators have no ``set_callbacks``,
  as scikit-learn's own estimators there; fitting is unchanged.
- scikit-learn with the API cymlp uses (checked below, by name and
  signature): ``CallbackSupport`` is scikit-learn's own ``CallbackSupportMixin``,
  so ``set_callbacks``, cloning and pickling behave exactly as for
  scikit-learn's ``LogisticRegression``.
- scikit-learn with a ``sklearn.callback`` that differs: training works as
  without callbacks, and ``set_callbacks`` raises a ``RuntimeError`` naming
  what differs.

The task tree of one fit: ``fit`` (or ``partial_fit``) is the root task; each
sgd/adam epoch, or each L-BFGS iteration, is a subtask. The hooks of an
epoch get the data the epoch trained on (the training part under early
stopping), the user's ``sample_weight`` as metadata, and, for
``fitted_estimator``, *copies* of the weights as they stood after the epoch
(scikit-learn builds that estimator by a shallow copy of the live one). A
hook ``on_fit_task_end`` returning True stops training after that epoch or
iteration (cymlp's own: scikit-learn 1.9's LogisticRegression does not act on
it yet).

Nothing here runs per minibatch: the hooks run between the engine's
epochs, in Python, and only when callbacks are set (or the estimator is the
sub-estimator of a meta-estimator that propagates its task tree).
"""

import inspect

import numpy as np

__all__ = ["AVAILABLE", "CallbackSupport", "FitWatch", "managed", "start"]


def _detect():
    """(CallbackSupportMixin, None) when the API cymlp uses is there,
    (None, reason) otherwise; reason is None when sklearn.callback is absent."""
    try:
        import sklearn.callback as skc
    except ImportError:
        return None, None
    if not callable(getattr(skc, "with_callbacks", None)):
        return None, "sklearn.callback has no with_callbacks"
    needed = {
        "CallbackSupportMixin": ("set_callbacks", "_init_callback_context"),
        "CallbackContext": ("subcontext", "call_on_fit_task_begin", "call_on_fit_task_end"),
    }
    for cls_name, methods in needed.items():
        cls = getattr(skc, cls_name, None)
        if cls is None:
            return None, f"sklearn.callback has no {cls_name}"
        for m in methods:
            if not callable(getattr(cls, m, None)):
                return None, f"sklearn.callback.{cls_name} has no {m}()"
    signatures = {
        (skc.CallbackSupportMixin._init_callback_context, "_init_callback_context"):
            ("task_name", "max_subtasks"),
        (skc.CallbackContext.subcontext, "subcontext"): ("task_name", "max_subtasks"),
        (skc.CallbackContext.call_on_fit_task_begin, "call_on_fit_task_begin"):
            ("estimator", "X", "y", "metadata", "reconstruction_attributes"),
        (skc.CallbackContext.call_on_fit_task_end, "call_on_fit_task_end"):
            ("estimator", "X", "y", "metadata", "reconstruction_attributes"),
    }
    for (fn, name), params in signatures.items():
        try:
            have = inspect.signature(fn).parameters
        except (TypeError, ValueError):  # pragma: no cover - builtins only
            return None, f"the signature of {name}() cannot be read"
        missing = [p for p in params if p not in have]
        if missing:
            return None, f"{name}() takes no {', '.join(missing)}"
    return skc.CallbackSupportMixin, None


_MIXIN, INCOMPATIBLE = _detect()
AVAILABLE = _MIXIN is not None

if AVAILABLE:
    CallbackSupport = _MIXIN
elif INCOMPATIBLE is not None:

    class CallbackSupport:
        """``set_callbacks`` that explains why this scikit-learn's callbacks
        cannot be used (training itself is unaffected)."""

        def set_callbacks(self, *callbacks):
            import sklearn

            raise RuntimeError(
                f"cymlp cannot use the callbacks of scikit-learn {sklearn.__version__}: "
                f"{INCOMPATIBLE}. cymlp supports sklearn.callback as in scikit-learn "
                "1.9; training works without callbacks."
            )

else:

    class CallbackSupport:
        """scikit-learn without sklearn.callback: no callback support, as
        scikit-learn's own estimators there."""


def managed(method):
    """``method`` (fit, partial_fit), after which the callbacks' teardown runs
    (scikit-learn's ``with_callbacks``) if the call opened a callback context,
    whatever happens, even where ``_fit_context`` would not do it
    (scikit-learn 1.9's does, and then finds nothing left to do). A call that
    opened none pays one dictionary lookup, not a context manager (2 us, 1 %
    of a 200-row partial_fit)."""
    if not AVAILABLE:
        return method
    import functools

    import sklearn.callback as skc

    teardown = skc.with_callbacks(lambda est: None)

    @functools.wraps(method)
    def run(est, *args, **kwargs):
        try:
            return method(est, *args, **kwargs)
        finally:
            if "_callback_fit_ctx" in est.__dict__:
                teardown(est)

    return run


def _model_copy(params, layer_units, dtype=None):
    """The attributes that make a shallow copy of the estimator predict with
    a *copy* of ``params`` (never a view of the live buffer)."""
    from cymlp._state import Layout

    p = np.array(params, dtype=dtype if dtype is not None else params.dtype, copy=True)
    coefs, intercepts = Layout(layer_units).views(p)
    return {"_params": p, "coefs_": coefs, "intercepts_": intercepts}


def labels(est, Y):
    """A callable giving the targets of ``Y`` (the engine's 0/1 or float
    matrix) as the user passed them: class labels (the indicator matrix for
    multilabel), or the 1-D / 2-D regression targets."""
    memo = []

    def get():  # everything here, only when a callback asks for y
        if not memo:
            from sklearn.base import is_classifier

            if is_classifier(est):
                memo.append(est._label_binarizer.inverse_transform(Y))
            else:
                memo.append(Y.ravel() if Y.shape[1] == 1 else Y)
        return memo[0]

    return get


def start(est, task_name, max_subtasks, X, y, sample_weight):
    """Open the root task of a fit; None (and nothing done) when no callback
    can observe it, so a fit without callbacks pays nothing.

    ``y`` may be a callable returning the labels (evaluated only if a
    callback asks for y)."""
    if not AVAILABLE or not (
        getattr(est, "_skl_callbacks", None) or hasattr(est, "_parent_callback_ctx")
    ):
        return None
    return FitWatch(est, task_name, max_subtasks, X, y, sample_weight)


class FitWatch:
    """One fit's callback context: the root task and its epoch subtasks.

    Setup happens here (``_init_callback_context``); teardown is done by
    scikit-learn's ``_fit_context`` around ``fit`` / ``partial_fit``.
    """

    def __init__(self, est, task_name, max_subtasks, X, y, sample_weight):
        self.est = est
        self.X, self.y = X, y
        self.metadata = None if sample_weight is None else {"sample_weight": sample_weight}
        self.ctx = est._init_callback_context(task_name=task_name, max_subtasks=max_subtasks)
        self.ctx.call_on_fit_task_begin(estimator=est, X=X, y=y, metadata=self.metadata)
        self.epoch_ctx = None
        self.stopped = False
        self._data = (X, y, self.metadata)

    # -- sgd / adam ------------------------------------------------------
    def epoch_data(self, X, y, sample_weight):
        """The data the epochs train on (y may be a callable)."""
        self._data = (X, y, None if sample_weight is None else {"sample_weight": sample_weight})

    def _state(self):
        est = self.est
        from cymlp import _state

        params = _state.flat_params(est)
        state = _model_copy(params, _state.Layout.of(est).units)
        for k in ("n_iter_", "t_", "loss_", "best_loss_", "best_validation_score_"):
            if k in est.__dict__:
                state[k] = est.__dict__[k]
        for k in ("loss_curve_", "validation_scores_"):
            v = est.__dict__.get(k)
            if v is not None:
                state[k] = list(v)
        return state

    def epoch_begin(self):
        X, y, metadata = self._data
        self.epoch_ctx = self.ctx.subcontext(task_name="epoch")
        self.epoch_ctx.call_on_fit_task_begin(
            estimator=self.est, X=X, y=y, metadata=metadata, reconstruction_attributes=self._state
        )

    def epoch_end(self):
        """End the epoch that just ran; True if a callback asks to stop."""
        X, y, metadata = self._data
        ctx, self.epoch_ctx = self.epoch_ctx, None
        stop = ctx.call_on_fit_task_end(
            estimator=self.est, X=X, y=y, metadata=metadata, reconstruction_attributes=self._state
        )
        self.stopped = bool(stop)
        return self.stopped

    def epoch_abort(self):
        """Close an epoch that did not finish (Ctrl-C), as an empty task."""
        ctx, self.epoch_ctx = self.epoch_ctx, None
        if ctx is not None:
            ctx.call_on_fit_task_end(estimator=self.est)

    # -- L-BFGS ----------------------------------------------------------
    def lbfgs_callback(self, x0, layer_units, dtype):
        return _LbfgsBridge(self, x0, layer_units, dtype)

    # -- the root task ---------------------------------------------------
    def end(self):
        """End the root task, for the fitted estimator (reconstruction {}:
        the estimator itself)."""
        self.ctx.call_on_fit_task_end(
            estimator=self.est, X=self.X, y=self.y, metadata=self.metadata,
            reconstruction_attributes={},
        )


class _LbfgsBridge:
    """scipy.optimize.minimize's ``callback`` as one subtask per L-BFGS
    iteration, as scikit-learn's LogisticRegression does (its
    ``_LbfgsCallbackBridge``): the first iteration's subtask begins with the
    initial weights; each scipy callback ends the iteration that just ran and
    begins the next; ``close`` ends the one that never ran as an empty task.
    A stop request raises StopIteration, which scipy honours after that
    iteration; no next subtask is begun then.
    """

    def __init__(self, watch, x0, layer_units, dtype):
        self.watch = watch
        self.units = layer_units
        self.dtype = dtype
        self.n_iter = 0
        self.ctx = self._begin(x0, None)

    def _attrs(self, x, fun):
        n_iter = self.n_iter

        def build():
            state = _model_copy(x, self.units, self.dtype)
            state["n_iter_"] = n_iter
            if fun is not None:
                state["loss_"] = float(fun)
            return state
        return build

    def _begin(self, x, fun):
        w = self.watch
        ctx = w.ctx.subcontext(task_name="lbfgs-iter")
        ctx.call_on_fit_task_begin(estimator=w.est, X=w.X, y=w.y, metadata=w.metadata,
                                   reconstruction_attributes=self._attrs(x, fun))
        return ctx

    def __call__(self, intermediate_result):
        w = self.watch
        x = np.array(intermediate_result.x, copy=True)  # scipy hands its live array
        fun = intermediate_result.fun
        self.n_iter += 1
        ctx, self.ctx = self.ctx, None
        if ctx.call_on_fit_task_end(estimator=w.est, X=w.X, y=w.y, metadata=w.metadata,
                                    reconstruction_attributes=self._attrs(x, fun)):
            w.stopped = True
            raise StopIteration
        self.ctx = self._begin(x, fun)

    def close(self):
        ctx, self.ctx = self.ctx, None
        if ctx is not None:
            ctx.call_on_fit_task_end(estimator=self.watch.est)
