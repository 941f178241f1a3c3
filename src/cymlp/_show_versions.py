"""``cymlp.show_versions()``: what a bug report needs (after
``sklearn.show_versions()``)."""

import platform
import sys
import sysconfig
from importlib.metadata import PackageNotFoundError, version


def _sys_info():
    gil = getattr(sys, "_is_gil_enabled", None)
    return {
        "python": sys.version.replace("\n", " "),
        "executable": sys.executable,
        "machine": platform.platform(),
        "free-threaded": (
            "no" if not sysconfig.get_config_var("Py_GIL_DISABLED")
            else f"yes (GIL {'enabled' if gil is not None and gil() else 'disabled'})"
        ),
    }


def _deps_info():
    from cymlp import __version__

    deps = {"cymlp": __version__}
    for name in ["numpy", "scipy", "scikit-learn", "threadpoolctl", "pip", "setuptools",
                 "Cython", "pandas", "joblib"]:
        try:
            deps[name] = version(name)
        except PackageNotFoundError:
            deps[name] = None
    return deps


def _build_info():
    from cymlp import _train

    info = _train.build_info()
    requested = info["simd_requested"]
    return {
        "compiler": info["compiler"],
        "SIMD compiled": ", ".join(info["simd_compiled"]),
        "SIMD supported": ", ".join(info["simd_supported"]),
        "SIMD in use": info["simd_in_use"]
        + (f" (CYMLP_SIMD={requested})" if requested else " (widest supported)"),
    }


def _threadpool_info():
    """threadpoolctl's view of the loaded BLAS and OpenMP libraries (cymlp
    calls scipy's BLAS, loaded here first), or None without threadpoolctl."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    import scipy.linalg.cython_blas  # noqa: F401  (cymlp's BLAS)

    return threadpool_info()


def show_versions():
    """Print what a bug report needs: versions, build and BLAS.

    cymlp, Python and the platform; numpy, scipy, scikit-learn and other
    dependencies; the C compiler cymlp was built with, its SIMD variants
    (compiled in, supported by this CPU, and the one in use: set
    ``CYMLP_SIMD=baseline|avx2|avx512`` to force one); and the BLAS and
    OpenMP libraries as threadpoolctl sees them (when it is installed).

    Examples
    --------
    >>> import cymlp
    >>> cymlp.show_versions()  # doctest: +SKIP
    """
    sections = [("System", _sys_info()), ("Python dependencies", _deps_info()),
                ("cymlp build", _build_info())]
    for title, info in sections:
        print(f"\n{title}:")
        width = max(len(k) for k in info)
        for k, v in info.items():
            print(f"{k:>{width}}: {v}")
    pools = _threadpool_info()
    print("\nthreadpoolctl info:")
    if pools is None:
        print("    threadpoolctl not installed")
        return
    if not pools:
        print("    no BLAS or OpenMP library found")
    for i, pool in enumerate(pools):
        if i:
            print()
        for k, v in pool.items():
            print(f"{k:>15}: {v}")
