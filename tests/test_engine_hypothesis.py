"""Property-based checks of the engine against a NumPy reference.

Hypothesis draws shapes (1 sample, 1 feature, 1-unit layers, no hidden layer;
and widths of 19, 35 and 67 that run the SIMD loops' vector bodies and tails),
dtypes, dense or CSR input, sample weights, batch sizes (1 to more than the
data), prediction chunk sizes, losses, activations and solvers; the engine's
forward pass (``_train.predict``), full-batch loss and gradient
(``_train.loss_and_gradient``) and one ``train_epoch`` must match the
reference, with no crash. The profile is fixed (derandomized) so CI runs the
same examples every time. In CI the suite also runs against a build with
Cython's bounds and wraparound checks on (CYMLP_CYTHON_DEBUG=1), where an
out-of-bounds memoryview access raises instead of corrupting memory.
"""

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from cymlp import _activations, _train

PROFILE = settings(derandomize=True, max_examples=80, deadline=None, database=None,
                   suppress_health_check=[HealthCheck.too_slow])

LOSSES = {  # loss -> (output activation, smallest n_outputs)
    "log_loss": ("softmax", 2),
    "binary_log_loss": ("logistic", 1),
    "squared_error": ("identity", 1),
    "poisson": ("exp", 1),
}


# ----------------------------------------------------------------------
# the NumPy reference (float64 throughout)
# ----------------------------------------------------------------------
def _act(name, z):
    if name == "identity":
        return z
    if name == "relu":
        return np.maximum(z, 0)
    if name == "tanh":
        return np.tanh(z)
    if name == "logistic":
        return 1 / (1 + np.exp(-z))
    if name == "exp":
        return np.exp(z)
    if name == "softmax":
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    raise AssertionError(name)


def _deriv(name, a):
    return {"identity": np.ones_like(a), "relu": (a > 0).astype(float),
            "tanh": 1 - a**2, "logistic": a * (1 - a)}[name]


def _unpack(params, units):
    W, b, start = [], [], 0
    for fi, fo in zip(units[:-1], units[1:]):
        W.append(params[start:start + fi * fo].reshape(fi, fo))
        start += fi * fo
    for fo in units[1:]:
        b.append(params[start:start + fo])
        start += fo
    assert start == params.size
    return W, b


def _forward(params, units, X, hidden, out):
    """Activations of every layer and the smallest |z| of a relu hidden layer
    (the derivative's kink, where float rounding may legitimately flip it)."""
    W, b = _unpack(params, units)
    acts, kink = [X], np.inf
    for k in range(len(W)):
        z = acts[-1] @ W[k] + b[k]
        if k < len(W) - 1:
            if hidden == "relu" and z.size:
                kink = min(kink, np.abs(z).min())
            acts.append(_act(hidden, z))
        else:
            acts.append(_act(out, z))
    return acts, kink


def _row_losses(loss, p, y, eps):
    if loss == "log_loss":
        return -(y * np.log(np.clip(p, eps, 1 - eps))).sum(axis=1)
    if loss == "binary_log_loss":
        q = np.clip(p, eps, 1 - eps)
        return -(y * np.log(q) + (1 - y) * np.log(1 - q)).sum(axis=1)
    if loss == "squared_error":
        return 0.5 * ((y - p) ** 2).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(y > 0, y * np.log(np.where(y > 0, y, 1) / p), 0.0)
    return (t - y + p).sum(axis=1)


def _loss_grad(params, units, X, Y, sw, hidden, loss, out, alpha, eps):
    acts, kink = _forward(params, units, X, hidden, out)
    w = np.ones(len(X)) if sw is None else sw
    n = w.sum()
    W, _ = _unpack(params, units)
    value = (w * _row_losses(loss, acts[-1], Y, eps)).sum() / n
    value += 0.5 * alpha * sum((Wl**2).sum() for Wl in W) / n
    delta = (acts[-1] - Y) * w[:, None]
    gW, gb = [None] * len(W), [None] * len(W)
    for k in range(len(W) - 1, -1, -1):
        gW[k] = (acts[k].T @ delta + alpha * W[k]) / n
        gb[k] = delta.sum(axis=0) / n
        if k:
            delta = (delta @ W[k].T) * _deriv(hidden, acts[k])
    grad = np.concatenate([g.ravel() for g in gW + gb])
    return value, grad, kink


