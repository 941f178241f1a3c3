#!/usr/bin/env python
"""Streaming: partial_fit over chunks against fit's own epochs, on the same rows
and settings, paired in one run.

    python benchmarks/streaming.py               # 5 repetitions, 1 BLAS thread
    python benchmarks/streaming.py --reps 3 --markdown
    python benchmarks/streaming.py --cpu-time    # on a machine shared with other work

Data: make_classification(60,000 x 100, 10 classes, random_state=0), float32;
MLPClassifier(hidden_layer_sizes=(100,), solver="adam", batch_size=200,
random_state=0); 3 passes over the data. "fit" is 3 epochs of fit (shuffle on,
n_iter_no_change past max_iter, so no early stop); "partial_fit, chunks of N"
is 3 passes of partial_fit over consecutive N-row chunks (classes= on every
call, as dask-ml's Incremental does). The throughput ratio is fit's time over
partial_fit's (1.0: no fixed cost per call), the median of the paired ratios.
Targets: >= 0.90 at 1,000-row chunks and >= 0.70 at 200-row chunks.
"""

import argparse
import os
import sys
import time
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _measure  # noqa: E402

CHUNKS = (5000, 1000, 200)
TARGETS = {1000: 0.90, 200: 0.70}
PASSES = 3


def data(n=60000):
    from sklearn.datasets import make_classification

    X, y = make_classification(n_samples=n, n_features=100, n_informative=40, n_classes=10,
                               random_state=0)
    return X.astype(np.float32), y


def estimator(cls):
    return cls(hidden_layer_sizes=(100,), solver="adam", batch_size=200, random_state=0,
               max_iter=PASSES, n_iter_no_change=PASSES + 1, tol=0.0)


def runners(cls, X, y, clock=time.perf_counter):
    from sklearn.exceptions import ConvergenceWarning

    classes = np.unique(y)

    def fit():
        est = estimator(cls)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            t0 = clock()
            est.fit(X, y)
            return clock() - t0, None

    def stream(chunk):
        def run():
            est = estimator(cls)
            t0 = clock()
            for _ in range(PASSES):
                for i in range(0, len(X), chunk):
                    est.partial_fit(X[i:i + chunk], y[i:i + chunk], classes=classes)
            return clock() - t0, None
        return run

    out = {"fit": fit}
    out.update({f"partial_fit, chunks of {c}": stream(c) for c in CHUNKS})
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--samples", type=int, default=60000)
    ap.add_argument("--sklearn", action="store_true",
                    help="also time scikit-learn's MLPClassifier the same way")
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--cpu-time", action="store_true",
                    help="time this process's CPU time (time.process_time) instead of "
                         "wall time: on a machine shared with other work, it leaves out "
                         "the time slices given to others (with 1 BLAS thread the "
                         "process's CPU time is the run's)")
    args = ap.parse_args(argv)

    import cymlp

    X, y = data(args.samples)
    impls = [("cymlp", cymlp.MLPClassifier)]
    if args.sklearn:
        from sklearn.neural_network import MLPClassifier as SkMLP
        impls.append(("sklearn", SkMLP))
    rows = []
    loads = {}
    with _measure.threads(args.threads):
        for name, cls in impls:
            run = runners(cls, X, y, time.process_time if args.cpu_time else time.perf_counter)
            with _measure.ForeignLoad() as load:
                times = _measure.interleaved(run, args.reps, settle=0.1)
            loads[name] = load.value
            print(f"{name} done", file=sys.stderr, flush=True)
            for label, ts in times.items():
                chunk = int(label.rsplit(" ", 1)[1]) if label != "fit" else None
                ratio = _measure.paired_ratio(times["fit"], ts)
                target = ""
                if chunk in TARGETS:
                    target = f">= {TARGETS[chunk]:.2f} " + (
                        "PASS" if ratio >= TARGETS[chunk] else "MISS")
                fixed = ""
                if chunk:
                    calls = PASSES * -(-len(X) // chunk)
                    per_call = (_measure.summary(ts)["median"]
                                - _measure.summary(times["fit"])["median"]) / calls
                    fixed = f"{per_call * 1e6:.0f}"
                rows.append([name, label, f"{_measure.summary(ts)['median']:.3f}",
                             f"{ratio:.2f}", fixed, target if name == "cymlp" else ""])

    info = _measure.machine_info()
    head = (f"Streaming, {len(X)} x 100 float32, 10 classes, adam, batch 200, (100,), "
            f"{PASSES} passes, {args.threads} BLAS thread(s), {args.reps} repetitions, "
            f"{'CPU' if args.cpu_time else 'wall'} time; "
            f"{info.get('cpu', '')}")
    if any(v is not None for v in loads.values()):
        # CPU used by other processes while it ran (0 on an idle machine); the
        # paired ratios hold up under load better than the seconds do
        head += "; other processes' load " + ", ".join(
            f"{n} {v:.2f} cores" for n, v in loads.items() if v is not None)
    cols = ["impl", "run", "seconds (median)", "throughput vs fit", "fixed µs/call", "target"]
    _measure.print_table(head, cols, rows, args.markdown)


if __name__ == "__main__":
    main()
