"""The solvers: the stochastic loop (sgd, adam) and L-BFGS through scipy.

``fit_stochastic`` runs whole epochs in the engine (``_train.train_epoch``,
called from here only) and keeps, between epochs, what scikit-learn's
``_fit_stochastic`` does: the per-epoch permutation drawn from the
estimator's RandomState, the learning-rate schedules (``_Optimizer``), the
stopping rules (``tol`` / ``n_iter_no_change``, the adaptive schedule's
divisions, ``max_iter``) and early stopping on a held-out split.
``fit_lbfgs`` hands the engine's loss and gradient to
``scipy.optimize.minimize``.

Both train the estimator's flat parameter buffer in place and set its
training record (``n_iter_``, ``loss_``, ``loss_curve_``...); the caller,
``_base``, validated the input before and checks the weights after.
"""

import math
import warnings

import numpy as np
import scipy.optimize
from sklearn.base import is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils.optimize import _check_optimize_result

from cymlp import _callbacks, _scratch, _state, _train
from cymlp._state import engine_input

STOCHASTIC_SOLVERS = ("sgd", "adam")


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

    def step_rule(self, alpha):
        """The engine's settings for this epoch's steps: the optimizer's own,
        fixed when it was built (as scikit-learn's optimizer objects keep
        theirs), with SGD's current learning rate (Adam's is derived per step
        from ``learning_rate_init`` and ``t``)."""
        if self.solver == "adam":
            return _train.StepRule(
                "adam", self.learning_rate_init, alpha=float(alpha),
                beta1=float(self.beta_1), beta2=float(self.beta_2),
                epsilon=float(self.epsilon))
        return _train.StepRule(
            "sgd", self.learning_rate, alpha=float(alpha), momentum=float(self.momentum),
            nesterov=bool(self.nesterov))

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


def fit_lbfgs(est, X, Y, sample_weight, layout, incremental=False, watch=None,
              user_sample_weight=None):
    """Minimize the loss with scipy's L-BFGS-B (``incremental`` is unused:
    partial_fit is only for the stochastic solvers). ``watch``: the fit's
    callbacks (``cymlp._callbacks``), one subtask per iteration."""
    net = _state.network(est, layout)
    dtype = X.dtype
    X = engine_input(X, dtype)
    ws = _train.Workspace(net, X.shape[0], dtype, False)  # X is read in place
    params = _state.flat_params(est)
    grads = np.empty_like(params)
    work = np.empty_like(params)

    def loss_grad(packed):
        work[...] = packed
        loss = _train.loss_and_gradient(
            net, ws, X, Y, sample_weight, work, grads, float(est.alpha)
        )
        return loss, grads.astype(np.float64)

    x0 = params.astype(np.float64)
    bridge = None if watch is None else watch.lbfgs_callback(x0, layout.units, dtype)
    opt_res = scipy.optimize.minimize(
        loss_grad,
        x0,
        method="L-BFGS-B",
        jac=True,
        options={"maxfun": est.max_fun, "maxiter": est.max_iter, "gtol": est.tol},
        callback=bridge,
    )
    if bridge is not None:
        bridge.close()
    if watch is not None and watch.stopped:
        # a callback asked to stop: no convergence warning for that
        est.n_iter_ = min(opt_res.nit, est.max_iter)
    else:
        est.n_iter_ = _check_optimize_result("lbfgs", opt_res, est.max_iter)
    est.loss_ = float(opt_res.fun)
    params[...] = opt_res.x