def _ref_epoch(params, units, X, Y, sw, order, bs, hidden, loss, out, step, eps):
    params = params.copy()
    s1 = np.zeros_like(params)
    s2 = np.zeros_like(params)
    acc, t, kink = 0.0, step["t"], np.inf
    idx = np.arange(len(X)) if order is None else order
    for start in range(0, len(X), bs):
        rows = idx[start:start + bs]
        swb = None if sw is None else sw[rows]
        value, g, k = _loss_grad(params, units, X[rows], Y[rows], swb, hidden, loss, out,
                                 step["alpha"], eps)
        kink = min(kink, k)
        acc += value * len(rows)
        lr = step["lr"]
        if step["solver"] == "adam":
            t += 1
            b1, b2 = step["beta1"], step["beta2"]
            s1 = b1 * s1 + (1 - b1) * g
            s2 = b2 * s2 + (1 - b2) * g**2
            lr_t = lr * np.sqrt(1 - b2**t) / (1 - b1**t)
            params -= lr_t * s1 / (np.sqrt(s2) + step["epsilon"])
        elif step["momentum"]:
            mu = step["momentum"]
            s1 = mu * s1 - lr * g
            params += mu * s1 - lr * g if step["nesterov"] else s1
        else:
            params -= lr * g
    return params, acc, t, kink


# ----------------------------------------------------------------------
# strategies
# ----------------------------------------------------------------------
def _width(lo):
    """A layer width: small (scalar loops only), or past one and two AVX-512
    float32 vectors (16 lanes) and AVX2 ones (8) with a remainder, so that the
    SIMD variants' vector loop bodies and their tails both run."""
    return st.one_of(st.integers(lo, 5), st.sampled_from([19, 35, 67]))


@st.composite
def problems(draw):
    dtype = draw(st.sampled_from([np.float64, np.float32]))
    n = draw(st.integers(1, 9))
    n_features = draw(_width(1))
    hidden = draw(st.lists(_width(1), min_size=0, max_size=3))
    loss = draw(st.sampled_from(sorted(LOSSES)))
    out, k_min = LOSSES[loss]
    k = draw(st.one_of(st.integers(k_min, 4), st.just(19)))
    units = [n_features, *hidden, k]
    activation = draw(st.sampled_from(["identity", "logistic", "tanh", "relu"]))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.RandomState(seed)
    X = rng.uniform(-2, 2, (n, n_features))
    if draw(st.booleans()):
        X[rng.rand(n, n_features) < 0.5] = 0.0   # some zeros (and some empty rows)
    if loss == "log_loss":
        Y = np.eye(k)[rng.randint(k, size=n)]
    elif loss == "binary_log_loss":
        Y = (rng.rand(n, k) < 0.5).astype(float)
    elif loss == "poisson":
        Y = rng.poisson(1.0, (n, k)).astype(float)
    else:
        Y = rng.randn(n, k)
    sw = rng.uniform(0.1, 3.0, n) if draw(st.booleans()) else None
    net = _train.Network(units, activation, loss, out)
    params = rng.uniform(-0.7, 0.7, net.n_params)
    alpha = draw(st.sampled_from([0.0, 1e-3, 0.5]))
    sparse = draw(st.booleans())
    cast = lambda a: None if a is None else np.ascontiguousarray(a, dtype=dtype)  # noqa: E731
    X, Y, sw, params = cast(X), cast(Y), cast(sw), cast(params)
    return dict(dtype=dtype, units=units, activation=activation, loss=loss, out=out,
                net=net, X=X, Y=Y, sw=sw, params=params, alpha=alpha, sparse=sparse,
                rng=rng)


def _engine_X(p):
    X = p["X"]
    if not p["sparse"]:
        return X
    rows, cols = np.nonzero(X)
    indptr = np.searchsorted(rows, np.arange(X.shape[0] + 1)).astype(np.intp)
    return _train.CSR(np.ascontiguousarray(X[rows, cols]), cols.astype(np.intp),
                      indptr, X.shape)


def _tol(p):
    return (dict(rtol=1e-9, atol=1e-11) if p["dtype"] == np.float64
            else dict(rtol=2e-3, atol=2e-4))


def _kink_margin(p):
    return 1e-9 if p["dtype"] == np.float64 else 1e-3


def _eps(p):
    return float(np.finfo(p["dtype"]).eps)


def _f64(a):
    return None if a is None else a.astype(np.float64)


