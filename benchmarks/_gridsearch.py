"""GridSearchCV of cymlp on threads vs on loky processes vs one fit after the other.

cymlp's ``fit`` runs its training loop without the GIL, so joblib's threading
backend trains the candidates in parallel with no process to start and no
data or model to pickle. The same search (4 candidates x 3 folds on the
first rows of W2's data) runs three ways, BLAS at 1 thread per fit:

- ``sequential``: ``n_jobs=1``;
- ``threading``: ``joblib.parallel_backend("threading")``, ``n_jobs=2``;
- ``loky``: ``joblib.parallel_backend("loky", inner_max_num_threads=1)``,
  ``n_jobs=2``. loky keeps its worker processes between calls: the warm-up
  starts them, so the timed runs include sending the data (joblib memory-maps
  X for the workers) and the estimators both ways, but not the process start;
  the warm-up's time, start included, is reported beside.

The repetitions are interleaved as everywhere else; the speedups are paired.
"""

import time
import warnings

import numpy as np

import _data
import _measure

CV = 3
N_JOBS = 2


def _search_parts(dtype, n):
    from sklearn.model_selection import GridSearchCV

    from cymlp import MLPClassifier

    X, y, _, _ = _data.as_dtype(("synthetic", 60000, n), dtype)
    base = MLPClassifier(hidden_layer_sizes=(256, 128), solver="sgd", momentum=0.0,
                         nesterovs_momentum=False, batch_size=128, max_iter=2, tol=0.0,
                         n_iter_no_change=3, shuffle=True, random_state=0)
    grid = {"alpha": [0.0, 1e-4], "learning_rate_init": [0.01, 0.003]}

    def search(n_jobs):
        return GridSearchCV(base, grid, cv=CV, n_jobs=n_jobs)

    return X, y, search, len(grid["alpha"]) * len(grid["learning_rate_init"]) * CV


def gridsearch_rows(args, dtype, impls):
    """Wall time of the same GridSearchCV on threads, on loky processes and
    sequentially; speedups paired within each repetition."""
    import joblib

    n = 1500 if args.quick else args.gridsearch_samples
    X, y, search, n_fits = _search_parts(dtype, n)
    scores = {}

    def runner(backend, n_jobs, **backend_kw):
        def run():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")   # ConvergenceWarning of max_iter fits
                with joblib.parallel_backend(backend, **backend_kw):
                    t0 = time.perf_counter()
                    s = search(n_jobs).fit(X, y)
                    t = time.perf_counter() - t0
            scores[backend] = s.cv_results_["mean_test_score"]
            return t, None
        return run

    runners = {"sequential": runner("sequential", 1),
               "threading": runner("threading", N_JOBS),
               "loky": runner("loky", N_JOBS, inner_max_num_threads=1)}
    first = {}

    def timed_warmup(name):
        def warm():
            first[name] = runners[name]()[0]
        return warm

    with _measure.threads(1, impls), _measure.ForeignLoad() as load:
        times = _measure.interleaved(runners, args.reps,
                                     warmups={k: timed_warmup(k) for k in runners})
    same = (np.array_equal(scores["threading"], scores["sequential"]),
            np.allclose(scores["loky"], scores["sequential"], rtol=1e-12, atol=0))
    rows = []
    for name, ts in times.items():
        s = _measure.summary(ts)
        r = dict(section="gridsearch", workload="gridsearch",
                 case="GridSearchCV %d fits, W2 784-256-128-10 batch 128, 2 epochs" % n_fits,
                 dtype=dtype, threads=1, impl=name, n=n, fits=n_fits, n_jobs=N_JOBS,
                 times=ts, first_seconds=first.get(name), foreign_load=load.value,
                 fits_per_s=n_fits / s["median"], **s)
        if name != "sequential":
            r["speedup_vs_sequential"] = _measure.paired_ratio(times["sequential"], ts)
            r["same_scores"] = bool(same[0] if name == "threading" else same[1])
        if name == "threading":
            r["speedup_vs_loky"] = _measure.paired_ratio(times["loky"], ts)
        rows.append(r)
    return rows