def fit_stochastic(est, X, Y, sample_weight, layout, incremental, watch=None,
                   user_sample_weight=None, params=None, batch_size=None, check_x=False):
    """Train by minibatch sgd / adam: up to ``max_iter`` epochs (one if
    ``incremental``), stopping as scikit-learn does, or when a callback of
    ``watch`` (``cymlp._callbacks``) asks to. ``sample_weight`` weighs the
    training loss; ``user_sample_weight`` (the user's, without class weights)
    the validation score and the callbacks' metadata. ``params``: what
    ``_state.flat_params(est)`` returns, if the caller has it; ``batch_size``:
    the clipped batch size, if the caller computed it; ``check_x``: the
    engine checks each shuffled row of a dense X for NaN and infinity as it
    gathers it (ValueError ``_train.X_NOT_FINITE``, after partial updates:
    the caller restores)."""
    if params is None:
        params = _state.flat_params(est)
    if not incremental or not hasattr(est, "_optimizer"):
        est._optimizer = _Optimizer(
            est.solver,
            params.size,
            params.dtype,
            est.learning_rate_init,
            est.learning_rate,
            est.momentum,
            est.nesterovs_momentum,
            est.power_t,
            est.beta_1,
            est.beta_2,
            est.epsilon,
        )
    opt = est._optimizer

    if est.early_stopping and incremental:
        raise ValueError("partial_fit does not support early_stopping=True")
    early_stopping = est.early_stopping
    # solver or early_stopping switched since the first fit (warm start, or
    # partial_fit after an early-stopping fit): start the records the other
    # mode never kept, where scikit-learn fails on a missing or None attribute
    if not hasattr(est, "loss_curve_"):
        est.loss_curve_ = []
        est._no_improvement_count = 0
        est.best_loss_ = est.validation_scores_ = est.best_validation_score_ = None
    if early_stopping and est.validation_scores_ is None:
        est.validation_scores_ = []
        est.best_validation_score_ = -np.inf
    elif not early_stopping and est.best_loss_ is None:
        est.best_loss_ = np.inf
    if early_stopping:
        X_train, Y_train, sw_train, X_val, y_val, sw_val, usw_train = _validation_split(
            est, X, Y, sample_weight, user_sample_weight)
    else:
        X_train, Y_train, sw_train = X, Y, sample_weight
        X_val = y_val = sw_val = None
        usw_train = user_sample_weight
    if watch is not None:
        watch.epoch_data(X_train, _callbacks.labels(est, Y_train), usw_train)
    X_train = engine_input(X_train, params.dtype)

    n_samples = X_train.shape[0]
    sample_idx = np.arange(n_samples, dtype=np.intp)
    if batch_size is not None:
        pass  # the caller's, computed as below (and no warning to give)
    elif est.batch_size == "auto":
        batch_size = min(200, n_samples)
    else:
        if est.batch_size > n_samples:
            warnings.warn(
                "Got `batch_size` less than 1 or larger than "
                "sample size. It is going to be clipped"
            )
        batch_size = int(min(max(est.batch_size, 1), n_samples))  # np.clip's

    # rows of a dense X are gathered per shuffled batch; CSR rows are read in place
    gather_x = est.shuffle and not isinstance(X_train, _train.CSR)
    if incremental:
        # partial_fit: the previous call's Network, Workspace and gradient
        # buffer when the network, batch size, dtype and gathering are the same
        scratch = _scratch.get(est)
        net, ws, grads = scratch.engine(
            scratch.network_key(est, layout), lambda: _state.network(est, layout),
            batch_size, params.dtype, gather_x)
    else:
        net = _state.network(est, layout)
        ws = _train.Workspace(net, batch_size, params.dtype, gather_x)
        grads = np.empty_like(params)
    if sw_train is not None:
        sw_train = np.ascontiguousarray(sw_train, dtype=params.dtype)

    in_epoch = False
    try:
        est.n_iter_ = 0
        for it in range(est.max_iter):
            order = None
            if est.shuffle:
                # sklearn.utils.shuffle(sample_idx, random_state=rs), without
                # its per-call validation: the same RandomState.shuffle draw
                perm = np.arange(n_samples, dtype=np.intp)
                est._random_state.shuffle(perm)
                # the first epoch's sample_idx is arange: sample_idx[perm] is perm
                sample_idx = perm if it == 0 else sample_idx[perm]
                order = sample_idx
            if watch is not None:
                watch.epoch_begin()
            t_before, in_epoch, ws.steps = opt.t, True, 0
            accumulated_loss, opt.t = _train.train_epoch(
                net, ws, X_train, Y_train, sw_train, order, params, grads,
                opt.state1, opt.state2, opt.step_rule(est.alpha), opt.t, check_x)
            in_epoch = False
            if opt.solver == "adam":
                opt.learning_rate = _adam_rate(opt)
            est.n_iter_ += 1
            est.loss_ = accumulated_loss / n_samples
            est.t_ += n_samples
            est.loss_curve_.append(est.loss_)
            if est.verbose:
                print("Iteration %d, loss = %.8f" % (est.n_iter_, est.loss_))

            _update_no_improvement_count(est, early_stopping, X_val, y_val, sw_val)
            opt.iteration_ends(est.t_)
            stop_requested = watch is not None and watch.epoch_end()

            if est._no_improvement_count > est.n_iter_no_change:
                if opt.trigger_stopping(_stalled(est, early_stopping), est.verbose):
                    break
                est._no_improvement_count = 0

            if incremental or stop_requested:
                break

            if est.n_iter_ == est.max_iter:
                warnings.warn(
                    "Stochastic Optimizer: Maximum iterations (%d) "
                    "reached and the optimization hasn't converged yet."
                    % est.max_iter,
                    ConvergenceWarning,
                )
    except KeyboardInterrupt:
        if in_epoch:
            # Ctrl-C inside an epoch (the engine looks for it every 50 ms): its
            # updates stay, n_iter_ / t_ / loss_curve_ do not advance; Adam's
            # step count and learning rate do, per step, as in scikit-learn
            _interrupted_epoch(opt, t_before, ws.steps)
        if watch is not None:
            watch.epoch_abort()
        warnings.warn("Training interrupted by user.")

    if early_stopping:
        # restore the best weights, in place so coefs_ stay views
        for c, best in zip(est.coefs_, est._best_coefs):
            c[...] = best
        for b, best in zip(est.intercepts_, est._best_intercepts):
            b[...] = best


