"""The engine's optional phase profile (``train_epoch(..., profile=...)``, used
by benchmarks/ to show where a step's time goes): it measures without changing
what is computed, charges each phase, and accounts for the whole epoch."""

import time

import numpy as np
import pytest

from cymlp import _train

PHASES = _train.PROFILE_PHASES
RULES = {  # solver, momentum, nesterov
    "sgd": ("sgd", 0.0, False),
    "momentum": ("sgd", 0.9, False),
    "nesterov": ("sgd", 0.9, True),
    "adam": ("adam", 0.0, False),
}


def _setup(dtype, n=600, units=(20, 16, 8, 3)):
    rng = np.random.RandomState(0)
    net = _train.Network(list(units), "relu", "log_loss", "softmax")
    ws = _train.Workspace(net, 32, dtype, True)
    X = rng.randn(n, units[0]).astype(dtype)
    Y = np.eye(units[-1], dtype=dtype)[rng.randint(units[-1], size=n)]
    params = rng.uniform(-0.3, 0.3, net.n_params).astype(dtype)
    order = rng.permutation(n).astype(np.intp)
    return net, ws, X, Y, params, order


def _epoch(setup, rule, profile=None, sample_weight=None, check_x=False):
    net, ws, X, Y, params, order = setup
    solver, momentum, nesterov = RULES[rule]
    p, s1, s2 = params.copy(), np.zeros_like(params), np.zeros_like(params)
    out = _train.train_epoch(net, ws, X, Y, sample_weight, order, p, np.empty_like(p), s1, s2,
                             _train.StepRule(solver, 0.01, alpha=1e-4, momentum=momentum,
                                             nesterov=nesterov),
                             0, check_x, profile=profile)
    return out, p, s1, s2


def test_phase_names():
    assert len(PHASES) == 7 and len(set(PHASES)) == 7
    assert PHASES[0] == "gather" and PHASES[-1] == "optimizer"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("rule", list(RULES))
def test_profiling_changes_nothing(dtype, rule):
    setup = _setup(dtype)
    ref = _epoch(setup, rule)
    prof = np.zeros(len(PHASES))
    got = _epoch(setup, rule, prof, sample_weight=np.linspace(0.5, 2, 600).astype(dtype),
                 check_x=True)
    got_ref = _epoch(setup, rule, sample_weight=np.linspace(0.5, 2, 600).astype(dtype),
                     check_x=True)
    for a, b in zip(got[1:], got_ref[1:]):
        np.testing.assert_array_equal(a, b)
    assert got[0] == got_ref[0]
    prof2 = np.zeros(len(PHASES))
    again = _epoch(setup, rule, prof2)
    for a, b in zip(ref[1:], again[1:]):
        np.testing.assert_array_equal(a, b)
    assert ref[0] == again[0]


@pytest.mark.parametrize("rule", list(RULES))
def test_every_phase_is_charged(rule):
    setup = _setup(np.float64, n=4000, units=(200, 128, 64, 5))
    prof = np.zeros(len(PHASES))
    _epoch(setup, rule, prof)
    phases = dict(zip(PHASES, prof))
    for name, seconds in phases.items():
        if name == "optimizer" and rule == "sgd":
            # plain SGD's update is the weight-gradient product itself
            assert seconds == 0.0
        else:
            assert seconds > 0.0, name


def test_profile_accounts_for_the_epoch():
    setup = _setup(np.float64, n=20000, units=(200, 128, 64, 5))
    for _ in range(3):
        prof = np.zeros(len(PHASES))
        t0 = time.perf_counter()
        _epoch(setup, "adam", prof)
        wall = time.perf_counter() - t0
        # the phases tile the epoch from its first step to its last: their sum
        # is the epoch's time less only the set-up around it
        if 0.9 * wall <= prof.sum() <= wall:
            return
    pytest.fail("phases sum to %.4f s of an epoch of %.4f s" % (prof.sum(), wall))


def test_profile_accumulates():
    setup = _setup(np.float64)
    prof = np.zeros(len(PHASES))
    _epoch(setup, "adam", prof)
    first = prof.copy()
    _epoch(setup, "adam", prof)
    assert np.all(prof >= first) and prof.sum() > first.sum()


@pytest.mark.parametrize("bad", [np.zeros(6), np.zeros(8), np.zeros(7, np.float32),
                                 np.zeros((7, 1))])
def test_wrong_profile_buffer_is_refused(bad):
    with pytest.raises((ValueError, TypeError)):
        _epoch(_setup(np.float64), "sgd", bad)
