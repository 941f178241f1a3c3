"""What watching training costs: Ctrl-C checks in the engine, and callbacks.

``python benchmarks/watch_overhead.py [--reps 9]`` times, interleaved in one process
(A B C A B C ...; medians of the repetitions, and the median of the per-repetition
ratios to A):

A. ``fit`` as shipped, no callback set (the engine reads the clock after each
   minibatch and looks for signals every 50 ms);
B. the same with the engine's signal checks off (``check_signals=0``): A / B is what
   Ctrl-C within an epoch costs;
C. with a callback set whose hooks do nothing: the per-epoch Python of the
   callback machinery (contexts, hook dispatch), never per minibatch.

A fit without callbacks opens no callback context at all (``_callbacks.start``
returns None), so beyond B's clock reads its cost is a few attribute tests per
epoch. The workload is chosen to make per-minibatch and per-epoch costs as
visible as possible: a small network (64-32-10, float32), batch 32, so a step
takes microseconds.
"""

import argparse
import functools
import statistics
import sys
import time
import warnings

import numpy as np

import cymlp
from cymlp import _solvers


class NoOp:
    """A FitCallback whose hooks do nothing."""

    def setup(self, estimator, context):
        pass

    def teardown(self, estimator, context):
        pass

    def on_fit_task_begin(self, estimator, context):
        pass

    def on_fit_task_end(self, estimator, context):
        pass


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=9)
    parser.add_argument("--samples", type=int, default=20000)
    parser.add_argument("--epochs", type=int, default=10)
    args = parser.parse_args(argv)

    rng = np.random.RandomState(0)
    X = rng.rand(args.samples, 64).astype(np.float32)
    y = rng.randint(0, 10, args.samples)

    def make():
        return cymlp.MLPClassifier((32,), solver="sgd", batch_size=32, max_iter=args.epochs,
                                   tol=0.0, n_iter_no_change=10**6, random_state=0)

    real_train = _solvers._train

    class NoSignals:
        """cymlp._train with train_epoch's signal checks off."""

        def __getattr__(self, name):
            return getattr(real_train, name)

        train_epoch = staticmethod(functools.partial(real_train.train_epoch, check_signals=0))

    def run_a():
        return make().fit(X, y)

    def run_b():
        _solvers._train = NoSignals()
        try:
            return make().fit(X, y)
        finally:
            _solvers._train = real_train

    cases = {"A: as shipped, no callback": run_a,
             "B: engine signal checks off": run_b}
    if cymlp._callbacks.AVAILABLE:
        cases["C: a no-op callback set"] = lambda: make().set_callbacks(NoOp()).fit(X, y)
    else:
        print("(sklearn.callback not available: case C skipped)")

    times = {k: [] for k in cases}
    models = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for fn in cases.values():  # warm-up
            fn()
        for _ in range(args.reps):
            for name, fn in cases.items():
                t0 = time.perf_counter()
                models[name] = fn()
                times[name].append(time.perf_counter() - t0)
    ref = models["A: as shipped, no callback"]
    for name, m in models.items():  # the same model every way
        assert np.array_equal(m._params, ref._params), name

    n_steps = args.epochs * -(-args.samples // 32)
    base = times["A: as shipped, no callback"]
    print(f"cymlp {cymlp.__version__}, {args.samples} x 64 float32, 64-32-10 sgd, batch 32, "
          f"{args.epochs} epochs ({n_steps} steps), {args.reps} repetitions interleaved")
    print(f"{'case':34s} {'median s':>9s} {'min s':>8s} {'us/step':>8s} {'vs A (median of ratios)':>24s}")
    for name, ts in times.items():
        ratios = [t / b for t, b in zip(ts, base)]
        print(f"{name:34s} {statistics.median(ts):9.4f} {min(ts):8.4f} "
              f"{statistics.median(ts) / n_steps * 1e6:8.2f} {statistics.median(ratios):24.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
