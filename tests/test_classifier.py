"""MLPClassifier's public surface, side by side with scikit-learn's."""

import contextlib
import inspect
import io
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_iris, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.neural_network import MLPRegressor as SkMLPRegressor
from sklearn.utils._param_validation import InvalidParameterError

from _util import quiet
import cymlp
from cymlp import MLPClassifier, MLPRegressor

TOL64 = dict(rtol=1e-6, atol=1e-10)


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(n_samples=600, n_features=10, n_informative=6,
                               n_classes=3, random_state=0)
    return X, y


def _assert_same_model(sk, cy, tol=TOL64):
    for a, b in zip(sk.coefs_ + sk.intercepts_, cy.coefs_ + cy.intercepts_):
        np.testing.assert_allclose(b, a, **tol)


def test_aliases_and_version():
    assert cymlp.MLP is cymlp.MLPClassifier
    assert isinstance(cymlp.__version__, str)


@pytest.mark.parametrize("ours, theirs", [(MLPClassifier, SkMLPClassifier),
                                          (MLPRegressor, SkMLPRegressor)])
def test_same_signature_and_defaults(ours, theirs):
    # scikit-learn's signature; MLPClassifier adds cymlp's class_weight=None at the end
    sig = inspect.signature(ours.__init__)
    params = dict(ours().get_params())
    if ours is MLPClassifier:
        extra = list(sig.parameters.values())[-1]
        assert extra.name == "class_weight" and extra.default is None
        assert extra.kind is inspect.Parameter.KEYWORD_ONLY
        sig = sig.replace(parameters=list(sig.parameters.values())[:-1])
        assert params.pop("class_weight") is None
    assert sig == inspect.signature(theirs.__init__)
    assert params == theirs().get_params()


@pytest.mark.parametrize("params", [
    dict(activation="softplus"), dict(solver="newton"), dict(alpha=-1.0),
    dict(batch_size=0), dict(learning_rate="linear"), dict(learning_rate_init=0.0),
    dict(max_iter=0), dict(momentum=1.5), dict(validation_fraction=1.0),
    dict(beta_1=1.0), dict(epsilon=0.0), dict(n_iter_no_change=0), dict(max_fun=0),
    dict(shuffle="yes"), dict(tol=-1.0),
])
def test_invalid_parameters_raise_like_sklearn(data, params):
    X, y = data
    with pytest.raises(InvalidParameterError) as ours:
        MLPClassifier(**params).fit(X, y)
    with pytest.raises(InvalidParameterError) as theirs:
        SkMLPClassifier(**params).fit(X, y)
    # same message, up to the (hash-dependent) order of the options in a set
    ours_msg = str(ours.value).replace("MLPClassifier", "")
    theirs_msg = str(theirs.value).replace("MLPClassifier", "")
    assert sorted(ours_msg) == sorted(theirs_msg)
    assert ours_msg.split(" must be ")[0] == theirs_msg.split(" must be ")[0]


def test_regressor_loss_is_first_positional():
    with pytest.raises(InvalidParameterError):
        MLPRegressor((7,)).fit([[0.0], [1.0]], [0.0, 1.0])


@pytest.mark.parametrize("sizes", [[0], [5, -1]])
def test_hidden_layer_sizes_must_be_positive(data, sizes):
    X, y = data
    with pytest.raises(ValueError, match="hidden_layer_sizes must be > 0"):
        MLPClassifier(hidden_layer_sizes=sizes).fit(X, y)


