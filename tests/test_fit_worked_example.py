"""One SGD step on a tiny network, computed by hand (as scikit-learn's test_fit)."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from cymlp import MLPClassifier, MLPRegressor


def _one_step(est, X, y, coefs, intercepts):
    est.partial_fit(X, y, **({"classes": [0, 1]} if isinstance(est, MLPClassifier) else {}))
    # replace the random initial weights by the hand-picked ones, then step once
    for c, v in zip(est.coefs_, coefs):
        c[...] = v
    for b, v in zip(est.intercepts_, intercepts):
        b[...] = v
    est._optimizer.state1[...] = 0
    est.partial_fit(X, y)
    return est


def test_regressor_one_sgd_step_by_hand():
    # network 2-2-1, relu hidden, identity output, squared error
    X = np.array([[1.0, 2.0]])
    y = np.array([1.5])
    W1 = np.array([[0.1, -0.2], [0.3, 0.4]])
    b1 = np.array([0.05, -0.1])
    W2 = np.array([[0.5], [-0.6]])
    b2 = np.array([0.2])
    lr, alpha = 0.1, 0.01
    est = MLPRegressor(hidden_layer_sizes=(2,), solver="sgd", learning_rate_init=lr,
                       momentum=0.0, alpha=alpha, shuffle=False, batch_size=1)
    _one_step(est, X, y, [W1, W2], [b1, b2])

    # forward by hand
    z1 = X @ W1 + b1                      # [0.75, 0.5]
    a1 = np.maximum(z1, 0)
    out = a1 @ W2 + b2                    # 0.75*0.5 - 0.6*0.5 + 0.2 = 0.275
    assert out[0, 0] == pytest.approx(0.275)
    d2 = out - y                          # -1.225
    gW2 = (a1.T @ d2 + alpha * W2) / 1
    gb2 = d2.sum(0)
    d1 = (d2 @ W2.T) * (a1 > 0)
    gW1 = (X.T @ d1 + alpha * W1) / 1
    gb1 = d1.sum(0)
    np.testing.assert_allclose(est.coefs_[1], W2 - lr * gW2, rtol=1e-12)
    np.testing.assert_allclose(est.intercepts_[1], b2 - lr * gb2, rtol=1e-12)
    np.testing.assert_allclose(est.coefs_[0], W1 - lr * gW1, rtol=1e-12)
    np.testing.assert_allclose(est.intercepts_[0], b1 - lr * gb1, rtol=1e-12)
    # the numbers themselves, for a reader checking by pencil:
    np.testing.assert_allclose(est.coefs_[1].ravel(), [0.5 + 0.1 * (1.225 * 0.75 - 0.005),
                                                       -0.6 + 0.1 * (1.225 * 0.5 + 0.006)])
    # reported loss: 0.5 * (0.275 - 1.5)^2 + alpha/2 * ||W||^2
    sq = (W1 ** 2).sum() + (W2 ** 2).sum()
    assert est.loss_ == pytest.approx(0.5 * 1.225 ** 2 + 0.5 * alpha * sq, rel=1e-12)


def test_classifier_one_step_two_samples_momentum():
    # binary logistic output, 2 samples in one batch, momentum 0.9 from zero
    X = np.array([[0.6, 0.8, 0.7], [0.5, 0.2, 0.9]])
    y = np.array([0, 1])
    W1 = np.array([[0.1, 0.2], [0.3, 0.1], [0.5, 0.0]])
    b1 = np.array([0.1, 0.1])
    W2 = np.array([[0.1], [0.2]])
    b2 = np.array([1.0])
    lr, mom = 0.1, 0.9
    est = MLPClassifier(hidden_layer_sizes=(2,), activation="logistic", solver="sgd",
                        learning_rate_init=lr, momentum=mom, nesterovs_momentum=True,
                        alpha=0.0, shuffle=False, batch_size=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        _one_step(est, X, y, [W1, W2], [b1, b2])

    def sig(z):
        return 1 / (1 + np.exp(-z))

    a1 = sig(X @ W1 + b1)
    p = sig(a1 @ W2 + b2)
    d2 = p - y[:, None]
    d1 = (d2 @ W2.T) * a1 * (1 - a1)
    grads = [X.T @ d1 / 2, a1.T @ d2 / 2]
    bgrads = [d1.sum(0) / 2, d2.sum(0) / 2]
    # Nesterov from zero velocity: v = -lr g; update = mom * v - lr g
    for got, W, g in zip(est.coefs_, [W1, W2], grads):
        np.testing.assert_allclose(got, W + mom * (-lr * g) - lr * g, rtol=1e-12)
    for got, b, g in zip(est.intercepts_, [b1, b2], bgrads):
        np.testing.assert_allclose(got, b + mom * (-lr * g) - lr * g, rtol=1e-12)
