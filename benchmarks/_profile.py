"""Where a training step's time goes: cymlp's engine with its phase profile on.

The engine (``cymlp._train.train_epoch(..., profile=...)``) adds the wall time
of each phase of every step (gather, products, elementwise passes, loss,
optimizer) to an array; here one epoch of a workload is run that way,
interleaved with the gemm-only time of the same steps, and both are reported
per step. The products measured inside the engine against the gemm-only time
say whether the BLAS calls themselves run at full speed there; every other
phase is what the engine adds to them.
"""

import numpy as np

import _data
import _impls
import _measure
from _impls import Spec

# (case, data key, spec): the core workloads' plain-SGD steps, and W2's
# optimizer variants
CASES = (
    ("W1 batch 64", ("mnist5k",), Spec((256, 128), 0.1, 64, 1)),
    ("W2 batch 32", ("synthetic", 60000), Spec((256, 128), 0.01, 32, 1)),
    ("W2 batch 128", ("synthetic", 60000), Spec((256, 128), 0.01, 128, 1)),
    ("W2 batch 128 nesterov", ("synthetic", 60000),
     Spec((256, 128), 0.01, 128, 1, momentum=0.9, nesterov=True)),
    ("W2 batch 128 adam", ("synthetic", 60000), Spec((256, 128), 0.001, 128, 1, solver="adam")),
    ("W2 batch 512", ("synthetic", 60000), Spec((256, 128), 0.01, 512, 1)),
)


class EngineEpoch:
    """One shuffled epoch of the engine on (X, y) with ``spec``, as ``fit`` runs
    it (same buffers and calls), starting each time from the same weights."""

    def __init__(self, X, y, spec):
        from cymlp import _train

        self._train = _train
        k = int(np.unique(y).size)
        self.units = _impls.layer_units(X.shape[1], spec, k)
        self.net = _train.Network(self.units, "relu", "log_loss", "softmax")
        self.ws = _train.Workspace(self.net, min(spec.batch, X.shape[0]), X.dtype, True)
        self.X, self.spec = X, spec
        self.Y = np.eye(k, dtype=X.dtype)[np.searchsorted(np.unique(y), y)]
        rng = np.random.RandomState(spec.seed)
        parts = [_impls.glorot(rng, a, b, X.dtype) for a, b in zip(self.units[:-1], self.units[1:])]
        self.params0 = np.concatenate([W.ravel() for W, _ in parts] + [b for _, b in parts])
        self.order = rng.permutation(X.shape[0]).astype(np.intp)
        self.grads = np.empty_like(self.params0)
        self.steps = _impls.steps_of(X.shape[0], spec.batch, 1)

    def run(self, profile):
        params = self.params0.copy()
        s1, s2 = np.zeros_like(params), np.zeros_like(params)
        sp = self.spec
        self._train.train_epoch(self.net, self.ws, self.X, self.Y, None, self.order, params,
                                self.grads, s1, s2,
                                self._train.StepRule(sp.solver, sp.lr, alpha=0.0,
                                                     momentum=sp.momentum, nesterov=sp.nesterov),
                                0, profile=profile)


def profile_rows(args, dtype, nthreads, impls, n_w2):
    """Per-step phase times of cymlp's engine (medians over ``args.reps``
    epochs) beside the gemm-only time of the same steps."""
    from cymlp._train import PROFILE_PHASES

    gm = next(i for i in impls if i.name == "gemm-only")
    rows = []
    for case, key, spec in CASES:
        if args.quick and case != "W2 batch 128":
            continue
        key = key + (n_w2,) if key[0] == "synthetic" else key
        X, y, _, _ = _data.as_dtype(key, dtype)
        epoch = EngineEpoch(X, y, spec)
        n_steps = sum(s for _, s in epoch.steps)
        profiles = []

        def engine():
            prof = np.zeros(len(PROFILE_PHASES))
            epoch.run(prof)
            profiles.append(prof)
            return float(prof.sum()), None

        gdata = gm.prepare(X, y)
        runners = {"engine": engine, "gemm-only": lambda: gm.fit(gdata, spec)}
        with _measure.threads(nthreads, impls), _measure.ForeignLoad() as load:
            times = _measure.interleaved(runners, args.reps, warmups=dict(runners))
        profiles = profiles[1:]          # the first came from the warm-up
        phases = np.median(np.array(profiles), axis=0) / n_steps
        total = float(np.median(times["engine"])) / n_steps     # each run's phase sum
        gemm = float(np.median(times["gemm-only"])) / n_steps
        rows.append(dict(
            section="profile", workload="profile", case=case, dtype=dtype, threads=nthreads,
            impl="cymlp engine", n=X.shape[0], steps=n_steps, times=times["engine"],
            phases=dict(zip(PROFILE_PHASES, phases.tolist())), step_seconds=total,
            gemm_step_seconds=gemm, foreign_load=load.value,
            share=_measure.paired_ratio(times["gemm-only"], times["engine"]),
            **_measure.summary(times["engine"])))
    return rows