def partial_epoch(est, scratch, X, Y, layout, params, batch_size, check_x):
    """``fit_stochastic(est, X, Y, None, layout, True, params=params,
    batch_size=batch_size, check_x=check_x)`` for partial_fit's lean path
    (``_base._partial_fit_plain``), which has checked what makes the rest of
    fit_stochastic's set-up a no-op: the optimizer and records of a previous
    call, no early stopping, no callback, no sample weight, a dense X of the
    parameters' dtype, verbose off. The same epoch, the same records, the
    same stopping rule and interruption, in fewer steps (a 200-row call is
    a single minibatch: this Python is most of its fixed cost). ``scratch``:
    the estimator's (``_scratch.get(est)``), which the caller has."""
    opt = est._optimizer
    n_samples = X.shape[0]
    shuffle = est.shuffle
    net, ws, grads = scratch.engine(
        scratch.network_key(est, layout), lambda: _state.network(est, layout), batch_size,
        params.dtype, shuffle)
    in_epoch = False
    try:
        est.n_iter_ = 0
        order = None
        if shuffle:
            order = np.arange(n_samples, dtype=np.intp)
            est._random_state.shuffle(order)
        t_before, in_epoch, ws.steps = opt.t, True, 0
        accumulated_loss, opt.t = _train.train_epoch(
            net, ws, X, Y, None, order, params, grads, opt.state1, opt.state2,
            opt.step_rule(est.alpha), opt.t, check_x)
        in_epoch = False
        if opt.solver == "adam":
            opt.learning_rate = _adam_rate(opt)
        est.n_iter_ = 1
        est.loss_ = loss = accumulated_loss / n_samples
        est.t_ += n_samples
        est.loss_curve_.append(loss)
        _update_no_improvement_count(est, False, None, None, None)
        opt.iteration_ends(est.t_)
        if est._no_improvement_count > est.n_iter_no_change:
            if not opt.trigger_stopping(_stalled(est, False), False):
                est._no_improvement_count = 0
    except KeyboardInterrupt:
        if in_epoch:
            _interrupted_epoch(opt, t_before, ws.steps)
        warnings.warn("Training interrupted by user.")


