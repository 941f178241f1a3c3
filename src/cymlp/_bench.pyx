"""Benchmark helpers (benchmarks/): not part of cymlp's API, not exported.

``gemm_only_seconds`` times the matrix products of training steps through the
engine's own BLAS wrapper, the ceiling the engine is measured against. It
lives here, beside the engine rather than in it, so that the BLAS wrappers
(_blas.pyx) hold only what the engine calls.
"""
cimport cython
from cython cimport floating

import time

import numpy as np

from cymlp._blas cimport gemm


cdef void _gemm_steps(floating* ws, const Py_ssize_t[:, ::1] plan, int n_steps) noexcept nogil:
    cdef int s, j
    for s in range(n_steps):
        for j in range(plan.shape[0]):
            gemm(<bint>plan[j, 0], <bint>plan[j, 1], <int>plan[j, 2], <int>plan[j, 3],
                 <int>plan[j, 4], <floating>1.0, ws + plan[j, 5], <int>plan[j, 6],
                 ws + plan[j, 7], <int>plan[j, 8], <floating>0.0, ws + plan[j, 9],
                 <int>plan[j, 10])


def _run_plan(floating[::1] ws, const Py_ssize_t[:, ::1] plan, int n_steps):
    with nogil:
        _gemm_steps(&ws[0], plan, n_steps)


@cython.wraparound(True)
def gemm_only_seconds(layer_units, int batch_size, dtype=np.float32, int n_steps=20,
                      bint forward_only=False):
    """Time the matrix products of ``n_steps`` training steps, and nothing else.

    Per step and layer (fan_in -> fan_out): the forward product
    (batch x fan_in)(fan_in x fan_out), the weight gradient
    (fan_in x batch)(batch x fan_out) and, except for the first layer, the
    input gradient (batch x fan_out)(fan_out x fan_in): the same calls, shapes,
    dtype and BLAS (and so the same threads) as the training engine. This is
    the ceiling the engine is measured against.

    Parameters
    ----------
    layer_units : sequence of int
        Units per layer, input first, e.g. ``[784, 256, 128, 10]``.
    batch_size : int
        Rows per step.
    dtype : {np.float32, np.float64}
    n_steps : int
        Steps to time.
    forward_only : bool
        Time only the forward products (the prediction ceiling).

    Returns
    -------
    seconds : float
        Wall time of the ``n_steps`` steps.
    """
    units = [int(u) for u in layer_units]
    B = int(batch_size)
    sizes = []
    rows = []

    def alloc(n):
        off = sum(sizes)
        sizes.append(n)
        return off

    acts = [alloc(B * u) for u in units]
    weights = [alloc(a * b) for a, b in zip(units[:-1], units[1:])]
    grads = [alloc(a * b) for a, b in zip(units[:-1], units[1:])]
    dins = [alloc(B * u) for u in units]
    for i, (fi, fo) in enumerate(zip(units[:-1], units[1:])):
        # forward: acts[i+1] = acts[i] @ W
        rows.append((0, 0, B, fo, fi, acts[i], fi, weights[i], fo, acts[i + 1], fo))
    if not forward_only:
        for i in range(len(units) - 2, -1, -1):
            fi, fo = units[i], units[i + 1]
            if i > 0:   # dins[i] = dins[i+1] @ W.T
                rows.append((0, 1, B, fi, fo, dins[i + 1], fo, weights[i], fo, dins[i], fi))
            # grads = acts[i].T @ dins[i+1]
            rows.append((1, 0, fi, fo, B, acts[i], fi, dins[i + 1], fo, grads[i], fo))
    ws = np.random.RandomState(0).uniform(-0.1, 0.1, sum(sizes)).astype(dtype)
    plan = np.ascontiguousarray(rows, dtype=np.intp)
    _run_plan(ws, plan, 1)   # warm up
    t0 = time.perf_counter()
    _run_plan(ws, plan, n_steps)
    return time.perf_counter() - t0
