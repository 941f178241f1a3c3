"""Ctrl-C (SIGINT) inside a long epoch, or a long predict: a subprocess is sent SIGINT in
the middle and must return within a generous second (it checks that the signal is
honoured, not speed), in scikit-learn's state: the warning "Training interrupted by
user.", the partial epoch's updates kept, n_iter_ / t_ / loss_curve_ not advanced,
Adam's step count advanced per step, early stopping's best weights restored."""

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

from cymlp import MLPClassifier, _state, _train

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

# an epoch of 1,875 minibatches of ~50 MFLOP each: about 2 s on a quiet 2-core machine,
# much more on a busy one; SIGINT half a second after the first epoch starts (the child
# says when: fit's set-up before it, early stopping's split of X among it, takes a
# machine-dependent while) lands inside it, nowhere near its last 50 ms, which no
# signal check covers
N, BATCH = 120000, 64
STEPS_PER_EPOCH = N // BATCH
CHILD = """
import sys, time, warnings
import numpy as np
from cymlp import MLPClassifier, _state, _train

_epoch = _train.train_epoch
def announced_epoch(*args, **kwargs):
    print("EPOCH", flush=True)
    return _epoch(*args, **kwargs)
_train.train_epoch = announced_epoch  # what fit_stochastic calls

rng = np.random.RandomState(0)
X = rng.rand(120000, 128).astype(np.float32)
y = (X[:, :8].sum(1) > 4).astype(int) + (X[:, 8] > 0.5)
params = dict(hidden_layer_sizes=(1024,), batch_size=64, max_iter=5, random_state=0, {extra})
est = MLPClassifier(**params)
print("FITTING", flush=True)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    est.fit(X, y)
print("RETURNED", time.monotonic(), flush=True)
print("WARNINGS", [str(w.message) for w in caught])
opt = est._optimizer
print("STATE", est.n_iter_, est.t_, len(est.loss_curve_), opt.t, repr(opt.learning_rate))
# the initial weights: the same draws from the same seed
init = MLPClassifier(**params)
init._label_binarizer = est._label_binarizer
init._random_state = np.random.RandomState(0)
init._initialize(est._label_binarizer.transform(y[:5]),
                 _state.Layout([128, 1024, est.n_outputs_]), np.float32)
print("SAME_AS_INITIAL", bool(np.array_equal(est._params, init._params)))
"""


# Python's own Ctrl-C handler in the child, as an interactive session has it,
# whatever the parent left: a process started with SIGINT ignored (a background
# job of a non-interactive shell, and so its pytest and pytest's children)
# inherits SIG_IGN, and Python then installs no handler of its own
DEFAULT_SIGINT = "import signal; signal.signal(signal.SIGINT, signal.default_int_handler)\n"


