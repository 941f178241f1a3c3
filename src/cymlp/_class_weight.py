"""``MLPClassifier(class_weight=...)``: class weights as a factor of the training loss's
sample weights.

The meanings and errors are scikit-learn's (``compute_sample_weight`` /
``compute_class_weight``, as its forests and linear classifiers use them):

- None: no class weights (the fit is exactly the fit without the parameter);
- ``"balanced"``: ``n_samples / (n_classes * np.bincount(y))`` over the y of
  ``fit`` (for multilabel y, the product of each column's balanced weights);
- a dict ``{label: weight}`` (labels missing from it weigh 1);
- for multilabel y, a list of one dict per column, keyed by 0 and 1.

The class weights multiply the user's ``sample_weight`` in the training loss
only. As in SGDClassifier, early stopping's validation score uses the user's
``sample_weight`` alone, and ``partial_fit`` refuses ``"balanced"`` (one batch
does not give the class frequencies) with SGDClassifier's message; a dict
works there, weighing the labels of ``classes_``.
"""

import numpy as np
from sklearn.utils.class_weight import compute_class_weight, compute_sample_weight
from sklearn.utils.validation import _check_sample_weight

PARTIAL_FIT_BALANCED = (
    "class_weight '{0}' is not supported for "
    "partial_fit. In order to use 'balanced' weights,"
    " use compute_class_weight('{0}', "
    "classes=classes, y=y). "
    "In place of y you can use a large enough sample "
    "of the full training set target to properly "
    "estimate the class frequency distributions. "
    "Pass the resulting weights as the class_weight "
    "parameter."
)


def check_partial_fit(est):
    """SGDClassifier's refusal of class_weight='balanced' in partial_fit."""
    if isinstance(getattr(est, "class_weight", None), str) and est.class_weight == "balanced":
        raise ValueError(PARTIAL_FIT_BALANCED.format(est.class_weight))


def sample_weights(est, X, Y, sample_weight, incremental):
    """The training loss's and the validation score's sample weights, in X's dtype.

    ``Y`` is the binarized target (what the engine trains on); ``sample_weight``
    the user's, not validated yet. Returns ``(train, user)``: ``user`` is the
    validated user weight (or None); ``train`` is ``user`` itself without
    class weights, else the class weights times it, computed in float64 and
    cast once, exactly as the same product passed as ``sample_weight`` would be.
    """
    user = None
    if sample_weight is not None:
        user = _check_sample_weight(sample_weight, X, dtype=X.dtype)
    cw = getattr(est, "class_weight", None)
    if cw is None:
        return user, user
    lb = est._label_binarizer
    if lb.y_type_ == "multilabel-indicator":
        # one output per column, classes 0 and 1 (the user's indicator matrix)
        w = compute_sample_weight(cw, np.asarray(Y).astype(np.int64))
    else:
        y = lb.inverse_transform(np.asarray(Y))
        if incremental:
            # SGDClassifier: the weights of all classes_, looked up for this batch
            w = compute_class_weight(cw, classes=est.classes_, y=y)
            w = w[np.searchsorted(est.classes_, y)]
        else:
            w = compute_sample_weight(cw, y)
    w = np.asarray(w, dtype=np.float64)
    if sample_weight is not None:
        w = w * _check_sample_weight(sample_weight, X, dtype=np.float64)
    return w.astype(X.dtype, copy=False), user
