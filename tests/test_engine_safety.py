"""The engine's objects cannot be desynchronised from Python, and its entry
points check what ties them together: Network, Workspace, CSR and StepRule fields are
read-only (their arrays too, where the engine caches shapes or offsets), a
Workspace serves only the Network it was built for, an epoch's ``order`` is
within range; read-only (memory-mapped) parameters are read in place; offsets
are intp; ReLU keeps NaN as scikit-learn does; and the only size limits left
are the 32-bit BLAS's own (docs/engine-limits.md)."""

import numpy as np
import pytest
from sklearn.neural_network import _base as sk_base

from cymlp import _activations, _train


def _net(units=(3, 4, 2), act="relu", loss="log_loss", out="softmax"):
    return _train.Network(list(units), act, loss, out)


def _csr():
    return _train.CSR(np.array([1.0, 2.0]), np.array([0, 2], dtype=np.intp),
                      np.array([0, 1, 2], dtype=np.intp), (2, 3))


@pytest.mark.parametrize("make, fields", [
    (_net, ["units", "coef_off", "bias_off", "hidden", "loss", "out", "n_params"]),
    (lambda: _train.Workspace(_net(), 4, np.float64),
     ["net", "act_off", "xb", "yb", "swb", "acts", "deltas", "batch_size"]),
    (_csr, ["data", "indices", "indptr", "dtype", "n_rows", "n_cols"]),
    (lambda: _train.StepRule("sgd", 0.1, alpha=1e-4, momentum=0.9, nesterov=True),
     ["solver", "learning_rate", "alpha", "momentum", "nesterov", "beta1", "beta2",
      "epsilon"]),
])
def test_fields_are_read_only(make, fields):
    obj = make()
    for name in fields:
        getattr(obj, name)   # readable
        with pytest.raises(AttributeError):
            setattr(obj, name, getattr(obj, name))


def test_shape_arrays_cannot_be_written():
    net = _net()
    ws = _train.Workspace(net, 4, np.float64)
    for arr in (net.units, net.coef_off, net.bias_off, ws.act_off):
        with pytest.raises(ValueError, match="read-only"):
            arr[0] = 7


def _epoch_args(net, ws, n=6, order=None):
    rng = np.random.RandomState(0)
    X = rng.randn(n, net.units[0])
    Y = np.eye(net.units[-1])[rng.randint(net.units[-1], size=n)]
    p = rng.uniform(-0.5, 0.5, net.n_params)
    return (net, ws, X, Y, None, order, p, np.empty_like(p), np.zeros(0), np.zeros(0),
            _train.StepRule("sgd", 0.1, alpha=0.0), 0)


def test_workspace_of_another_network_is_refused():
    net, twin = _net(), _net()    # same shapes, still another Network
    ws = _train.Workspace(twin, 4, np.float64)
    with pytest.raises(ValueError, match="Workspace was built for another Network"):
        _train.train_epoch(*_epoch_args(net, ws))
    args = _epoch_args(net, ws)
    with pytest.raises(ValueError, match="Workspace was built for another Network"):
        _train.loss_and_gradient(net, _train.Workspace(twin, 6, np.float64), args[2], args[3],
                                 None, args[6], args[7], 0.0)
    _train.train_epoch(*_epoch_args(twin, ws))   # its own network: fine


@pytest.mark.parametrize("bad", [-1, 6, 2**40, -2**40])
def test_order_out_of_range_is_refused(bad):
    net = _net()
    ws = _train.Workspace(net, 4, np.float64)
    order = np.arange(6, dtype=np.intp)
    order[3] = bad
    args = _epoch_args(net, ws, order=order)
    before = args[6].copy()
    with pytest.raises(ValueError, match=r"order holds row indices outside \[0, 6\)"):
        _train.train_epoch(*args)
    np.testing.assert_array_equal(args[6], before)   # refused before any step


def test_order_in_range_is_accepted():
    net = _net()
    ws = _train.Workspace(net, 4, np.float64)
    order = np.array([5, 0, 0, 3, 2, 1], dtype=np.intp)   # repeats are legal
    acc, t = _train.train_epoch(*_epoch_args(net, ws, order=order))
    assert np.isfinite(acc) and t == 0


def test_read_only_and_memmapped_parameters_are_read_in_place(tmp_path):
    net = _net((5, 7, 3))
    rng = np.random.RandomState(1)
    X, Y = rng.randn(9, 5), np.eye(3)[rng.randint(3, size=9)]
    params = rng.uniform(-0.5, 0.5, net.n_params)
    ws = _train.Workspace(net, 9, np.float64, False)
    ref_out, ref_g = np.empty((9, 3)), np.empty(net.n_params)
    _train.predict(net, X, params, ref_out)
    ref_loss = _train.loss_and_gradient(net, ws, X, Y, None, params, ref_g, 0.1)

    path = tmp_path / "params.npy"
    np.save(path, params)
    frozen = params.copy()
    frozen.flags.writeable = False
    for p in (frozen, np.load(path, mmap_mode="r")):
        assert not p.flags.writeable
        out, g = np.empty((9, 3)), np.empty(net.n_params)
        _train.predict(net, X, p, out)
        loss = _train.loss_and_gradient(net, ws, X, Y, None, p, g, 0.1)
        np.testing.assert_array_equal(out, ref_out)
        np.testing.assert_array_equal(g, ref_g)
        assert loss == ref_loss
    np.testing.assert_array_equal(np.load(path), params)


