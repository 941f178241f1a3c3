#!/usr/bin/env python
"""Two builds of cymlp on the benchmark's main table, run alternately.

    python benchmarks/compare_builds.py OLD_PYTHON NEW_PYTHON
    python benchmarks/compare_builds.py /tmp/venv-old/bin/python /tmp/venv-new/bin/python \\
        --reps 7 --json benchmarks/results/builds.json

Each interpreter (a virtual environment with one build of cymlp installed, the
same NumPy, SciPy and scikit-learn) runs a worker process that keeps the data
in memory and fits cymlp's MLPClassifier on one case of run.py's main table
(W1-W4, the same data, networks and settings) when asked, or, for the
workload ``predict``, times ``predict_proba`` on run.py's predict data (W2's
60,000 rows, a 784-256-128-10 network fitted on 2,048 of them, as
run.py's extra_predict). For every case,
dtype and BLAS thread count the two workers are asked in turn, the first one
alternating from repetition to repetition, each run after the same pause; the
ratio new/old is taken within each repetition and the median of those ratios
is reported (see _measure.paired_ratio). A ratio of 1.00 is no change; below 1
the new build is faster. "same model" says whether the two builds' fitted
parameters (for ``predict``: the probabilities) are bit-identical.
"""

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _measure  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


# ---------------------------------------------------------------- worker side


def worker():
    """Serve fit requests on stdin (one JSON object per line), answer on stdout."""
    import warnings

    import numpy as np

    import _data
    import _impls
    import cymlp
    import run

    args = run.parse_args(["--workloads", "W1,W2,W3,W4"])
    impl = _impls.cymlp_impl()
    cases = {d: run.core_cases(args, d) for d in args.dtypes}
    for d in args.dtypes:
        cases[d].append(run.Case("predict", "predict_proba, W2 data", None, run.PREDICT_SPEC))
    prepared, warmed = {}, set()
    out = sys.stdout
    print(json.dumps({"cymlp": os.path.dirname(cymlp.__file__),
                      "version": getattr(cymlp, "__version__", "?")}), file=out, flush=True)
    for line in sys.stdin:
        req = json.loads(line)
        if req.get("quit"):
            break
        if req.get("list"):
            print(json.dumps([[d, i, c.workload, c.label] for d, cs in cases.items()
                              for i, c in enumerate(cs)]), file=out, flush=True)
            continue
        dtype, i, nthreads = req["dtype"], req["case"], req["threads"]
        case = cases[dtype][i]
        key = (dtype, i)
        if case.workload == "predict":
            print(json.dumps(_time_predict(prepared, key, args, impl, case.spec, nthreads)),
                  file=out, flush=True)
            continue
        if key not in prepared:
            X, y, _, _ = _data.as_dtype(case.data_key, dtype)
            prepared[key] = (X, y)
        X, y = prepared[key]
        with warnings.catch_warnings(), _measure.threads(nthreads):
            warnings.simplefilter("ignore")
            if (key, nthreads) not in warmed:    # as run.py: 1 epoch on a slice
                m = min(len(X), max(2048, 4 * case.spec.batch))
                impl.fit((X[:m], y[:m]), case.spec.with_(epochs=1))
                warmed.add((key, nthreads))
            time.sleep(_measure.SETTLE_SECONDS)
            seconds, est = impl.fit((X, y), case.spec)
        digest = hashlib.sha1()
        for a in list(est.coefs_) + list(est.intercepts_):
            digest.update(np.ascontiguousarray(a).tobytes())
        print(json.dumps({"seconds": seconds, "digest": digest.hexdigest()}), file=out,
              flush=True)


def _time_predict(prepared, key, args, impl, spec, nthreads):
    """One timed ``predict_proba`` of run.py's predict workload: the data and
    the model made once per dtype (the model fitted at 1 BLAS thread, so that
    both builds predict with the same model when their fits agree)."""
    import warnings

    import numpy as np

    import run

    if key not in prepared:
        X, _, small = run.predict_data(args, key[0])
        with warnings.catch_warnings(), _measure.threads(1):
            warnings.simplefilter("ignore")
            model = impl.fit(impl.prepare(*small), spec)[1]
        prepared[key] = (X, model, set())
    X, model, warmed = prepared[key]
    with _measure.threads(nthreads):
        if nthreads not in warmed:
            model.predict_proba(X)
            warmed.add(nthreads)
        time.sleep(_measure.SETTLE_SECONDS)
        t0 = time.perf_counter()
        proba = model.predict_proba(X)
        seconds = time.perf_counter() - t0
    return {"seconds": seconds,
            "digest": hashlib.sha1(np.ascontiguousarray(proba).tobytes()).hexdigest()}


