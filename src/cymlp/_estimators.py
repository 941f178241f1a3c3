"""The public estimators: MLPClassifier and MLPRegressor.

Their parameters, defaults, constraints and documentation; what differs
between them (labels or numeric targets, the output activation, the score);
predict, predict_proba and the tags. Fitting is ``cymlp._base``'s, training
``cymlp._solvers``'s, and the fitted state is described in ``cymlp._state``.
"""

from numbers import Integral, Real

import numpy as np
from sklearn import get_config
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.metrics import accuracy_score, r2_score
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import (
    _check_partial_fit_first_call,
    type_of_target,
    unique_labels,
)
from sklearn.utils.validation import check_is_fitted

from cymlp import _class_weight, _scratch, _state, _train
from cymlp._base import BaseMultilayerPerceptron, partial_fit_context

_PARAMETER_CONSTRAINTS = {
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


_PARAMETERS = """\
    hidden_layer_sizes : array-like of shape (n_layers - 2,), default=(100,)
        The ith element is the number of neurons in the ith hidden layer; an
        int is one hidden layer, an empty sequence none.
    activation : {'identity', 'logistic', 'tanh', 'relu'}, default='relu'
        Activation function for the hidden layers: 'identity' is
        ``f(x) = x``, 'logistic' the sigmoid ``1 / (1 + exp(-x))``, 'tanh'
        ``tanh(x)`` and 'relu' ``max(0, x)``.
    solver : {'lbfgs', 'sgd', 'adam'}, default='adam'
        The solver for weight optimization: 'lbfgs' is scipy's L-BFGS-B
        quasi-Newton method on the whole data set, 'sgd' minibatch stochastic
        gradient descent, 'adam' the stochastic optimizer of Kingma and Ba.
        'adam' works well on large data sets (thousands of samples or more);
        'lbfgs' converges faster and often better on small ones.
    alpha : float, default=0.0001
        Strength of the L2 regularization term, added to the loss after
        division by the number of samples.
    batch_size : int or 'auto', default='auto'
        Size of the minibatches of the stochastic solvers; 'auto' is
        ``min(200, n_samples)``, a larger value is clipped (with a warning).
        Unused by 'lbfgs'.
    learning_rate : {'constant', 'invscaling', 'adaptive'}, default='constant'
        Learning rate schedule of solver='sgd': 'constant' keeps
        ``learning_rate_init``; 'invscaling' sets it after each epoch to
        ``learning_rate_init / (t_ + 1) ** power_t`` (scikit-learn's code);
        'adaptive' keeps it while the training loss keeps decreasing (or the
        validation score increasing, with ``early_stopping``), and divides it
        by 5 each time ``n_iter_no_change + 1`` consecutive epochs fail to
        improve by ``tol``, until it is below 1e-6.
    learning_rate_init : float, default=0.001
        The initial learning rate (solver='sgd' or 'adam').
    power_t : float, default=0.5
        The exponent of the 'invscaling' learning rate (solver='sgd').
    max_iter : int, default=200
        Maximum number of iterations: epochs (how many times each sample is
        used) for the stochastic solvers, iterations of L-BFGS for 'lbfgs'.
        The solver stops earlier when ``tol`` is met.
    shuffle : bool, default=True
        Whether to shuffle the samples in each epoch (solver='sgd' or
        'adam'), as scikit-learn does, with the same draws.
    random_state : int, RandomState instance or None, default=None
        Determines the initial weights and biases, the train / validation
        split of ``early_stopping`` and the minibatch order. An int gives
        reproducible results, and the same model as scikit-learn's estimator
        with the same ``random_state``.
    tol : float, default=1e-4
        Tolerance for the optimization: when the loss (or, with
        ``early_stopping``, the validation score) does not improve by at
        least ``tol`` for ``n_iter_no_change`` consecutive epochs,
        convergence is reached and training stops (unless
        learning_rate='adaptive', which first lowers the learning rate).
        For 'lbfgs', the gradient tolerance.
    verbose : bool, default=False
        Whether to print the loss of each epoch (and the validation score)
        to stdout.
    warm_start : bool, default=False
        When True, ``fit`` continues from the previous solution (weights and
        optimizer state) instead of starting over.
    momentum : float, default=0.9
        Momentum of the gradient descent update, between 0 and 1
        (solver='sgd').
    nesterovs_momentum : bool, default=True
        Whether to use Nesterov's momentum (solver='sgd' and momentum > 0).
    early_stopping : bool, default=False
        Whether to stop training when the score on a held-out validation set
        (``validation_fraction`` of the training data, stratified for
        single-output classification) does not improve by at least ``tol``
        for ``n_iter_no_change`` consecutive epochs; the weights of the best
        epoch are kept. Only for the stochastic solvers; partial_fit refuses
        it.
    validation_fraction : float, default=0.1
        The proportion of the training data set aside as the validation set
        of ``early_stopping``, between 0 and 1.
    beta_1 : float, default=0.9
        Exponential decay rate of adam's first moment estimates, in [0, 1).
    beta_2 : float, default=0.999
        Exponential decay rate of adam's second moment estimates, in [0, 1).
    epsilon : float, default=1e-8
        Value for numerical stability in adam's update.
    n_iter_no_change : int, default=10
        Maximum number of epochs that do not improve by ``tol`` before
        training stops (solver='sgd' or 'adam'); ``numpy.inf`` never stops on
        it.
    max_fun : int, default=15000
        Maximum number of loss function calls of 'lbfgs'; the solver stops
        when either ``max_iter`` or ``max_fun`` is reached.
"""


_CLASS_WEIGHT = """\
    class_weight : dict, list of dicts, "balanced" or None, default=None
        cymlp's own (scikit-learn's MLPClassifier has none). Class weights,
        multiplying ``sample_weight`` in the training loss: ``{label: weight}``
        (missing labels weigh 1), "balanced" for ``n_samples / (n_classes *
        np.bincount(y))``, or for multilabel y one ``{0: w0, 1: w1}`` per
        column, as ``sklearn.utils.class_weight.compute_sample_weight``. Early
        stopping's validation score uses ``sample_weight`` alone; partial_fit
        refuses "balanced" (as SGDClassifier) and weighs a dict over
        ``classes_``.
"""


def _attributes(score, out_activations):
    return f"""\
    loss_ : float
        The current loss computed with the loss function (the training loss
        of the last epoch, with the regularization term).
    best_loss_ : float or None
        The minimum training loss reached during fitting; None with
        ``early_stopping`` (see ``best_validation_score_``). Only set by the
        stochastic solvers.
    loss_curve_ : list of shape (n_iter_,)
        The training loss at the end of each epoch. Only set by the
        stochastic solvers.
    validation_scores_ : list of shape (n_iter_,) or None
        The {score} on the held-out validation set at the end of each epoch,
        with ``early_stopping``; None otherwise. Only set by the stochastic
        solvers.
    best_validation_score_ : float or None
        The best validation score ({score}) reached, with ``early_stopping``;
        None otherwise. Only set by the stochastic solvers.
    t_ : int
        The number of training samples seen by the solver during fitting
        (``n_iter_ * n_samples``): the time step of the 'invscaling' schedule.
    coefs_ : list of shape (n_layers - 1,)
        The ith element is the weight matrix of layer i, of shape
        ``(units of layer i, units of layer i + 1)``. The arrays are views
        into one flat parameter buffer; assigning new arrays is honoured.
    intercepts_ : list of shape (n_layers - 1,)
        The ith element is the bias vector of layer i + 1.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features seen during fit. Defined only when X has
        feature names that are all strings.
    n_iter_ : int
        The number of iterations the solver has run (epochs for the
        stochastic solvers).
    n_layers_ : int
        Number of layers, input and output layers included.
    n_outputs_ : int
        Number of outputs.
    out_activation_ : str
        Name of the output activation function: {out_activations}.
"""


class MLPClassifier(ClassifierMixin, BaseMultilayerPerceptron):
    """Multi-layer Perceptron classifier, compiled: scikit-learn's MLPClassifier, faster.

    A feed-forward network trained on the log-loss (cross-entropy) by L-BFGS
    or minibatch stochastic gradient descent (sgd, adam), with a softmax
    output for multiclass targets and independent logistic outputs for
    binary and multilabel ones.

    The same parameters, defaults, attributes, methods, warnings and errors as
    ``sklearn.neural_network.MLPClassifier`` (scikit-learn 1.9); with the
    same ``random_state`` it draws the same initial weights, validation split
    and per-epoch permutations, so the models agree. The training loop runs
    in Cython without the GIL. See the README, "Differences from
    scikit-learn", for the documented differences (e.g. a failed fit leaves
    the model as it was).

    Parameters
    ----------
%(parameters)s
    Attributes
    ----------
    classes_ : ndarray or list of ndarray of shape (n_classes,)
        The class labels (for multilabel targets, the indices of the label
        columns).
%(attributes)s
    See Also
    --------
    MLPRegressor : Multi-layer Perceptron regressor.
    sklearn.neural_network.MLPClassifier : The estimator this one replaces.

    Notes
    -----
    ``coefs_`` and ``intercepts_`` are views into one flat parameter buffer,
    which the engine trains in place. X may be dense or sparse (CSR or CSC:
    never densified); float32 X trains in float32. Fitted models pickle, and
    ``save`` writes a pickle-free file that ``cymlp.load`` reads.

    Examples
    --------
    >>> import cymlp
    >>> from sklearn.datasets import load_digits
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = cymlp.MLPClassifier(random_state=0, max_iter=50).fit(X / 16, y)
    >>> clf.predict(X[:3] / 16)
    array([0, 1, 2])
    >>> clf.predict_proba(X[:1] / 16).shape
    (1, 10)
    >>> clf.score(X / 16, y) > 0.95
    True
    """

    __doc__ %= {"parameters": _PARAMETERS + _CLASS_WEIGHT, "attributes": _attributes(
        "accuracy", "'softmax' (multiclass) or 'logistic' (binary, multilabel)")}

    _parameter_constraints: dict = {
        **_PARAMETER_CONSTRAINTS,
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

    def _validate_input(self, X, y, incremental, reset):
        X, y = self._validated_xy(X, y, incremental, reset, y_2d=False)
        if (not hasattr(self, "classes_")) or (not self.warm_start and not incremental):
            self._label_binarizer = LabelBinarizer()
            self._label_binarizer.fit(y)
            self.classes_ = self._label_binarizer.classes_
        elif incremental and not self.warm_start and (known := self._known_labels(y)) is not None:
            # scikit-learn's check below would pass (nothing to raise); the
            # positions found are the one-hot's columns
            return X, known
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
        return X, self._binarize(y)

    def _known_labels(self, y, target=None):
        """``self._binarize(y)`` if every label of y is in ``classes_`` and
        the check of ``_validate_input`` (scikit-learn's ``unique_labels(y)``
        and its comparison with ``classes_``) is known to pass; else None,
        and the caller runs that check (which raises or passes). For 1-D
        numeric y of the same kind as ``classes_`` (signed, unsigned, bool or
        float), a binary or multiclass label binarizer of the same classes:
        one searchsorted, where those checks cost more than a 200-row
        minibatch.

        Floats: unique_labels refuses non-integral values ('continuous'); y's
        values are all values of ``classes_``, so checking ``classes_`` checks
        y, by the same expression as type_of_target's.

        ``target``: for labels 0 to n - 1 in int32 / int64, a function
        ``(rows, cols)`` giving a C-contiguous float array of that shape; the
        targets are then that array, filled as floats by the engine's
        ``one_hot`` in one pass, instead of the boolean rows."""
        classes = self.classes_
        lb = self._label_binarizer
        if (y.ndim != 1 or y.dtype.kind not in "biuf" or type(classes) is not np.ndarray
                or classes.ndim != 1 or classes.dtype.kind != y.dtype.kind
                or classes.size < 2 or lb.y_type_ not in ("binary", "multiclass")):
            return None
        if lb.classes_ is not classes and not _scratch.same_values(lb.classes_, classes):
            return None
        if y.dtype.kind == "f":
            with np.errstate(invalid="ignore"):
                if np.any(classes != classes.astype(np.int64).astype(classes.dtype)):
                    return None
        arange = y.dtype.kind in "iu" and classes[0] == 0 and classes[-1] == classes.size - 1
        if (arange and target is not None and y.dtype.kind == "i"
                and y.dtype.itemsize in (4, 8) and y.flags.c_contiguous):
            out = target(y.shape[0], 1 if classes.size == 2 else classes.size)
            if _train.one_hot(y, classes.size, out):
                return out
        if arange and y.size and 0 <= y.min() and y.max() < classes.size:
            # classes_ is sorted and unique: from 0 to size - 1 it is arange(size),
            # every y in that range is a label, and its own column
            col = y
        else:
            col = np.searchsorted(classes, y)
            if not (classes.take(col, mode="clip") == y).all():
                return None
        # the rows of the identity: LabelBinarizer's one-hot (binary: the
        # positive class's column only), as _binarize builds it
        eye = _scratch.identity(classes.size)
        return (eye[:, 1:] if classes.size == 2 else eye).take(col, axis=0)

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
        if len(classes) <= 2:
            # one column; all False for a single class, as LabelBinarizer gives
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
        plain = self._forward_plain(X)
        if plain is None:
            check_is_fitted(self)
            return self._predict(X)
        return self._decode(*plain)

    def _predict(self, X, check_input=True):
        y_pred = self._forward_pass_fast(X, check_input=check_input)
        return self._decode(_state.current_serving(self), y_pred)

    def _decode(self, serving, y_pred):
        """The labels of the output activations ``y_pred`` (n, n_outputs):
        ``self._label_binarizer.inverse_transform`` of them (raveled for one
        output), as scikit-learn's predict; with the labels' decoding of the
        fitted state's ``serving`` (``_state.Serving.decode``; None: none) by
        its own arithmetic, without inverse_transform's Python overhead (the
        same labels, dtype and shape)."""
        decode = None if serving is None else serving.decode
        if decode is None or get_config()["array_api_dispatch"]:
            if self.n_outputs_ == 1:
                y_pred = y_pred.ravel()
            return self._label_binarizer.inverse_transform(y_pred)
        if decode[0] == "multiclass":
            return decode[1].take(y_pred.argmax(axis=1))
        if decode[0] == "binary":
            return decode[1].take((y_pred.ravel() > decode[2]).astype(np.intp))
        return (y_pred > decode[1]).astype(np.intp)

    def _score(self, X, y, sample_weight=None):
        return self._score_with_function(X, y, sample_weight, accuracy_score)

    def _partial_fit_lean(self, args, kwargs):
        """partial_fit's lean path (``_partial_fit_plain``), tried first by
        ``partial_fit_context`` with the call's arguments: True if it trained
        on them. Only ``(X, y)`` and ``classes=`` (no sample_weight); any
        other form, a wrong one included, is left to partial_fit itself."""
        if len(args) != 2 or (kwargs and kwargs.keys() != {"classes"}):
            return None
        return self._partial_fit_plain(args[0], args[1], kwargs.get("classes"))

    @available_if(lambda est: est._check_solver())
    @partial_fit_context
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
            # scikit-learn's check of classes= (unique_labels: more than a
            # 200-row minibatch) runs once per value of classes= and
            # classes_; a stream repeating the same array passes it again
            scratch = _scratch.get(self)
            if classes is not None and scratch.classes_checked(
                    classes, getattr(self, "classes_", None)):
                return
            if _check_partial_fit_first_call(self, classes):
                self._label_binarizer = LabelBinarizer()
                if type_of_target(y).startswith("multilabel"):
                    self._label_binarizer.fit(y)
                else:
                    self._label_binarizer.fit(classes)
            if classes is not None:
                scratch.remember_classes(classes, self.classes_)

        return self._fit(X, y, sample_weight, incremental=True, before=first_call_labels)

    def predict_log_proba(self, X):
        """Return the log of probability estimates.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
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
        plain = self._forward_plain(X)
        if plain is None:
            check_is_fitted(self)
            y_pred = self._forward_pass_fast(X)
        else:
            y_pred = plain[1]
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

    A feed-forward network trained on the squared error (or the Poisson
    deviance) by L-BFGS or minibatch stochastic gradient descent (sgd, adam),
    with one linear output per target (exponential outputs for 'poisson').

    The same parameters, defaults, attributes, methods, warnings and errors as
    ``sklearn.neural_network.MLPRegressor`` (scikit-learn 1.9), ``loss``
    first; with the same ``random_state`` it draws the same initial weights,
    validation split and per-epoch permutations, so the models agree. The
    training loop runs in Cython without the GIL. See the README,
    "Differences from scikit-learn", for the documented differences.

    Parameters
    ----------
    loss : {'squared_error', 'poisson'}, default='squared_error'
        The loss function: 'squared_error' is half the mean squared error
        (summed over the outputs); 'poisson' is the Poisson deviance with an
        exponential output, and requires y >= 0 (a negative y is a
        ValueError).
%(parameters)s
    Attributes
    ----------
%(attributes)s
    See Also
    --------
    MLPClassifier : Multi-layer Perceptron classifier.
    sklearn.neural_network.MLPRegressor : The estimator this one replaces.

    Notes
    -----
    ``coefs_`` and ``intercepts_`` are views into one flat parameter buffer,
    which the engine trains in place. X may be dense or sparse (CSR or CSC:
    never densified); float32 X trains in float32, y included. Fitted models
    pickle, and ``save`` writes a pickle-free file that ``cymlp.load`` reads.

    Examples
    --------
    >>> import cymlp
    >>> from sklearn.datasets import make_regression
    >>> X, y = make_regression(n_samples=200, n_features=20, random_state=1)
    >>> reg = cymlp.MLPRegressor(random_state=1, max_iter=2000, tol=0.1).fit(X, y)
    >>> reg.predict(X[:2]).shape
    (2,)
    >>> reg.score(X, y) > 0.9
    True
    """

    __doc__ %= {"parameters": _PARAMETERS, "attributes": _attributes(
        "R2 score", "'identity' (squared_error) or 'exp' (poisson)")}

    _parameter_constraints: dict = {
        **_PARAMETER_CONSTRAINTS,
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
        plain = self._forward_plain(X)
        if plain is None:
            check_is_fitted(self)
            return self._predict(X)
        y_pred = plain[1]
        if y_pred.shape[1] == 1:
            return y_pred.ravel()
        return y_pred

    def _predict(self, X, check_input=True):
        y_pred = self._forward_pass_fast(X, check_input=check_input)
        if y_pred.shape[1] == 1:
            return y_pred.ravel()
        return y_pred

    def _score(self, X, y, sample_weight=None):
        return self._score_with_function(X, y, sample_weight, r2_score)

    def _validate_input(self, X, y, incremental, reset):
        X, y = self._validated_xy(X, y, incremental, reset, y_2d=True, y_numeric=True)
        if self.loss == "poisson" and np.any(y < 0):
            raise ValueError(
                "loss='poisson' requires non-negative y (the Poisson deviance is "
                "not defined for y < 0)."
            )
        return X, y

    def _partial_fit_lean(self, args, kwargs):
        """partial_fit's lean path (``_partial_fit_plain``), tried first by
        ``partial_fit_context`` with the call's arguments: True if it trained
        on them. Only ``(X, y)``; any other form is left to partial_fit."""
        if len(args) != 2 or kwargs:
            return None
        return self._partial_fit_plain(args[0], args[1])

    @available_if(lambda est: est._check_solver())
    @partial_fit_context
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
        return self._fit(X, y, sample_weight, incremental=True)


MLP = MLPClassifier

# Pickles name the public path (cymlp.MLPClassifier), so that moving a class
# between private modules never breaks them; save/load finds them here.
MLPClassifier.__module__ = MLPRegressor.__module__ = "cymlp"
_state.ESTIMATORS.update(MLPClassifier=MLPClassifier, MLPRegressor=MLPRegressor)
