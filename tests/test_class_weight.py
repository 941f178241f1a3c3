"""MLPClassifier(class_weight=...): the same model as the equivalent sample_weight, bit for
bit; scikit-learn's meanings and errors; early stopping's validation score on the user's
weights alone; partial_fit as SGDClassifier; validation, pickling, save / load (format 2,
version-1 files still load); scikit-learn's class-weight estimator checks."""

import pickle
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import accuracy_score
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.class_weight import compute_class_weight, compute_sample_weight
from sklearn.utils.estimator_checks import (
    check_class_weight_balanced_classifiers,
    check_class_weight_classifiers,
)

import cymlp
from cymlp import MLPClassifier

RNG = np.random.RandomState(0)
X = RNG.randn(180, 5)
Y = np.r_[np.zeros(110, int), np.ones(50, int), np.full(20, 2)]  # imbalanced
Y = Y[RNG.permutation(len(Y))]
X[:, 0] += Y  # learnable
SW = RNG.uniform(0.2, 2.0, len(Y))
YML = np.stack([Y == 0, Y == 2, X[:, 1] > 0.5], 1).astype(int)
DATA = Path(__file__).parent / "data"


def _fit(est, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(*args, **kw)


def _same(a, b):
    np.testing.assert_array_equal(a._params, b._params)
    assert a.loss_ == b.loss_ and a.n_iter_ == b.n_iter_
    assert getattr(a, "loss_curve_", None) == getattr(b, "loss_curve_", None)


def _clf(solver, **kw):
    return MLPClassifier(**{**dict(hidden_layer_sizes=(7,), solver=solver, max_iter=8,
                                   batch_size=32, random_state=0), **kw})


# ----------------------------------------------------------------------
# the same model as the equivalent sample_weight
# ----------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("user_sw", [False, True])
@pytest.mark.parametrize("class_weight", ["balanced", {0: 0.3, 1: 2.0, 2: 5}, {2: 4.0, 7: 1.0,
                                                                             0: 1, 1: 1}])
@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
def test_class_weight_is_the_equivalent_sample_weight_bit_for_bit(solver, class_weight,
                                                                  user_sw, dtype):
    Xd = X.astype(dtype)
    sw = SW if user_sw else None
    equiv = compute_sample_weight(class_weight, Y) * (SW if user_sw else 1.0)
    a = _fit(_clf(solver, class_weight=class_weight), Xd, Y, sample_weight=sw)
    b = _fit(_clf(solver), Xd, Y, sample_weight=equiv)
    _same(a, b)
    c = _fit(_clf(solver), Xd, Y, sample_weight=sw)
    assert not np.array_equal(a._params, c._params)  # the weights did something


@pytest.mark.parametrize("class_weight", ["balanced", [{0: 1, 1: 3}, {0: 0.5, 1: 4.0},
                                                       {0: 2, 1: 1}]])
def test_multilabel_class_weight(class_weight):
    a = _fit(_clf("adam", class_weight=class_weight), X, YML)
    b = _fit(_clf("adam"), X, YML, sample_weight=compute_sample_weight(class_weight, YML))
    _same(a, b)


def test_string_labels_and_warm_start():
    ys = np.array(["no", "yes", "maybe"])[Y]
    cw = {"no": 0.5, "yes": 2.0, "maybe": 3.0}
    a = _fit(_clf("sgd", class_weight=cw, warm_start=True), X, ys)
    b = _fit(_clf("sgd", warm_start=True), X, ys, sample_weight=compute_sample_weight(cw, ys))
    _same(a, b)
    _same(_fit(a, X, ys), _fit(b, X, ys, sample_weight=compute_sample_weight(cw, ys)))


def test_default_is_none_and_none_changes_nothing():
    assert MLPClassifier().class_weight is None
    a = _fit(_clf("adam"), X, Y)
    b = _fit(_clf("adam", class_weight=None), X, Y)
    _same(a, b)
    assert not hasattr(cymlp.MLPRegressor(), "class_weight")


# ----------------------------------------------------------------------
# meanings and errors: scikit-learn's
# ----------------------------------------------------------------------
def _sklearn_error(class_weight, y):
    with pytest.raises(ValueError) as err:
        compute_sample_weight(class_weight, y)
    return re.escape(str(err.value))


@pytest.mark.parametrize("class_weight, y", [
    ({0: 1.0, 5: 2.0}, Y),                          # a label that is not a class
    ({0: 1.0, 1: 2.0}, YML),                        # multilabel needs a list
    ([{0: 1, 1: 2}], YML),                          # one dict per column
    ([{0: 1, 1: 2}, {0: 1, 1: 2}, {0: 1, 1: 2}], Y),  # a list for one output
])
def test_errors_are_compute_sample_weights(class_weight, y):
    with pytest.raises(ValueError, match=_sklearn_error(class_weight, y)):
        _fit(_clf("sgd", class_weight=class_weight), X, y)


@pytest.mark.parametrize("bad", ["balancd", 3, 0.5, (1, 2)])
def test_class_weight_is_validated_like_every_parameter(bad):
    est = _clf("sgd", class_weight=bad)
    with pytest.raises(InvalidParameterError, match="'class_weight' parameter of "
                       "MLPClassifier must be"):
        est.fit(X, Y)
    assert not hasattr(est, "coefs_")


def test_a_failed_class_weight_leaves_a_fitted_model_as_it_was():
    est = _fit(_clf("sgd"), X, Y)
    before = est._params.copy()
    est.set_params(class_weight={0: 1.0, 9: 2.0})
    with pytest.raises(ValueError, match="are not in class_weight"):
        est.fit(X, Y)
    np.testing.assert_array_equal(est._params, before)


# ----------------------------------------------------------------------
# early stopping: the validation score weighs by the user's sample_weight alone
# ----------------------------------------------------------------------
class _Models:
    """A callback keeping each epoch's model and training rows."""

    def __init__(self):
        self.models, self.train_rows = [], []

    def setup(self, estimator, context):
        pass

    def teardown(self, estimator, context):
        pass

    def on_fit_task_begin(self, estimator, context):
        pass

    def on_fit_task_end(self, estimator, context, *, X=None, fitted_estimator=None):
        if context.task_name == "epoch":
            self.models.append(fitted_estimator)
            self.train_rows.append(X)


@pytest.mark.parametrize("user_sw", [False, True])
def test_early_stopping_scores_validation_with_the_users_weights(user_sw):
    pytest.importorskip("sklearn.callback")
    if not cymlp._callbacks.AVAILABLE:
        pytest.skip("needs sklearn.callback")
    cw = {0: 0.2, 1: 3.0, 2: 8.0}
    sw = SW if user_sw else None
    rec = _Models()
    est = _clf("adam", class_weight=cw, early_stopping=True, validation_fraction=0.3,
               max_iter=6, tol=0.0, n_iter_no_change=100).set_callbacks(rec)
    _fit(est, X, Y, sample_weight=sw)
    assert len(rec.models) == 6
    train = {tuple(r) for r in rec.train_rows[0]}
    val = np.array([i for i in range(len(Y)) if tuple(X[i]) not in train])
    assert len(val) == int(np.ceil(0.3 * len(Y)))
    cw_val = compute_sample_weight(cw, Y[val]) * (1.0 if sw is None else sw[val])
    for model, score in zip(rec.models, est.validation_scores_):
        pred = model.predict(X[val])
        expected = accuracy_score(Y[val], pred, sample_weight=None if sw is None else sw[val])
        # (the rows' order differs from the split's: the weighted sum may differ in its
        # last bit)
        assert score == pytest.approx(expected, rel=1e-13, abs=0)
        assert score != pytest.approx(accuracy_score(Y[val], pred, sample_weight=cw_val))
    # the training loss is the class-weighted one: as the equivalent sample_weight
    equiv = compute_sample_weight(cw, Y) * (SW if user_sw else 1.0)
    ref = _fit(clone(est).set_params(class_weight=None).set_callbacks(), X, Y,
               sample_weight=equiv)
    assert ref.loss_curve_ == est.loss_curve_
    assert ref.validation_scores_ != est.validation_scores_  # weighted by cw there


# ----------------------------------------------------------------------
# partial_fit: SGDClassifier's behaviour
# ----------------------------------------------------------------------
def test_partial_fit_refuses_balanced_with_sgdclassifiers_message():
    with pytest.raises(ValueError) as theirs:
        SGDClassifier(class_weight="balanced").partial_fit(X, Y, classes=[0, 1, 2])
    est = _clf("sgd", class_weight="balanced")
    with pytest.raises(ValueError) as ours:
        est.partial_fit(X, Y, classes=[0, 1, 2])
    assert str(ours.value) == str(theirs.value)
    assert not hasattr(est, "coefs_")
    fitted = _fit(_clf("sgd", class_weight="balanced"), X, Y)  # fit takes it
    with pytest.raises(ValueError, match="is not supported for partial_fit"):
        fitted.partial_fit(X, Y)


def test_partial_fit_with_a_dict_weighs_over_all_classes():
    cw = {0: 0.5, 1: 2.0, 2: 4.0}
    a = _clf("sgd", class_weight=cw)
    b = _clf("sgd")
    classes = np.array([0, 1, 2])
    for lo, hi in [(0, 60), (60, 90), (90, 180)]:
        yb = Y[lo:hi] if lo else np.where(Y[lo:hi] == 2, 0, Y[lo:hi])  # no class 2 first
        w = compute_class_weight(cw, classes=classes, y=yb)[np.searchsorted(classes, yb)]
        a.partial_fit(X[lo:hi], yb, classes=classes if lo == 0 else None)
        b.partial_fit(X[lo:hi], yb, sample_weight=w, classes=classes if lo == 0 else None)
        _same(a, b)
    with pytest.raises(ValueError, match="are not in class_weight"):
        _clf("sgd", class_weight={0: 1.0, 5: 2.0}).partial_fit(X, Y, classes=classes)


# ----------------------------------------------------------------------
# pickling, save / load
# ----------------------------------------------------------------------
CLASS_WEIGHTS = {
    "int keys": ({0: 0.5, 1: 2, 2: 4.0}, Y),
    "numpy int keys": ({np.int64(0): 0.5, np.int64(1): 2.0, np.int64(2): 1.5}, Y),
    "str keys": ({"a": 1.0, "b": 3.0, "c": 0.25}, np.array(["a", "b", "c"])[Y]),
    "float keys": ({1.0: 1.0, 2.0: 3.0, 3.0: 0.25}, Y + 1.0),
    "bool keys": ({False: 1.0, True: 3.0}, Y == 1),
    "balanced": ("balanced", Y),
    "multilabel list": ([{0: 1, 1: 3}, {0: 0.5, 1: 4.0}, {0: 2, 1: 1}], YML),
}


@pytest.mark.parametrize("name", list(CLASS_WEIGHTS))
def test_class_weight_survives_pickle_and_save_load(tmp_path, name):
    cw, y = CLASS_WEIGHTS[name]
    est = _fit(_clf("adam", class_weight=cw), X, y)
    for how, copy in [("pickle", pickle.loads(pickle.dumps(est))),
                      ("save", _save_load(tmp_path, est))]:
        assert copy.class_weight == cw
        if isinstance(cw, dict):
            # pickle keeps the very types; the file keeps int, float, bool and str
            # (a numpy integer key comes back as a Python int)
            assert [type(k) for k in copy.class_weight] == [
                type(k.item() if how == "save" and isinstance(k, np.generic) else k)
                for k in cw]
        np.testing.assert_array_equal(copy.predict_proba(X), est.predict_proba(X))
        # and it keeps training with the same weights
        _same(_fit(clone(copy).set_params(warm_start=False), X, y),
              _fit(clone(est), X, y))


def _save_load(tmp_path, est):
    path = tmp_path / "m.npz"
    est.save(path)
    return cymlp.load(path)


def test_unsavable_class_weight_is_refused(tmp_path):
    est = _fit(_clf("sgd"), X, Y)
    est.class_weight = {(0, 1): 1.0}
    with pytest.raises(ValueError, match="cannot save a class_weight label"):
        est.save(tmp_path / "m.npz")


def test_a_version_1_file_still_loads():
    """tests/data/v1_classifier.npz was written by cymlp before class_weight (format 1):
    MLPClassifier((4,), sgd, 3 epochs, batch 10, random_state=0) on
    RandomState(0).randn(40, 3), y = arange(40) % 3."""
    import json
    import zipfile

    with zipfile.ZipFile(DATA / "v1_classifier.npz") as zf:
        header = json.loads(np.load(zf.open("header.npy")).tobytes())
    assert header["format_version"] == 1 and "class_weight" not in header["params"]
    loaded = cymlp.load(DATA / "v1_classifier.npz")
    assert loaded.class_weight is None
    Xf = np.random.RandomState(0).randn(40, 3)
    yf = np.arange(40) % 3
    ref = _fit(MLPClassifier((4,), solver="sgd", max_iter=3, batch_size=10, random_state=0),
               Xf, yf)
    np.testing.assert_array_equal(loaded._params, ref._params)
    np.testing.assert_array_equal(loaded.predict_proba(Xf), ref.predict_proba(Xf))
    assert loaded.get_params() == ref.get_params()
    # it continues training exactly as the model it was saved from
    loaded.partial_fit(Xf, yf)
    ref.partial_fit(Xf, yf)
    _same(loaded, ref)


# ----------------------------------------------------------------------
# scikit-learn's class-weight estimator checks
# ----------------------------------------------------------------------
@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
def test_sklearn_class_weight_checks(solver):
    est = MLPClassifier(solver=solver, max_iter=100)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check_class_weight_classifiers("MLPClassifier", est)
        # trained on 10:1 imbalanced blobs, tested on balanced ones: "balanced" must
        # raise the weighted f1, as the check asserts
        rng = np.random.RandomState(1)
        X_train, y_train = _blobs(rng, 300, 30)
        X_test, y_test = _blobs(rng, 100, 100)
        check_class_weight_balanced_classifiers(
            "MLPClassifier", MLPClassifier(hidden_layer_sizes=(5,), solver=solver,
                                           random_state=0),
            X_train, y_train, X_test, y_test, None)


def _blobs(rng, n0, n1):
    Xb = np.r_[rng.randn(n0, 2), rng.randn(n1, 2) + 1.5]
    yb = np.r_[np.zeros(n0, int), np.ones(n1, int)]
    perm = rng.permutation(len(yb))
    return Xb[perm], yb[perm]
