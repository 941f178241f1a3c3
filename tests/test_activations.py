"""Hidden activations and their derivatives against NumPy and central differences."""

import numpy as np
import pytest
from scipy.special import expit, softmax

from cymlp._activations import apply_activation, apply_derivative

REFERENCE = {
    "identity": lambda z: z,
    "relu": lambda z: np.maximum(z, 0),
    "tanh": np.tanh,
    "logistic": expit,
    "exp": np.exp,
    "softmax": lambda z: softmax(z, axis=1),
}


@pytest.mark.parametrize("name", sorted(REFERENCE))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_forward_matches_reference(name, dtype):
    rng = np.random.RandomState(0)
    z = rng.randn(13, 7).astype(dtype) * 3
    b = rng.randn(7).astype(dtype)
    expected = REFERENCE[name]((z.astype(np.float64) + b))
    out = z.copy()
    apply_activation(name, out, b)
    rtol = 1e-5 if dtype == np.float32 else 1e-13
    np.testing.assert_allclose(out, expected, rtol=rtol, atol=rtol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_extreme_inputs_stay_finite(dtype):
    z = np.array([[-1e4, -100.0, 0.0, 100.0, 1e4]], dtype=dtype)
    for name in ["logistic", "tanh", "relu", "softmax"]:
        out = z.copy()
        apply_activation(name, out)
        assert np.isfinite(out).all(), name
    out = z.copy()
    apply_activation("logistic", out)
    np.testing.assert_allclose(out[0, [0, 2, 4]], [0.0, 0.5, 1.0])


@pytest.mark.parametrize("name", ["identity", "relu", "tanh", "logistic"])
def test_derivative_against_central_differences(name):
    rng = np.random.RandomState(0)
    z = rng.randn(11, 6)
    z[np.abs(z) < 1e-3] = 0.5  # keep away from relu's kink
    upstream = rng.randn(11, 6)
    a = z.copy()
    apply_activation(name, a)
    delta = upstream.copy()
    apply_derivative(name, a, delta)
    eps = 1e-6
    zp, zm = z + eps, z - eps
    apply_activation(name, zp)
    apply_activation(name, zm)
    numeric = upstream * (zp - zm) / (2 * eps)
    np.testing.assert_allclose(delta, numeric, rtol=1e-6, atol=1e-9)
