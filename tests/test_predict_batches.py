"""Large-batch prediction: the engine's chunked forward pass gives, bit for bit,
the products and activations of the engine's own BLAS wrapper and activation
kernels applied chunk by chunk (any row count, both dtypes, every hidden
activation, classifiers, multilabel, regressors), and its NaN/inf check, which
rides on the first product (``_train._predict_rows``), still finds every
non-finite value of X (scikit-learn's error) and nothing else."""

import numpy as np
import pytest
from sklearn.neural_network import MLPClassifier as SkClassifier

from _util import quiet
from cymlp import MLPClassifier, MLPRegressor, _state
from cymlp._activations import apply_activation
from cymlp._blas import _gemm_memview

CHUNK = 1024   # the engine's predict chunk (Predictor's default)
ROWS = (1, 2, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK + 77)
OUT_ACTIVATION = {"multiclass": "softmax", "binary": "logistic", "multilabel": "logistic",
                  "regression": "identity"}


def reference(est, X, out_activation):
    """Output activations as the engine computes them, chunk by chunk: z = a W by
    the engine's gemm, then bias + activation by the engine's kernels."""
    dtype = X.dtype
    out = np.empty((X.shape[0], est.n_outputs_), dtype=dtype)
    L = len(est.coefs_)
    for s in range(0, X.shape[0], CHUNK):
        a = np.ascontiguousarray(X[s:s + CHUNK])
        for k, (W, b) in enumerate(zip(est.coefs_, est.intercepts_)):
            z = np.empty((a.shape[0], W.shape[1]), dtype=dtype)
            _gemm_memview(False, False, a, np.ascontiguousarray(W, dtype=dtype), z)
            apply_activation(est.activation if k < L - 1 else out_activation, z, b)
            a = z
        out[s:s + CHUNK] = a
    return out


def fitted(task, activation, hidden, n_features, dtype, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.uniform(-2, 2, (300, n_features)).astype(dtype)
    if task == "regression":
        est, y = MLPRegressor, X[:, :2] @ rng.uniform(size=(2, 2))
    else:
        est = MLPClassifier
        y = {"multiclass": rng.randint(0, 4, 300), "binary": rng.randint(0, 2, 300),
             "multilabel": (rng.uniform(size=(300, 3)) > 0.5).astype(int)}[task]
    return quiet(est(hidden_layer_sizes=hidden, activation=activation, max_iter=3,
                     random_state=seed).fit, X, y)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("activation", ["relu", "tanh", "logistic", "identity"])
@pytest.mark.parametrize("task", ["multiclass", "binary", "multilabel", "regression"])
@pytest.mark.parametrize("hidden, n_features", [((37, 11), 20), ((40,), 8), ((), 9)])
def test_outputs_are_the_chunked_products_bit_for_bit(dtype, activation, task, hidden,
                                                      n_features):
    # ((40,), 8): a first layer wider than X (its z is not checked by a pass)
    est = fitted(task, activation, hidden, n_features, dtype)
    X = np.random.RandomState(1).uniform(-3, 3, (max(ROWS), n_features)).astype(dtype)
    for n in ROWS:
        ref = reference(est, X[:n], OUT_ACTIVATION[task])
        if task == "regression":
            got = est.predict(X[:n])
            ref = ref.ravel() if est.n_outputs_ == 1 else ref
        else:
            got = est.predict_proba(X[:n])
            if task == "binary":
                ref = np.vstack([1 - ref.ravel(), ref.ravel()]).T
        assert got.dtype == dtype and got.shape == ref.shape
        assert got.tobytes() == ref.tobytes(), n


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_mnist_shaped_net_bit_for_bit(dtype):
    # W2's shape (784-256-128-10), rows spanning three chunks
    est = fitted("multiclass", "relu", (256, 128), 784, dtype)
    X = np.random.RandomState(2).uniform(0, 1, (2 * CHUNK + 5, 784)).astype(dtype)
    assert est.predict_proba(X).tobytes() == reference(est, X, "softmax").tobytes()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_zero_rows(dtype):
    est = fitted("multiclass", "relu", (16,), 6, dtype)
    est.predict(np.zeros((1, 6), dtype))
    predictor = _state.current_serving(est).predictor
    out = predictor(np.zeros((0, 6), dtype), check_x=True)
    assert out.shape == (0, 4) and out.dtype == dtype


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
# relu: the flag of the fused bias + ReLU pass; tanh (37,) on 20 features:
# a pass over z; tanh (40,) on 8 features: z wider than X, X's own pass
@pytest.mark.parametrize("activation, hidden, n_features",
                         [("relu", (37, 11), 20), ("tanh", (37,), 20), ("tanh", (40,), 8),
                          ("identity", (), 9)])
@pytest.mark.parametrize("where", ["first", "middle", "last"])
def test_every_non_finite_value_is_found(dtype, value, activation, hidden, n_features,
                                         where):
    est = fitted("multiclass", activation, hidden, n_features, dtype)
    n = 2 * CHUNK + 77
    X = np.random.RandomState(3).uniform(-1, 1, (n, n_features)).astype(dtype)
    row, col = {"first": (0, 0), "middle": (CHUNK + 5, n_features // 2),
                "last": (n - 1, n_features - 1)}[where]
    X[row, col] = value
    with pytest.raises(ValueError) as expected:   # scikit-learn's own error
        SkClassifier(hidden_layer_sizes=hidden).fit(X, np.arange(n) % 4)
    for method in (est.predict, est.predict_proba):
        with pytest.raises(ValueError) as err:
            method(X)
        assert str(err.value) == str(expected.value)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_an_overflowing_product_is_not_an_error(dtype):
    # finite X whose first product overflows to infinity: z is not finite, X
    # is, so the prediction goes on (as scikit-learn's, which checks X only)
    est = fitted("regression", "relu", (7,), 5, dtype)
    X = np.full((CHUNK + 3, 5), np.finfo(dtype).max, dtype=dtype)
    X[::2] *= -1
    with np.errstate(all="ignore"):
        assert not np.isfinite(X @ est.coefs_[0]).all()   # the case meant
    with np.errstate(all="ignore"):
        got = est.predict(X)
    predictor = _state.current_serving(est).predictor
    assert got.tobytes() == predictor(X, check_x=False).ravel().tobytes()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_non_finite_weights_are_not_an_error(dtype):
    # a non-finite first-layer weight (set by hand) makes every z non-finite:
    # X is then checked itself, and a finite X predicts
    est = fitted("multiclass", "relu", (6,), 5, dtype)
    est.coefs_[0][1, 2] = np.nan
    X = np.random.RandomState(4).uniform(-1, 1, (CHUNK + 9, 5)).astype(dtype)
    got = est.predict_proba(X)
    predictor = _state.current_serving(est).predictor
    assert got.tobytes() == predictor(X, check_x=False).tobytes()
    X[CHUNK + 8, 4] = np.inf
    with pytest.raises(ValueError, match="Input X contains infinity"):
        est.predict_proba(X)