# -- ReLU and NaN: scikit-learn's np.maximum(X, 0, out=X) keeps NaN, and its
# derivative (delta[Z == 0] = 0) keeps the delta of a NaN activation.
SPECIAL = np.array([np.nan, -np.nan, -1.0, -0.0, 0.0, 2.0, np.inf, -np.inf, -1e-300, 1e-300])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("with_bias", [True, False])
@pytest.mark.parametrize("width", [1, 10, 37])   # scalar tails and vector bodies
def test_relu_matches_scikit_learn_on_nan_and_special_values(dtype, with_bias, width):
    rng = np.random.RandomState(width)
    z = rng.choice(SPECIAL, size=(7, width)).astype(dtype)
    b = (rng.choice([0.0, 1.0, -1.0], size=width).astype(dtype) if with_bias else None)
    ref = z + b if with_bias else z.copy()
    sk_base.inplace_relu(ref)
    ours = z.copy()
    _activations.apply_activation("relu", ours, b)
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(ref))
    np.testing.assert_array_equal(ours, ref)
    assert np.isnan(ours).any()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("width", [1, 10, 37])
def test_relu_derivative_matches_scikit_learn(dtype, width):
    rng = np.random.RandomState(width + 1)
    a = rng.choice(SPECIAL, size=(5, width)).astype(dtype)
    sk_base.inplace_relu(a)   # a is relu's output (NaN kept)
    delta = rng.randn(5, width).astype(dtype)
    ref = delta.copy()
    sk_base.inplace_relu_derivative(a, ref)
    _activations.apply_derivative("relu", a, delta)
    np.testing.assert_array_equal(delta, ref)


def test_nan_in_the_first_layer_reaches_the_output():
    """A diverged first layer (NaN pre-activations) shows in the predictions,
    as in scikit-learn, instead of being hidden by ReLU."""
    net = _net((2, 3, 2))
    params = np.zeros(net.n_params)
    params[0] = np.nan                  # W0[0, 0]
    params[net.bias_off[1]:] = 0.0
    params[net.coef_off[1]:net.bias_off[0]] = 1.0   # W1: every hidden unit feeds both outputs
    out = np.empty((1, 2))
    _train.predict(net, np.array([[1.0, 1.0]]), params, out)
    assert np.isnan(out).all()


# -- offsets and limits -----------------------------------------------------
def test_offsets_are_intp_and_exact_beyond_2_to_31():
    # two 46000 x 46000 layers: each below 2**31 entries, together beyond it
    # (an int32 cumsum would wrap); nothing of that size is allocated
    net = _train.Network([46000, 46000, 46000, 2], "relu", "log_loss", "softmax")
    assert net.coef_off.dtype == net.bias_off.dtype == np.intp
    sizes = [46000 * 46000, 46000 * 46000, 46000 * 2]
    assert list(net.coef_off) == [0, sizes[0], sizes[0] + sizes[1]]
    start = sum(sizes)
    assert list(net.bias_off) == [start, start + 46000, start + 92000]
    assert net.n_params == start + 92002
    assert net.units.dtype == np.intc
    ws = _train.Workspace(_net(), 3, np.float32)
    assert ws.act_off.dtype == np.intp


def test_only_the_blas_limits_remain(monkeypatch):
    """A batch of rows must stay below 2**31 (a gemm dimension); batch x layer
    width no longer matters (offsets are Py_ssize_t). Shown with the limit
    lowered to 25, so nothing large is allocated."""
    net = _train.Network([3, 10, 2], "relu", "log_loss", "softmax")
    monkeypatch.setattr(_train, "_INT32_MAX", 25)
    ws = _train.Workspace(net, 20, np.float64)          # 20 x 10 > 25: fine
    assert ws.acts.shape == (20 * 12,)
    with pytest.raises(ValueError, match="32-bit"):
        _train.Workspace(net, 26, np.float64)


def test_step_rule_holds_what_the_optimizer_was_built_with():
    from cymlp._solvers import _Optimizer

    sgd = _Optimizer("sgd", 10, np.float64, 0.2, "invscaling", 0.8, False, 0.5, 0.9, 0.999, 1e-8)
    sgd.learning_rate = 0.05        # the schedule's current rate is the one applied
    rule = sgd.step_rule(1e-3)
    assert (rule.solver, rule.learning_rate, rule.alpha, rule.momentum, rule.nesterov) == (
        "sgd", 0.05, 1e-3, 0.8, False)
    adam = _Optimizer("adam", 10, np.float64, 0.002, "constant", 0.9, True, 0.5, 0.8, 0.99,
                      1e-7)
    adam.learning_rate = 0.5        # Adam's per-step rate is derived from learning_rate_init
    rule = adam.step_rule(0.0)
    assert (rule.solver, rule.learning_rate, rule.beta1, rule.beta2, rule.epsilon) == (
        "adam", 0.002, 0.8, 0.99, 1e-7)
    assert (rule.momentum, rule.nesterov) == (0.0, False)   # not Adam's settings
    assert repr(rule) == "StepRule('adam', 0.002, alpha=0.0, beta1=0.8, beta2=0.99, epsilon=1e-07)"


def test_step_rule_refuses_an_unknown_solver():
    with pytest.raises(ValueError, match="solver must be 'sgd' or 'adam', got 'lbfgs'"):
        _train.StepRule("lbfgs", 0.1, alpha=0.0)
    with pytest.raises(TypeError):
        _train.StepRule("sgd", 0.1)    # alpha has no default: the caller says it
