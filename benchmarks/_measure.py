"""Timing harness (interleaved repetitions), thread control and machine facts."""

import contextlib
import gc
import os
import platform
import statistics
import time

import numpy as np


# ---------------------------------------------------------------- threads


@contextlib.contextmanager
def threads(n, impls=()):
    """Limit every BLAS/OpenMP pool of the process to ``n`` threads
    (threadpoolctl) and torch's intra-op pool too (``torch.set_num_threads``)."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=int(n)):
        saved = []
        for impl in impls:
            saved.append(impl)
            impl.set_threads(n)
        try:
            yield
        finally:
            for impl in saved:
                impl.set_threads(os.cpu_count() or 1)


# ---------------------------------------------------------------- load from others


def _busy_jiffies():
    with open("/proc/stat") as f:
        parts = f.readline().split()[1:]
    v = [int(p) for p in parts]
    # user nice system idle iowait irq softirq steal (guest is inside user)
    return v[0] + v[1] + v[2] + v[5] + v[6] + (v[7] if len(v) > 7 else 0)


def _own_jiffies(pid="self"):
    with open("/proc/%s/stat" % pid) as f:
        s = f.read()
    fields = s[s.rindex(")") + 2:].split()
    return int(fields[11]) + int(fields[12])   # utime + stime, all threads


class ForeignLoad:
    """CPU used by other processes (and hypervisor steal) while a block ran,
    in cores. Linux only; None elsewhere. A clean measurement on this 2-core
    machine needs it near 0."""

    def __init__(self, pids=()):
        self.ok = os.path.exists("/proc/stat")
        self.value = None
        self.pids = ["self"] + list(pids)   # ours: this process and these

    def _ours(self):
        return sum(_own_jiffies(p) for p in self.pids)

    def __enter__(self):
        if self.ok:
            self.t0 = time.perf_counter()
            self.b0 = _busy_jiffies()
            self.o0 = self._ours()
        return self

    def __exit__(self, *exc):
        if self.ok:
            hz = os.sysconf("SC_CLK_TCK")
            dt = time.perf_counter() - self.t0
            other = (_busy_jiffies() - self.b0) - (self._ours() - self.o0)
            self.value = max(other, 0) / hz / dt if dt > 0 else None
        return False


# ---------------------------------------------------------------- interleaved runs


# Pause before every timed run (see interleaved).
SETTLE_SECONDS = 0.15


def interleaved(runners, reps, warmups=None, on_result=None, errors=None,
                settle=SETTLE_SECONDS):
    """Time every runner ``reps`` times, round-robin, the starting runner
    rotating each repetition.

    runners : dict name -> callable() returning (seconds, payload)
    warmups : dict name -> callable() run once each, untimed, before measuring
    on_result : callable(name, payload) keeping what it wants of the last run
    errors : dict or None
        If given, a runner that raises is recorded there ("Type: message") and
        dropped; otherwise the exception propagates.
    settle : float
        Seconds of pause before every run. The implementations use different
        thread pools (scipy's OpenBLAS, NumPy's OpenBLAS, torch's OpenMP),
        whose workers keep spinning for up to ~0.1 s after their last call; a
        run started at once would share the cores with the previous run's
        spinning workers. After the pause they are asleep.

    Returns dict name -> list of seconds (in repetition order).
    """
    names = list(runners)
    for name in names:
        if warmups and name in warmups:
            gc.collect()
            warmups[name]()
    times = {name: [] for name in names}
    for r in range(reps):
        k = r % len(names)
        for name in names[k:] + names[:k]:
            if name not in times:
                continue
            gc.collect()
            time.sleep(settle)
            try:
                t, payload = runners[name]()
            except Exception as exc:   # noqa: BLE001
                if errors is None:
                    raise
                errors[name] = "%s: %s" % (type(exc).__name__, exc)
                del times[name]
                continue
            times[name].append(t)
            if on_result is not None:
                on_result(name, payload)
            payload = None
    return times


def summary(ts):
    return dict(median=statistics.median(ts), min=min(ts), max=max(ts), reps=len(ts))


def paired_ratio(num, den):
    """Median over repetitions of num[r] / den[r].

    ``interleaved`` runs every implementation once per repetition, close
    together in time, so a ratio within one repetition sees the same state of
    a shared machine (noisy neighbours slow both); the median of those ratios
    is steadier than a ratio of medians taken over different moments.
    """
    return statistics.median(a / b for a, b in zip(num, den))


# ---------------------------------------------------------------- machine


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def blas_info():
    """threadpoolctl's view of the loaded BLAS / OpenMP pools, one dict each,
    with who uses it."""
    from threadpoolctl import threadpool_info

    out = []
    for d in threadpool_info():
        path = d.get("filepath", "")
        lib = os.path.basename(path)
        parent = os.path.basename(os.path.dirname(path))
        if parent == "scipy.libs":
            users = "scipy.linalg.cython_blas: cymlp, gemm-only"
        elif parent == "numpy.libs":
            users = "numpy: sklearn, numpy baseline"
        elif "torch" in path:
            users = "torch"
        else:
            users = "scikit-learn" if parent == "scikit_learn.libs" else parent
        out.append(dict(user_api=d.get("user_api"), internal_api=d.get("internal_api"),
                        version=d.get("version"), architecture=d.get("architecture"),
                        threading_layer=d.get("threading_layer"),
                        num_threads=d.get("num_threads"), library=lib, used_by=users))
    return out


def git_state():
    """Commit of the checkout benchmarked, and whether src/ differs from it."""
    import subprocess

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        head = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", root, "status", "--porcelain", "--", "src"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    if not head:
        return None
    return head + (" (src/ has uncommitted changes)" if dirty else "")


def machine_info(torch_impl=None):
    import scipy
    import sklearn

    info = dict(cpu=cpu_model(), cpus=os.cpu_count(), python=platform.python_version(),
                platform=platform.platform(), numpy=np.__version__, scipy=scipy.__version__,
                sklearn=sklearn.__version__)
    try:
        import cymlp

        info["cymlp"] = getattr(cymlp, "__version__", "?")
    except Exception:
        info["cymlp"] = "not importable"
    if torch_impl is not None and torch_impl.available:
        torch = torch_impl.torch
        info["torch"] = torch.__version__
        info["torch_threads"] = torch.get_num_threads()
        cfg = torch.__config__.show()
        info["torch_blas"] = "MKL" if "BLAS_INFO=mkl" in cfg else (
            "OpenBLAS" if "BLAS_INFO=open" in cfg else "?")
    else:
        info["torch"] = "not installed"
    env = {k: v for k, v in os.environ.items()
           if k.startswith(("OPENBLAS", "OMP_", "MKL_", "GOTO"))}
    info["env"] = env
    info["blas"] = blas_info()
    info["git"] = git_state()
    try:
        info["loadavg_start"] = os.getloadavg()
    except OSError:
        pass
    return info


def wait_idle(max_seconds, threshold=0.25, window=1.0):
    """Wait (at most ``max_seconds``) until other processes use less than
    ``threshold`` cores over a ``window``-second sample. Returns the last
    sample (cores), or None where /proc/stat is missing."""
    if not os.path.exists("/proc/stat"):
        return None
    deadline = time.perf_counter() + max_seconds
    while True:
        with ForeignLoad() as load:
            time.sleep(window)
        if load.value is None or load.value < threshold or time.perf_counter() >= deadline:
            return load.value


# ---------------------------------------------------------------- output


def print_table(head, cols, rows, markdown=False):
    """``head`` then the table of ``rows`` (lists of strings) under ``cols``:
    Markdown, or plain text in aligned columns."""
    if markdown:
        print(f"**{head}**\n")
        print("| " + " | ".join(cols) + " |")
        print("|" + "---|" * len(cols))
        for r in rows:
            print("| " + " | ".join(r) + " |")
        return
    print(head)
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(cols)]
    print("  ".join(c.ljust(w) for c, w in zip(cols, widths)))
    for r in rows:
        print("  ".join(v.ljust(w) for v, w in zip(r, widths)))