# ---------------------------------------------------------------- driver side


class Worker:
    def __init__(self, python):
        env = dict(os.environ)
        env.pop("PYTHONPATH", None)        # the interpreter's own installed build
        self.p = subprocess.Popen([python, os.path.abspath(__file__), "--worker"],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                  cwd="/", env=env)
        self.info = self._read()

    def _read(self):
        line = self.p.stdout.readline()
        if not line:
            raise RuntimeError("worker %s exited" % self.p.args[0])
        return json.loads(line)

    def ask(self, **req):
        self.p.stdin.write(json.dumps(req) + "\n")
        self.p.stdin.flush()
        return self._read()

    def close(self):
        self.p.stdin.write(json.dumps({"quit": True}) + "\n")
        self.p.stdin.flush()
        self.p.wait(timeout=60)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("old", help="interpreter of the old build")
    ap.add_argument("new", help="interpreter of the new build")
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--threads", default="2,1")
    ap.add_argument("--workloads", default="W1,W2,W3,W4",
                    help="the main table's workloads to run (default all four), "
                         "and predict (run.py's predict workload: predict_proba)")
    ap.add_argument("--dtypes", default="float32,float64")
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--json", metavar="PATH")
    args = ap.parse_args(argv)
    threads = [int(t) for t in args.threads.split(",")]
    workers = {"old": Worker(args.old), "new": Worker(args.new)}
    for name, w in workers.items():
        print("%s: cymlp %s from %s" % (name, w.info["version"], w.info["cymlp"]),
              file=sys.stderr)
    cases = [c for c in workers["new"].ask(list=True)
             if c[2] in args.workloads.split(",") and c[0] in args.dtypes.split(",")]
    rows, raw = [], []
    t_start = time.perf_counter()
    with _measure.ForeignLoad(pids=[w.p.pid for w in workers.values()]) as load:
        for nthreads in threads:
            for dtype, i, workload, label in cases:
                times = {"old": [], "new": []}
                digests = {}
                for r in range(args.reps):
                    for name in (("old", "new") if r % 2 == 0 else ("new", "old")):
                        res = workers[name].ask(dtype=dtype, case=i, threads=nthreads)
                        times[name].append(res["seconds"])
                        digests[name] = res["digest"]
                ratio = _measure.paired_ratio(times["new"], times["old"])
                pairs = [a / b for a, b in zip(times["new"], times["old"])]
                old_med = _measure.summary(times["old"])["median"]
                new_med = _measure.summary(times["new"])["median"]
                rows.append([workload, label, dtype, str(nthreads), "%.3f" % old_med,
                             "%.3f" % new_med, "%.3f" % ratio,
                             "%.2f-%.2f" % (min(pairs), max(pairs)),
                             "yes" if digests["old"] == digests["new"] else "no"])
                raw.append(dict(workload=workload, case=label, dtype=dtype, threads=nthreads,
                                old=times["old"], new=times["new"], ratio=ratio,
                                same_model=digests["old"] == digests["new"]))
                print("  %s %s %s %dt: new/old %.3f" % (workload, label, dtype, nthreads,
                                                        ratio), file=sys.stderr)
    for w in workers.values():
        w.close()
    head = ("cymlp, old vs new build, %d repetitions alternating, %.0f s, "
            "load from other processes %s cores" % (
                args.reps, time.perf_counter() - t_start,
                "?" if load.value is None else "%.2f" % load.value))
    _measure.print_table(head, ["workload", "case", "dtype", "threads", "old s", "new s",
                                "new/old", "range", "same model"], rows, args.markdown)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(old=workers["old"].info, new=workers["new"].info,
                           foreign_load=load.value, rows=raw,
                           machine=_measure.machine_info()), f, indent=1, default=str)
    return 0


if __name__ == "__main__":
    if sys.argv[1:] == ["--worker"]:
        sys.exit(worker())
    sys.exit(main())
