"""The whole network's gradient against central finite differences (float64)."""

import numpy as np
import pytest

from cymlp import _train

CASES = [
    # (loss, output activation, n_outputs)
    ("log_loss", "softmax", 4),
    ("binary_log_loss", "logistic", 1),
    ("binary_log_loss", "logistic", 3),  # multilabel
    ("squared_error", "identity", 2),
    ("poisson", "exp", 2),
]


def _targets(loss, rng, n, k):
    if loss == "log_loss":
        return np.eye(k)[rng.randint(k, size=n)]
    if loss == "binary_log_loss":
        return (rng.rand(n, k) > 0.5).astype(float)
    if loss == "poisson":
        return rng.poisson(1.5, size=(n, k)).astype(float)
    return rng.randn(n, k)


@pytest.mark.parametrize("loss, out, k", CASES)
@pytest.mark.parametrize("activation", ["identity", "logistic", "tanh", "relu"])
@pytest.mark.parametrize("alpha", [0.0, 0.1])
@pytest.mark.parametrize("weighted", [False, True])
def test_network_gradient(loss, out, k, activation, alpha, weighted):
    rng = np.random.RandomState(42)
    n, units = 12, [5, 7, 4, k]
    X = rng.randn(n, units[0])
    Y = _targets(loss, rng, n, k)
    sw = rng.uniform(0.2, 3.0, n) if weighted else None
    net = _train.Network(units, activation, loss, out)
    ws = _train.Workspace(net, n, np.float64)
    params = rng.uniform(-0.5, 0.5, net.n_params)
    grads = np.empty_like(params)
    _train.loss_and_gradient(net, ws, X, Y, sw, params.copy(), grads, alpha)

    eps = 1e-5
    numeric = np.empty_like(params)
    scratch = np.empty_like(params)
    for i in range(params.size):
        p = params.copy()
        p[i] += eps
        lp = _train.loss_and_gradient(net, ws, X, Y, sw, p, scratch, alpha)
        p[i] -= 2 * eps
        lm = _train.loss_and_gradient(net, ws, X, Y, sw, p, scratch, alpha)
        numeric[i] = (lp - lm) / (2 * eps)
    rel = np.linalg.norm(grads - numeric) / np.linalg.norm(numeric)
    assert rel < 1e-6, rel


def test_gradient_matches_sklearn_backprop():
    """The flat gradient equals scikit-learn's _backprop packed in lbfgs order."""
    from sklearn.neural_network import MLPClassifier as SkMLP

    rng = np.random.RandomState(0)
    X = rng.randn(30, 6)
    y = rng.randint(3, size=30)
    sk = SkMLP(hidden_layer_sizes=(5, 4), solver="lbfgs", max_iter=1, alpha=0.3, random_state=0)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sk.fit(X, y)
    Y = np.eye(3)[np.searchsorted(sk.classes_, y)]
    layer_units = [6, 5, 4, 3]
    activations = [X] + [None] * 3
    deltas = [None] * 3
    coef_grads = [np.empty((a, b)) for a, b in zip(layer_units[:-1], layer_units[1:])]
    intercept_grads = [np.empty(b) for b in layer_units[1:]]
    sk_loss, cg, ig = sk._backprop(X, Y, None, activations, deltas, coef_grads, intercept_grads)
    sk_grad = np.concatenate([g.ravel() for g in cg + ig])

    net = _train.Network(layer_units, "relu", "log_loss", "softmax")
    ws = _train.Workspace(net, 30, np.float64)
    params = np.concatenate([c.ravel() for c in sk.coefs_ + sk.intercepts_])
    grads = np.empty_like(params)
    loss = _train.loss_and_gradient(net, ws, X, Y, None, params, grads, 0.3)
    np.testing.assert_allclose(loss, sk_loss, rtol=1e-12)
    np.testing.assert_allclose(grads, sk_grad, rtol=1e-10, atol=1e-14)
