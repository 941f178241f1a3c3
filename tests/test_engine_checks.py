"""The engine checks its inputs at each entry point (and a CSR once, at
construction), so its nogil kernels can trust them: malformed input is refused
with a ValueError, never read."""

import numpy as np
import pytest

from cymlp import _train


def _csr(data, indices, indptr, shape):
    return _train.CSR(np.ascontiguousarray(data, dtype=np.float64),
                      np.ascontiguousarray(indices, dtype=np.intp),
                      np.ascontiguousarray(indptr, dtype=np.intp), shape)


@pytest.mark.parametrize("indices, indptr", [
    ([0, 5], [0, 1, 2]),        # column index beyond n_features
    ([0, -1], [0, 1, 2]),       # negative column index
    ([0, 1], [0, 2, 1]),        # indptr decreasing
    ([0, 1], [1, 1, 2]),        # indptr not starting at 0
    ([0, 1], [0, 1, 3]),        # indptr not ending at nnz
    ([0, 1], [0, 2]),           # wrong number of rows
])
def test_malformed_csr_is_refused(indices, indptr):
    with pytest.raises(ValueError, match="malformed CSR"):
        _csr([1.0, 2.0], indices, indptr, (2, 3))


def test_csr_of_another_dtype_is_refused():
    net = _train.Network([3, 2, 1], "relu", "squared_error", "identity")
    X = _csr([1.0], [2], [0, 1], (1, 3))
    out = np.empty((1, 1), dtype=np.float32)
    with pytest.raises(ValueError, match="dtype"):
        _train.predict(net, X, np.zeros(net.n_params, dtype=np.float32), out)


def test_valid_csr_predicts_like_dense():
    rng = np.random.RandomState(0)
    dense = rng.rand(5, 4) * (rng.rand(5, 4) > 0.5)
    rows, cols = np.nonzero(dense)
    indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=5))])
    X = _csr(dense[rows, cols], cols, indptr, (5, 4))
    net = _train.Network([4, 3, 2], "tanh", "log_loss", "softmax")
    params = rng.randn(net.n_params)
    a, b = np.empty((5, 2)), np.empty((5, 2))
    _train.predict(net, X, params, a)
    _train.predict(net, dense, params, b)
    np.testing.assert_allclose(a, b, rtol=1e-13)


def test_engine_entry_points_check_their_buffers():
    """The engine is safe on its own, not only behind the estimators."""
    net = _train.Network([3, 2, 1], "relu", "squared_error", "identity")
    ws = _train.Workspace(net, 4, np.float64)
    X, Y = np.ones((4, 3)), np.ones((4, 1))
    params, grads = np.zeros(net.n_params), np.zeros(net.n_params)
    with pytest.raises(ValueError, match="sample_weight of the wrong length"):
        _train.loss_and_gradient(net, ws, X, Y, np.ones(3), params, grads, 0.0)
    with pytest.raises(ValueError, match="parameter buffer of the wrong size"):
        _train.predict(net, X, np.zeros(net.n_params - 1), np.empty((4, 1)))
    with pytest.raises(ValueError, match="parameter buffer of the wrong size"):
        _train.loss_and_gradient(net, ws, X, Y, None, params[:-1], grads[:-1], 0.0)