def _run_and_interrupt(code, trigger, delay):
    """Start ``code`` (with Python's default SIGINT handler); when a stdout line
    starts with ``trigger``, wait ``delay`` s and send SIGINT; return (the lines,
    seconds from SIGINT to the RETURNED line)."""
    proc = subprocess.Popen([sys.executable, "-u", "-c", DEFAULT_SIGINT + code],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines, sent, returned = [], None, None
    timer = threading.Timer(300, proc.kill)
    timer.start()
    try:
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            if sent is None and line.startswith(trigger):
                time.sleep(delay)
                sent = time.monotonic()
                os.kill(proc.pid, signal.SIGINT)
            if line.startswith("RETURNED"):
                returned = float(line.split()[1])
        err = proc.stderr.read()
        assert proc.wait() == 0, err
    finally:
        timer.cancel()
    assert sent is not None and returned is not None, lines
    return lines, returned - sent


def _field(lines, key):
    (line,) = [x for x in lines if x.startswith(key + " ")]
    return line[len(key) + 1:]


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_sigint_mid_epoch_stops_within_a_second(solver):
    lines, latency = _run_and_interrupt(CHILD.format(extra=f"solver={solver!r}"),
                                        "EPOCH", 0.5)
    assert latency < 1.0, (latency, lines)
    assert _field(lines, "WARNINGS") == "['Training interrupted by user.']"
    n_iter, t_, n_curve, opt_t, lr = _field(lines, "STATE").split()
    # the interrupted epoch is not counted...
    assert (int(n_iter), int(t_), int(n_curve)) == (0, 0, 0)
    # ...but its updates were kept
    assert _field(lines, "SAME_AS_INITIAL") == "False"
    if solver == "adam":
        # scikit-learn's AdamOptimizer counts (and rescales its rate) per step: the
        # count shows the stop came inside the epoch, not at its end
        t = int(opt_t)
        assert 0 < t < STEPS_PER_EPOCH
        expected = 0.001 * np.sqrt(1 - 0.999**t) / (1 - 0.9**t)
        assert float(lr) == float(expected)


def test_sigint_with_early_stopping_restores_the_best_weights():
    lines, latency = _run_and_interrupt(
        CHILD.format(extra="solver='adam', early_stopping=True"), "EPOCH", 0.5)
    assert latency < 1.0, (latency, lines)
    assert _field(lines, "WARNINGS") == "['Training interrupted by user.']"
    n_iter, t_, n_curve, opt_t, _ = map(float, _field(lines, "STATE").split())
    assert (n_iter, t_, n_curve) == (0, 0, 0)
    assert 0 < opt_t < STEPS_PER_EPOCH  # stopped inside the first epoch
    # no epoch completed: the best weights are the initial ones, restored over the
    # partial epoch's updates (as scikit-learn's _best_coefs from _initialize)
    assert _field(lines, "SAME_AS_INITIAL") == "True"


def test_sigint_in_a_long_predict_stops_within_a_second():
    code = textwrap.dedent("""
        import time, warnings
        import numpy as np
        from cymlp import MLPClassifier, _state, _train
        rng = np.random.RandomState(0)
        warnings.simplefilter("ignore")
        Xs = rng.rand(100, 256).astype(np.float32)
        est = MLPClassifier((4096,), max_iter=1).fit(Xs, np.arange(100) % 2)
        X = rng.rand(50000, 256).astype(np.float32)
        out = np.full((50000, 1), np.nan, dtype=np.float32)
        print("PREDICTING", flush=True)
        try:
            _train.predict(_state.network(est), X, est._params, out)  # what predict runs
            print("FINISHED")
        except KeyboardInterrupt:
            pass
        print("RETURNED", time.monotonic(), flush=True)
        print("ROWS_DONE", int(np.isfinite(out).all(1).sum()))
    """)
    lines, latency = _run_and_interrupt(code, "PREDICTING", 0.5)
    assert "FINISHED" not in lines, lines
    assert 0 < int(_field(lines, "ROWS_DONE")) < 50000  # stopped between chunks
    assert latency < 1.0, (latency, lines)


def test_signal_checks_change_nothing_else():
    """check_signals only reads the clock: the same epoch, bit for bit, with it off."""
    rng = np.random.RandomState(0)
    X = rng.rand(500, 6)
    y = np.arange(500) % 3
    est = MLPClassifier((5,), solver="adam", max_iter=1, batch_size=8, random_state=0)
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X, y)
    net = _state.network(est)
    outs = []
    for interval in (0.0, 1e-9, 0.05):  # never, after every minibatch, the default
        ws = _train.Workspace(net, 8, np.float64, True)
        p, st1, st2 = est._params.copy(), np.zeros_like(est._params), np.zeros_like(
            est._params)
        Y = est._label_binarizer.transform(y).astype(np.float64)
        res = _train.train_epoch(net, ws, X, Y, None, np.arange(500)[::-1].copy(), p,
                                 np.empty_like(p), st1, st2,
                                 _train.StepRule("adam", 0.001, alpha=1e-4), 0,
                                 check_signals=interval)
        assert ws.steps == 63
        outs.append((res, p, st1, st2))
    for res, p, st1, st2 in outs[1:]:
        assert res == outs[0][0]
        for a, b in zip((p, st1, st2), outs[0][1:]):
            np.testing.assert_array_equal(a, b)