# ----------------------------------------------------------------------
# properties
# ----------------------------------------------------------------------
@PROFILE
@given(p=problems(), chunk=st.integers(1, 12))
def test_predict_matches_reference(p, chunk):
    out = np.full((p["X"].shape[0], p["units"][-1]), np.nan, dtype=p["dtype"])
    _train.predict(p["net"], _engine_X(p), p["params"], out, chunk)
    acts, _ = _forward(_f64(p["params"]), p["units"], _f64(p["X"]), p["activation"],
                       p["out"])
    np.testing.assert_allclose(out, acts[-1], **_tol(p))


@PROFILE
@given(p=problems(), extra_rows=st.integers(0, 3))
def test_loss_and_gradient_match_reference(p, extra_rows):
    ws = _train.Workspace(p["net"], p["X"].shape[0] + extra_rows, p["dtype"])
    params = p["params"].copy()
    grads = np.full_like(params, np.nan)
    loss = _train.loss_and_gradient(p["net"], ws, _engine_X(p), p["Y"], p["sw"], params,
                                    grads, p["alpha"])
    np.testing.assert_array_equal(params, p["params"])   # read only
    ref_loss, ref_grad, kink = _loss_grad(
        _f64(p["params"]), p["units"], _f64(p["X"]), _f64(p["Y"]), _f64(p["sw"]),
        p["activation"], p["loss"], p["out"], p["alpha"], _eps(p))
    assume(kink > _kink_margin(p))
    tol = _tol(p)
    np.testing.assert_allclose(loss, ref_loss, **tol)
    scale = max(1.0, np.abs(ref_grad).max())
    np.testing.assert_allclose(grads, ref_grad, rtol=tol["rtol"], atol=tol["atol"] * scale)


@PROFILE
@given(p=problems(), batch_size=st.integers(1, 11), shuffled=st.booleans(),
       solver=st.sampled_from(["sgd", "sgd-momentum", "sgd-nesterov", "adam"]),
       lr=st.sampled_from([1e-3, 0.05, 0.3]), t0=st.integers(0, 5))
def test_one_epoch_matches_reference(p, batch_size, shuffled, solver, lr, t0):
    n = p["X"].shape[0]
    order = p["rng"].permutation(n).astype(np.intp) if shuffled else None
    step = dict(solver="adam" if solver == "adam" else "sgd", lr=lr,
                momentum=0.0 if solver == "sgd" else 0.9,
                nesterov=solver == "sgd-nesterov", beta1=0.9, beta2=0.999,
                epsilon=1e-8, alpha=p["alpha"], t=t0)
    params = p["params"].copy()
    n_params = params.size
    grads = np.empty_like(params)
    stateful = step["solver"] == "adam" or step["momentum"]
    s1 = np.zeros(n_params if stateful else 0, p["dtype"])
    s2 = np.zeros(n_params if step["solver"] == "adam" else 0, p["dtype"])
    ws = _train.Workspace(p["net"], batch_size, p["dtype"])  # may exceed n
    rule = _train.StepRule(step["solver"], lr, alpha=p["alpha"], momentum=step["momentum"],
                           nesterov=step["nesterov"], beta1=step["beta1"],
                           beta2=step["beta2"], epsilon=step["epsilon"])
    acc, t = _train.train_epoch(
        p["net"], ws, _engine_X(p), p["Y"], p["sw"], order, params, grads, s1, s2, rule, t0)
    ref_params, ref_acc, ref_t, kink = _ref_epoch(
        _f64(p["params"]), p["units"], _f64(p["X"]), _f64(p["Y"]), _f64(p["sw"]), order,
        min(batch_size, n), p["activation"], p["loss"], p["out"], step, _eps(p))
    assume(kink > _kink_margin(p))
    assert np.isfinite(acc)
    assert t == ref_t
    tol = _tol(p)
    np.testing.assert_allclose(acc, ref_acc, rtol=tol["rtol"], atol=tol["atol"] * n)
    np.testing.assert_allclose(params, ref_params, rtol=tol["rtol"], atol=tol["atol"])


def test_the_profile_is_deterministic():
    assert PROFILE.derandomize and PROFILE.database is None


@pytest.mark.skipif(os.environ.get("CYMLP_EXPECT_DEBUG_BUILD") != "1",
                    reason="only for the CYMLP_CYTHON_DEBUG=1 build (see .ci/run)")
def test_this_is_the_bounds_checked_build():
    """The checked build really is what is tested: indexing element [0, 0] of
    an empty memoryview raises IndexError there (the optimized build computes
    the address without reading it, and the kernel then touches 0 rows)."""
    with pytest.raises(IndexError, match="[Oo]ut of bounds"):
        _activations.apply_activation("relu", np.empty((0, 3)))
