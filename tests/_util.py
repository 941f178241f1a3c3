"""Helpers shared by the tests: fitting without ConvergenceWarning noise, and
exact comparison of estimator state."""

import math
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import LabelBinarizer

from cymlp._solvers import _Optimizer


def quiet(fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` with ConvergenceWarning ignored (short test fits)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return fn(*args, **kwargs)


def assert_same_value(a, b, path="est"):
    """a and b are equal: arrays by dtype, shape and value (NaN == NaN), lists
    element-wise, optimizer / label binarizer / RandomState by their state."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        assert isinstance(a, np.ndarray) and isinstance(b, np.ndarray), path
        assert a.dtype == b.dtype, (path, a.dtype, b.dtype)
        assert a.shape == b.shape, (path, a.shape, b.shape)
        np.testing.assert_array_equal(a, b, err_msg=path)
    elif isinstance(a, (list, tuple)):
        assert type(a) is type(b), (path, type(a), type(b))
        assert len(a) == len(b), (path, len(a), len(b))
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same_value(x, y, f"{path}[{i}]")
    elif isinstance(a, np.random.RandomState):
        assert isinstance(b, np.random.RandomState), path
        sa, sb = a.get_state(), b.get_state()
        assert sa[0] == sb[0] and sa[2:] == sb[2:], path
        np.testing.assert_array_equal(sa[1], sb[1], err_msg=path)
    elif isinstance(a, (_Optimizer, LabelBinarizer)):
        assert type(a) is type(b), path
        assert_same_dict(a.__dict__, b.__dict__, path)
    elif isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        assert math.isnan(b), path
    else:
        assert type(a) is type(b) or (
            isinstance(a, (int, float)) and isinstance(b, (int, float))
        ), (path, type(a), type(b))
        assert a == b, (path, a, b)


def assert_same_dict(a, b, path="est"):
    assert sorted(a) == sorted(b), (path, sorted(set(a) ^ set(b)))
    for k in a:
        assert_same_value(a[k], b[k], f"{path}.{k}")


def assert_same_state(est, other):
    """Every attribute equal, and coefs_ / intercepts_ views of _params."""
    assert type(est) is type(other)
    assert_same_dict(est.__dict__, other.__dict__)
    assert_params_are_views(est)


def assert_params_are_views(est):
    if not hasattr(est, "coefs_"):
        return
    params = est._params
    for a in list(est.coefs_) + list(est.intercepts_):
        assert a.base is params, "coefs_/intercepts_ are no longer views of _params"
    assert sum(a.size for a in list(est.coefs_) + list(est.intercepts_)) == params.size


def assert_same_model(a, b):
    """Bitwise-identical weights."""
    assert len(a.coefs_) == len(b.coefs_)
    for x, y in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        assert x.dtype == y.dtype
        np.testing.assert_array_equal(x, y)


def assert_close_to_sklearn(cy, sk):
    """cymlp's model is scikit-learn's to float64 parity (rtol 1e-10): weights,
    loss curve, epochs and steps."""
    assert len(cy.coefs_) == len(sk.coefs_)
    for a, b in zip(cy.coefs_ + cy.intercepts_, sk.coefs_ + sk.intercepts_):
        assert a.dtype == b.dtype
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(cy.loss_curve_, sk.loss_curve_, rtol=1e-10)
    assert cy.n_iter_ == sk.n_iter_
    assert cy.t_ == sk.t_


def outcome(mod, call):
    """(error type and message with the module's name taken out, or None;
    the warnings as (category, message)) of ``call(mod)``: what a call on
    cymlp and the same call on scikit-learn must share."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            call(mod)
            error = None
        except Exception as e:  # noqa: BLE001 - compared by the caller
            error = (type(e), str(e).replace(mod.__name__, ""))
    return error, [(w.category, str(w.message)) for w in caught]
