#!/usr/bin/env python
"""Serving latency: cymlp's predict / predict_proba against scikit-learn's on the
same fitted model, one call at a time, at 1, 10, 100 and 10,000 rows.

    python benchmarks/serving.py                # 7 repetitions, 1 BLAS thread
    python benchmarks/serving.py --reps 3 --threads 2 --markdown

Both estimators are fitted on scikit-learn's digits (X / 16, float64,
hidden_layer_sizes=(100,), adam, 50 epochs, random_state=0); scikit-learn's
model gets cymlp's weights, so both predict with the very same parameters.
Each repetition times a block of calls per implementation (interleaved, the
starting implementation rotating); the figure is the median time per call
over the repetitions, and the ratio is the median of the paired
(within-repetition) ratios. Target: one-row calls at least 10x faster than
scikit-learn's.
"""

import argparse
import os
import sys
import time
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _measure  # noqa: E402

ROWS = (1, 10, 100, 10000)
TARGET_ONE_ROW = 10.0


def fitted_pair():
    from sklearn.datasets import load_digits
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier as SkMLP

    import cymlp

    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    params = dict(hidden_layer_sizes=(100,), max_iter=50, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        cy = cymlp.MLPClassifier(**params).fit(X, y)
        sk = SkMLP(**params).fit(X, y)
    sk.coefs_ = [c.copy() for c in cy.coefs_]
    sk.intercepts_ = [b.copy() for b in cy.intercepts_]
    return cy, sk, X


def calls_for(rows):
    """Calls per timed block: about 50 ms of scikit-learn's time."""
    return max(3, min(2000, 200000 // (rows + 100)))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args(argv)

    cy, sk, X = fitted_pair()
    rng = np.random.RandomState(0)
    rows_data = {n: np.ascontiguousarray(X[rng.randint(0, len(X), size=n)]) for n in ROWS}
    for n, Xn in rows_data.items():   # the same answers, before anything is timed
        np.testing.assert_array_equal(cy.predict(Xn), sk.predict(Xn))
        np.testing.assert_allclose(cy.predict_proba(Xn), sk.predict_proba(Xn), rtol=1e-12)

    results = []
    with _measure.threads(args.threads):
        for method in ("predict", "predict_proba"):
            for n in ROWS:
                Xn, k = rows_data[n], calls_for(n)

                def runner(est, Xn=Xn, k=k, method=method):
                    f = getattr(est, method)

                    def run():
                        t0 = time.perf_counter()
                        for _ in range(k):
                            f(Xn)
                        return (time.perf_counter() - t0) / k, None
                    return run

                times = _measure.interleaved(
                    {"cymlp": runner(cy), "sklearn": runner(sk)}, args.reps,
                    warmups={"cymlp": runner(cy), "sklearn": runner(sk)}, settle=0.02)
                results.append(dict(
                    method=method, rows=n,
                    cymlp=_measure.summary(times["cymlp"])["median"],
                    sklearn=_measure.summary(times["sklearn"])["median"],
                    speedup=_measure.paired_ratio(times["sklearn"], times["cymlp"])))
                print(f"{method} {n} rows done", file=sys.stderr, flush=True)

    info = _measure.machine_info()
    head = (f"Serving latency, digits 64-100-10, float64, {args.threads} BLAS thread(s), "
            f"{args.reps} repetitions; {info.get('cpu', '')}")
    cols = ["method", "rows", "cymlp µs/call", "sklearn µs/call", "cymlp speedup", "target"]
    lines = []
    for r in results:
        target = ""
        if r["rows"] == 1:
            ok = r["speedup"] >= TARGET_ONE_ROW
            target = f">= {TARGET_ONE_ROW:.0f}x {'PASS' if ok else 'MISS'}"
        lines.append([r["method"], str(r["rows"]), f"{r['cymlp'] * 1e6:.1f}",
                      f"{r['sklearn'] * 1e6:.1f}", f"{r['speedup']:.2f}x", target])
    _measure.print_table(head, cols, lines, args.markdown)


if __name__ == "__main__":
    main()