def _validation_split(est, X, Y, sample_weight, user_sample_weight=None):
    """early_stopping's held-out set: scikit-learn's own train_test_split with
    the same draws (stratified for single-output classification only, as
    scikit-learn's code decides), and the validation targets as ``score``
    takes them. With class weights, the validation score weighs by the
    user's ``user_sample_weight`` alone (as SGDClassifier), split alongside;
    its training part is returned last (for the callbacks)."""
    should_stratify = is_classifier(est) and est.n_outputs_ == 1
    stratify = Y.astype(bool) if should_stratify else None
    arrays = [X, Y] if sample_weight is None else [X, Y, sample_weight]
    own_user_sw = user_sample_weight is not sample_weight
    if own_user_sw and user_sample_weight is not None:
        arrays.append(user_sample_weight)  # more arrays, the same draws
    split = train_test_split(
        *arrays,
        random_state=est._random_state,
        test_size=est.validation_fraction,
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
    if is_classifier(est):
        y_val = est._label_binarizer.inverse_transform(Y_val.astype(bool))
    else:
        y_val = Y_val if Y_val.shape[1] > 1 else Y_val.ravel()
    return X_train, np.ascontiguousarray(Y_train), sw_train, X_val, y_val, sw_val, usw_train


def _stalled(est, early_stopping):
    """scikit-learn's message when ``n_iter_no_change`` epochs did not improve."""
    if early_stopping:
        return ("Validation score did not improve more than tol=%f for %d consecutive "
                "epochs." % (est.tol, est.n_iter_no_change))
    return ("Training loss did not improve more than tol=%f for %d consecutive epochs."
            % (est.tol, est.n_iter_no_change))


def _adam_rate(opt):
    """scikit-learn's AdamOptimizer.learning_rate after ``opt.t`` steps, as a
    float: ``lr * np.sqrt(1 - beta_2**t) / (1 - beta_1**t)``; math.sqrt for
    Python floats (the same bits; NumPy scalars keep NumPy's promotions)."""
    lr, b1, b2, t = opt.learning_rate_init, opt.beta_1, opt.beta_2, opt.t
    sqrt = math.sqrt if type(lr) is float and type(b1) is float and type(b2) is float else np.sqrt
    return float(lr * sqrt(1 - b2**t) / (1 - b1**t))


def _interrupted_epoch(opt, t_before, steps):
    """The optimizer after an epoch that a signal stopped after ``steps`` steps."""
    if opt.solver == "adam":
        opt.t = t_before + steps
        if opt.t:
            opt.learning_rate = _adam_rate(opt)


def _update_no_improvement_count(est, early_stopping, X, y, sample_weight):
    if early_stopping:
        val_score = est._score(X, y, sample_weight=sample_weight)
        est.validation_scores_.append(val_score)
        if est.verbose:
            print("Validation score: %f" % est.validation_scores_[-1])
        last_valid_score = est.validation_scores_[-1]
        if last_valid_score < (est.best_validation_score_ + est.tol):
            est._no_improvement_count += 1
        else:
            est._no_improvement_count = 0
        if last_valid_score > est.best_validation_score_:
            est.best_validation_score_ = last_valid_score
            est._best_coefs = [c.copy() for c in est.coefs_]
            est._best_intercepts = [i.copy() for i in est.intercepts_]
    else:
        if est.loss_curve_[-1] > est.best_loss_ - est.tol:
            est._no_improvement_count += 1
        else:
            est._no_improvement_count = 0
        if est.loss_curve_[-1] < est.best_loss_:
            est.best_loss_ = est.loss_curve_[-1]