@pytest.mark.parametrize("fit_on, y", [
    # fitted on y itself
    *[(None, y) for y in [
        np.array([3, 1, 2, 3, 1]), np.array([-3, 7, 7]), np.array([True, False, True]),
        np.array([0.0, 2.0, 1.0, 2.0]), np.array([5, 9], dtype=np.uint64),
        np.array([1, 0, 1], dtype=np.int8), np.array(["b", "a", "c"]),
        np.array(["no", "yes", "no"], dtype=object)]],
    # partial_fit: fitted on the classes, then y with some of them
    (np.array([0, 1, 2, 3]), np.array([2, 2, 0])),
    (np.array([0, 1]), np.array([1, 1, 1])),
    (np.array([0, 1]), np.array([0.0, 1.0, 0.0])),
    (np.array([10, 20, 30]), np.array([30], dtype=np.int16)),
])
def test_binarize_is_the_label_binarizers_transform(fit_on, y):
    # the fast path for numeric labels gives LabelBinarizer's own matrix
    from sklearn.preprocessing import LabelBinarizer

    est = MLPClassifier()
    est._label_binarizer = LabelBinarizer().fit(y if fit_on is None else fit_on)
    expected = est._label_binarizer.transform(y).astype(bool)
    got = est._binarize(y)
    assert got.dtype == expected.dtype and got.shape == expected.shape
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("labels", [
    np.array(["cat", "dog"]), np.array([-3, 7]), np.array([True, False]),
    np.array(["a", "b", "c"]), np.array([10, 20, 30, 40]),
])
def test_label_types_and_probabilities(labels):
    X, yi = make_classification(n_samples=300, n_features=8, n_informative=5,
                                n_classes=len(labels), random_state=1)
    y = labels[yi]
    params = dict(hidden_layer_sizes=(10,), solver="sgd", max_iter=20, random_state=0)
    sk = quiet(SkMLPClassifier(**params).fit, X, y)
    cy = quiet(MLPClassifier(**params).fit, X, y)
    np.testing.assert_array_equal(cy.classes_, sk.classes_)
    assert cy.out_activation_ == sk.out_activation_
    assert cy.n_outputs_ == sk.n_outputs_
    np.testing.assert_array_equal(cy.predict(X), sk.predict(X))
    np.testing.assert_allclose(cy.predict_proba(X), sk.predict_proba(X), rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(cy.predict_log_proba(X), sk.predict_log_proba(X), rtol=1e-6)
    assert cy.predict(X).dtype == sk.predict(X).dtype
    assert cy.score(X, y) == sk.score(X, y)


def test_fitted_attributes(data):
    X, y = data
    params = dict(hidden_layer_sizes=(12, 7), solver="adam", max_iter=15, random_state=0)
    sk = quiet(SkMLPClassifier(**params).fit, X, y)
    cy = quiet(MLPClassifier(**params).fit, X, y)
    for name in ["n_layers_", "n_outputs_", "out_activation_", "n_features_in_", "n_iter_", "t_"]:
        assert getattr(cy, name) == getattr(sk, name), name
    assert cy.loss_ == pytest.approx(sk.loss_, rel=1e-6)
    assert cy.best_loss_ == pytest.approx(sk.best_loss_, rel=1e-6)
    assert isinstance(cy.loss_curve_, list) and len(cy.loss_curve_) == 15
    assert cy.validation_scores_ is None and cy.best_validation_score_ is None
    assert [c.shape for c in cy.coefs_] == [c.shape for c in sk.coefs_]
    assert [b.shape for b in cy.intercepts_] == [b.shape for b in sk.intercepts_]
    _assert_same_model(sk, cy)


@pytest.mark.parametrize("dtype, expected", [(np.float32, np.float32), (np.float64, np.float64),
                                             (np.int64, np.float64), (np.float16, np.float64)])
def test_dtypes(data, dtype, expected):
    X, y = data
    X = (X * 4).astype(dtype)
    cy = quiet(MLPClassifier(hidden_layer_sizes=(5,), max_iter=3, random_state=0).fit, X, y)
    assert all(c.dtype == expected for c in cy.coefs_ + cy.intercepts_)
    assert cy.predict_proba(X).dtype == expected


def test_convergence_warning_and_tol_stopping(data):
    X, y = data
    with pytest.warns(ConvergenceWarning, match=r"Maximum iterations \(3\) reached"):
        MLPClassifier(hidden_layer_sizes=(5,), max_iter=3, random_state=0).fit(X, y)
    params = dict(hidden_layer_sizes=(20,), solver="sgd", learning_rate_init=0.1,
                  tol=1e-2, n_iter_no_change=3, max_iter=300, random_state=0)
    sk = SkMLPClassifier(**params).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        cy = MLPClassifier(**params).fit(X, y)
    assert cy.n_iter_ == sk.n_iter_ < 300
    np.testing.assert_allclose(cy.loss_curve_, sk.loss_curve_, rtol=1e-6)


@pytest.mark.parametrize("schedule", ["constant", "invscaling", "adaptive"])
def test_learning_rate_schedules(data, schedule):
    X, y = data
    params = dict(hidden_layer_sizes=(10,), solver="sgd", learning_rate=schedule,
                  learning_rate_init=0.2, power_t=0.3, tol=1e-3, n_iter_no_change=2,
                  max_iter=60, random_state=0)
    sk = quiet(SkMLPClassifier(**params).fit, X, y)
    cy = quiet(MLPClassifier(**params).fit, X, y)
    assert cy.n_iter_ == sk.n_iter_
    assert cy._optimizer.learning_rate == pytest.approx(sk._optimizer.learning_rate, rel=1e-12)
    _assert_same_model(sk, cy)


def test_verbose_output_matches(data):
    X, y = data
    params = dict(hidden_layer_sizes=(10,), solver="sgd", learning_rate="adaptive",
                  tol=0.5, n_iter_no_change=1, max_iter=8, verbose=True, random_state=0)
    outs = []
    for cls in (SkMLPClassifier, MLPClassifier):
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            quiet(cls(**params).fit, X, y)
        outs.append(buf.getvalue())
    assert "Iteration 1, loss = " in outs[1]
    assert "Setting learning rate to" in outs[1]
    assert outs[0] == outs[1]


def test_partial_fit_matches_sklearn(data):
    X, y = data
    classes = np.unique(y)
    params = dict(hidden_layer_sizes=(10,), solver="sgd", random_state=0)
    sk, cy = SkMLPClassifier(**params), MLPClassifier(**params)
    for start in range(0, 600, 200):
        sk.partial_fit(X[start:start + 200], y[start:start + 200], classes=classes)
        cy.partial_fit(X[start:start + 200], y[start:start + 200], classes=classes)
        assert cy.n_iter_ == 1
    assert cy.t_ == sk.t_ == 600
    np.testing.assert_allclose(cy.loss_curve_, sk.loss_curve_, rtol=1e-6)
    _assert_same_model(sk, cy)


def test_partial_fit_needs_classes_first(data):
    X, y = data
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        MLPClassifier().partial_fit(X, y)
    clf = MLPClassifier(hidden_layer_sizes=(4,)).partial_fit(X, y, classes=[0, 1, 2])
    with pytest.raises(ValueError, match="`y` has classes not in `self.classes_`"):
        clf.partial_fit(X, np.where(y == 2, 9, y))
    with pytest.raises(ValueError, match=r"is not the same as on last call"):
        clf.partial_fit(X, y, classes=[0, 1, 5])
    # the same classes again are fine (dask-ml passes them every call)
    clf.partial_fit(X, y, classes=[0, 1, 2])


def test_partial_fit_unavailable_for_lbfgs():
    clf = MLPClassifier(solver="lbfgs")
    assert not hasattr(clf, "partial_fit")
    with pytest.raises(AttributeError, match="has no attribute 'partial_fit'") as ours:
        clf.partial_fit
    with pytest.raises(AttributeError) as theirs:
        SkMLPClassifier(solver="lbfgs").partial_fit
    assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_warm_start_matches_sklearn(data, solver):
    X, y = data
    params = dict(hidden_layer_sizes=(10,), solver=solver, max_iter=5, warm_start=True,
                  random_state=0)
    sk, cy = SkMLPClassifier(**params), MLPClassifier(**params)
    for _ in range(3):
        quiet(sk.fit, X, y)
        quiet(cy.fit, X, y)
    assert len(cy.loss_curve_) == 15 and cy.n_iter_ == 5
    np.testing.assert_allclose(cy.loss_curve_, sk.loss_curve_, rtol=1e-6)
    _assert_same_model(sk, cy)
    with pytest.raises(ValueError, match="warm_start can only be used where `y` has the same"):
        cy.fit(X, np.where(y == 2, 1, y))


def test_refit_without_warm_start_starts_over(data):
    X, y = data
    clf = MLPClassifier(hidden_layer_sizes=(6,), max_iter=4, random_state=0)
    a = quiet(clf.fit, X, y).coefs_[0].copy()
    b = quiet(clf.fit, X, y).coefs_[0].copy()
    np.testing.assert_array_equal(a, b)
    assert len(clf.loss_curve_) == 4


def test_coefs_are_views_and_user_assignment_is_honoured(data):
    X, y = data
    clf = quiet(MLPClassifier(hidden_layer_sizes=(6,), max_iter=3, random_state=0).fit, X, y)
    assert all(np.shares_memory(c, clf._params) for c in clf.coefs_ + clf.intercepts_)
    # replacing the arrays, as some users do, changes the model like sklearn's
    sk = quiet(SkMLPClassifier(hidden_layer_sizes=(6,), max_iter=3, random_state=0).fit, X, y)
    rng = np.random.RandomState(0)
    new = [rng.randn(*c.shape) for c in clf.coefs_]
    clf.coefs_ = [c.copy() for c in new]
    sk.coefs_ = [c.copy() for c in new]
    np.testing.assert_allclose(clf.predict_proba(X), sk.predict_proba(X), rtol=1e-6, atol=1e-12)


def test_iris_lbfgs_matches_sklearn():
    X, y = load_iris(return_X_y=True)
    params = dict(hidden_layer_sizes=(5,), solver="lbfgs", max_iter=50, random_state=1)
    sk = quiet(SkMLPClassifier(**params).fit, X, y)
    cy = quiet(MLPClassifier(**params).fit, X, y)
    assert cy.n_iter_ == sk.n_iter_
    assert cy.loss_ == pytest.approx(sk.loss_, rel=1e-6)
    _assert_same_model(sk, cy, dict(rtol=1e-5, atol=1e-8))
    assert not hasattr(cy, "loss_curve_")


def test_partial_fit_keeps_the_optimizer_settings_it_was_built_with(data):
    """As scikit-learn's optimizer objects: set_params between partial_fit calls
    changes alpha (read per batch) but not the optimizer's momentum."""
    X, y = data
    classes = np.unique(y)
    params = dict(hidden_layer_sizes=(10,), solver="sgd", momentum=0.0, random_state=0)
    sk, cy = SkMLPClassifier(**params), MLPClassifier(**params)
    for est in (sk, cy):
        est.partial_fit(X, y, classes=classes)
        est.set_params(momentum=0.9, alpha=0.01)
        est.partial_fit(X, y)
    _assert_same_model(sk, cy)


@pytest.mark.parametrize("name", ["MLPClassifier", "MLPRegressor"])
def test_docstring_documents_everything_and_its_examples_run(name):
    """help(cymlp.X) is complete: every parameter and every attribute that
    scikit-learn documents is described, and the examples run."""
    import doctest
    import re

    import sklearn.neural_network as skn

    ours, theirs = getattr(cymlp, name).__doc__, getattr(skn, name).__doc__

    def entries(doc, section, end):
        text = doc[doc.index(section + "\n"):doc.index(end + "\n")]
        return re.findall(r"^    (\w+) : ", text, re.M)

    params = entries(ours, "Parameters", "Attributes")
    assert params == list(inspect.signature(getattr(cymlp, name)).parameters)
    assert set(entries(theirs, "Attributes", "See Also")) <= set(
        entries(ours, "Attributes", "See Also"))
    for entry in re.split(r"\n    (?=\w+ : )", ours[ours.index("Parameters\n"):
                                                    ours.index("See Also\n")])[1:]:
        assert len(entry.strip().splitlines()) >= 2, entry  # a description, not a name
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for test in doctest.DocTestFinder(recurse=False).find(getattr(cymlp, name)):
            runner.run(test)
    assert runner.tries >= 3 and runner.failures == 0
