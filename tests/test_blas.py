"""The row-major BLAS wrappers against NumPy: dtype x transA x transB grid."""

import numpy as np
import pytest

from cymlp._bench import gemm_only_seconds
from cymlp._blas import _dot_memview, _gemm_memview

RTOL = {np.float32: 1e-5, np.float64: 1e-12}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("trans_a", [False, True])
@pytest.mark.parametrize("trans_b", [False, True])
@pytest.mark.parametrize("alpha, beta", [(1.0, 0.0), (-0.5, 1.0), (2.0, 0.25)])
@pytest.mark.parametrize("m, n, k", [(7, 5, 3), (1, 9, 4), (6, 1, 1), (33, 17, 65)])
def test_gemm_grid(dtype, trans_a, trans_b, alpha, beta, m, n, k):
    rng = np.random.RandomState(0)
    A = rng.randn(*((k, m) if trans_a else (m, k))).astype(dtype)
    B = rng.randn(*((n, k) if trans_b else (k, n))).astype(dtype)
    C = rng.randn(m, n).astype(dtype)
    opA = A.T if trans_a else A
    opB = B.T if trans_b else B
    expected = alpha * (opA.astype(np.float64) @ opB.astype(np.float64)) + beta * C
    _gemm_memview(trans_a, trans_b, A, B, C, alpha, beta)
    np.testing.assert_allclose(C, expected, rtol=RTOL[dtype], atol=RTOL[dtype] * 10)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gemm_rejects_mismatched_shapes(dtype):
    A = np.ones((3, 4), dtype=dtype)
    B = np.ones((5, 2), dtype=dtype)
    C = np.zeros((3, 2), dtype=dtype)
    with pytest.raises(ValueError):
        _gemm_memview(False, False, A, B, C)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_level1(dtype):
    rng = np.random.RandomState(1)
    x = rng.randn(37).astype(dtype)
    y = rng.randn(37).astype(dtype)
    np.testing.assert_allclose(_dot_memview(x, y), x.astype(np.float64) @ y, rtol=RTOL[dtype])


def test_gemm_only_seconds_runs():
    t = gemm_only_seconds([20, 8, 3], 16, np.float64, n_steps=3)
    assert t > 0


def test_benchmark_code_is_not_in_the_blas_wrappers():
    import cymlp
    from cymlp import _blas

    assert not hasattr(_blas, "gemm_only_seconds")
    assert not any(hasattr(_blas, n) for n in ("_axpy_memview", "_scal_memview"))
    assert "gemm_only_seconds" not in dir(cymlp)
