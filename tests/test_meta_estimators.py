"""Inside scikit-learn's meta-estimators: the same results as scikit-learn's MLPs."""

import warnings

import joblib
import numpy as np
import pytest
import sklearn
from sklearn.calibration import CalibratedClassifierCV
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import GridSearchCV, cross_val_score, cross_validate
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.neural_network import MLPRegressor as SkMLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from cymlp import MLPClassifier, MLPRegressor

PARAMS = dict(hidden_layer_sizes=(8,), max_iter=15, random_state=0)


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(n_samples=180, n_features=6, n_informative=4, n_classes=3,
                               random_state=0)
    return X * 10 + 3, y


@pytest.fixture(autouse=True)
def quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def test_pipeline(data):
    X, y = data
    sk = make_pipeline(StandardScaler(), SkMLPClassifier(**PARAMS)).fit(X, y)
    cy = make_pipeline(StandardScaler(), MLPClassifier(**PARAMS)).fit(X, y)
    np.testing.assert_allclose(cy.predict_proba(X), sk.predict_proba(X), rtol=1e-6, atol=1e-12)
    assert cy.score(X, y) == sk.score(X, y)
    # nested parameters
    cy.set_params(mlpclassifier__alpha=0.3)
    assert cy.get_params()["mlpclassifier__alpha"] == 0.3


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_grid_search(data, n_jobs):
    """n_jobs=2 on threads (fits run concurrently, without the GIL); process
    pools pickle the estimator, covered in test_pickle.py."""
    X, y = data
    grid = {"alpha": [1e-4, 1.0], "hidden_layer_sizes": [(4,), (8,)]}
    sk = GridSearchCV(SkMLPClassifier(**PARAMS), grid, cv=3).fit(X / 10, y)
    with joblib.parallel_backend("threading"):
        cy = GridSearchCV(MLPClassifier(**PARAMS), grid, cv=3, n_jobs=n_jobs).fit(X / 10, y)
    assert cy.best_params_ == sk.best_params_
    np.testing.assert_allclose(cy.cv_results_["mean_test_score"],
                               sk.cv_results_["mean_test_score"], rtol=1e-12)
    assert isinstance(cy.best_estimator_, MLPClassifier)
    np.testing.assert_array_equal(cy.predict(X / 10), sk.predict(X / 10))


def test_cross_val_score_classifier_and_regressor(data):
    X, y = data
    X = X / 10
    for ours, theirs, target in [(MLPClassifier, SkMLPClassifier, y),
                                 (MLPRegressor, SkMLPRegressor, X[:, 0] - X[:, 1] + y)]:
        sk = cross_val_score(theirs(**PARAMS), X, target, cv=3)
        cy = cross_val_score(ours(**PARAMS), X, target, cv=3)
        np.testing.assert_allclose(cy, sk, rtol=1e-9)


@pytest.mark.parametrize("method", ["sigmoid", "isotonic"])
def test_calibrated_classifier(data, method):
    X, y = data
    X = X / 10
    sk = CalibratedClassifierCV(SkMLPClassifier(**PARAMS), method=method, cv=3).fit(X, y)
    cy = CalibratedClassifierCV(MLPClassifier(**PARAMS), method=method, cv=3).fit(X, y)
    np.testing.assert_allclose(cy.predict_proba(X), sk.predict_proba(X), rtol=1e-6, atol=1e-9)
    # prefit
    est = MLPClassifier(**PARAMS).fit(X, y)
    cal = CalibratedClassifierCV(FrozenEstimator(est), method=method).fit(X, y)
    assert cal.predict_proba(X).shape == (len(X), 3)


def test_sample_weight_metadata_routing(data):
    X, y = data
    X = X / 10
    sw = np.random.RandomState(0).uniform(0.2, 2.0, len(y))
    with sklearn.config_context(enable_metadata_routing=True):
        results = []
        for cls in (SkMLPClassifier, MLPClassifier):
            est = cls(**PARAMS).set_fit_request(sample_weight=True).set_score_request(
                sample_weight=True)
            res = cross_validate(est, X, y, cv=3, params={"sample_weight": sw},
                                 return_estimator=True)
            results.append(res)
    np.testing.assert_allclose(results[1]["test_score"], results[0]["test_score"], rtol=1e-12)
    for a, b in zip(results[0]["estimator"], results[1]["estimator"]):
        for u, v in zip(a.coefs_, b.coefs_):
            np.testing.assert_allclose(v, u, rtol=1e-6, atol=1e-10)
    # the weights really were routed: unweighted scores differ
    plain = cross_validate(MLPClassifier(**PARAMS), X, y, cv=3)
    assert not np.allclose(plain["test_score"], results[1]["test_score"])
