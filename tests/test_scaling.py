"""Scaling out without Dask, the recipes of docs/scaling-out.md: a NumPy memmap
trained with ``fit`` without a copy of X and with ``partial_fit`` over chunks,
what costs memory there (and what to do instead), and GridSearchCV on threads.

The code inside each test is the recipe's code in the guide; keep them alike.
Results are compared with scikit-learn's MLPClassifier running the same code
(float64: cymlp reproduces scikit-learn's float64 trajectory to ~1e-14, so
rtol 1e-10 leaves room for the error to grow over the calls while any
difference of semantics, e.g. a chunk seen twice or a schedule step missed,
moves the weights by far more) or with cymlp on the same data in memory (then
bitwise). Memory is measured with tracemalloc, which sees NumPy's allocations.
"""

import copy
import gc
import tracemalloc
import warnings

import joblib
import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from threadpoolctl import threadpool_limits

from _util import assert_close_to_sklearn, assert_same_model
from cymlp import MLPClassifier

# warnings.catch_warnings is process-wide, not per thread (GridSearchCV on threads)
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

# X: 20,000 x 256, 39 MB in float64, 20 MB in float32. What fit allocates per
# row besides X (the binarized labels, the shuffled row order) is ~50 bytes,
# 2-5 % of a row of X.
N_ROWS, N_FEATURES = 20_000, 256


@pytest.fixture(autouse=True)
def one_blas_thread():
    """BLAS at 1 thread: results do not depend on it (both libraries run under
    the same limit), and on a busy 2-core machine a 2-thread BLAS on these
    small products spends seconds waiting for its second thread."""
    with threadpool_limits(limits=1):
        yield



def traced_peak(fn):
    """Peak of the memory traced by tracemalloc while ``fn()`` runs, above what
    was allocated before."""
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        fn()
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """X.npy (float64), X32.npy (float32) and y.npy on disk."""
    X, y = make_classification(n_samples=N_ROWS, n_features=N_FEATURES, n_informative=20,
                               n_classes=3, random_state=0)
    d = tmp_path_factory.mktemp("memmap")
    np.save(d / "X.npy", X)
    np.save(d / "X32.npy", X.astype(np.float32))
    np.save(d / "y.npy", y)
    return d


@pytest.mark.parametrize("name", ["X.npy", "X32.npy"])
def test_memmap_fit_without_a_copy_of_X(files, name):
    # recipe: fit on a memmap
    X = np.load(files / name, mmap_mode="r")      # read-only memmap, nothing read yet
    y = np.load(files / "y.npy")
    clf = MLPClassifier(hidden_layer_sizes=(16,), max_iter=2, random_state=0)
    # end of recipe
    peak = traced_peak(lambda: clf.fit(X, y))
    assert isinstance(X, np.memmap)
    assert peak < X.nbytes / 10, (peak, X.nbytes)
    assert clf.coefs_[0].dtype == X.dtype           # trained in X's dtype: no conversion
    ref = MLPClassifier(hidden_layer_sizes=(16,), max_iter=2, random_state=0)
    assert_same_model(clf, ref.fit(np.array(X), y))
    if X.dtype == np.float64:
        sk = SkMLPClassifier(hidden_layer_sizes=(16,), max_iter=2, random_state=0).fit(X, y)
        assert_close_to_sklearn(clf, sk)


def test_memmap_partial_fit_over_chunks(files):
    X = np.load(files / "X.npy", mmap_mode="r")
    y = np.load(files / "y.npy")

    def train(clf):
        # recipe: partial_fit over chunks
        classes = np.unique(y)                       # every label, known in advance
        for epoch in range(2):
            for start in range(0, X.shape[0], 5_000):
                clf.partial_fit(X[start:start + 5_000], y[start:start + 5_000],
                                classes=classes)
        # end of recipe
        return clf

    clf = MLPClassifier(hidden_layer_sizes=(16,), random_state=0)
    peak = traced_peak(lambda: train(clf))
    assert peak < X.nbytes / 10, (peak, X.nbytes)   # chunks are views of the memmap
    assert len(clf.loss_curve_) == 8 and clf.t_ == 2 * N_ROWS
    assert_close_to_sklearn(clf, train(SkMLPClassifier(hidden_layer_sizes=(16,),
                                                       random_state=0)))


def test_memmap_shuffled_once_on_disk_then_read_in_order(files, tmp_path):
    X = np.load(files / "X.npy", mmap_mode="r")
    y = np.load(files / "y.npy")
    # recipe: shuffle the rows once, on disk, then train with shuffle=False
    perm = np.random.RandomState(0).permutation(X.shape[0])
    X_shuffled = np.lib.format.open_memmap(tmp_path / "X_shuffled.npy", mode="w+",
                                           dtype=X.dtype, shape=X.shape)
    for start in range(0, X.shape[0], 5_000):          # 5,000 rows in memory at a time
        X_shuffled[start:start + 5_000] = X[perm[start:start + 5_000]]
    X_shuffled.flush()
    y_shuffled = y[perm]
    del X_shuffled
    X_shuffled = np.load(tmp_path / "X_shuffled.npy", mmap_mode="r")
    clf = MLPClassifier(hidden_layer_sizes=(16,), max_iter=2, shuffle=False, random_state=0)
    # end of recipe
    np.testing.assert_array_equal(X_shuffled, np.asarray(X)[perm])
    peak = traced_peak(lambda: clf.fit(X_shuffled, y_shuffled))
    assert peak < X.nbytes / 10, (peak, X.nbytes)
    sk = SkMLPClassifier(hidden_layer_sizes=(16,), max_iter=2, shuffle=False, random_state=0)
    assert_close_to_sklearn(clf, sk.fit(np.asarray(X)[perm], y[perm]))


def test_memmap_costs_early_stopping_copies_X(files):
    """early_stopping's train/validation split copies X (as scikit-learn's):
    the peak is X's size, not a small fraction of it."""
    X = np.load(files / "X.npy", mmap_mode="r")
    y = np.load(files / "y.npy")
    clf = MLPClassifier(hidden_layer_sizes=(16,), max_iter=2, early_stopping=True,
                        random_state=0)
    peak = traced_peak(lambda: clf.fit(X, y))
    assert peak > 0.9 * X.nbytes, (peak, X.nbytes)


def test_memmap_own_validation_slice_instead_of_early_stopping(files):
    """What to do instead of early_stopping on a memmap: hold out a slice of
    (pre-shuffled) rows yourself, train with partial_fit, keep the best."""
    X = np.load(files / "X.npy", mmap_mode="r")
    y = np.load(files / "y.npy")

    def train(clf):
        # recipe: early stopping on a validation slice of your own
        n_train = int(0.9 * X.shape[0])
        X_train, y_train = X[:n_train], y[:n_train]   # views: no copy
        X_val, y_val = X[n_train:], y[n_train:]
        classes = np.unique(y)
        best_score, best, patience = -np.inf, None, 0
        scores = []
        for epoch in range(10):
            clf.partial_fit(X_train, y_train, classes=classes)   # one shuffled epoch
            score = clf.score(X_val, y_val)
            scores.append(score)
            if score > best_score + 1e-4:
                best_score, best, patience = score, copy.deepcopy(clf), 0
            else:
                patience += 1
                if patience >= 2:
                    break
        # end of recipe
        return best, scores

    params = dict(hidden_layer_sizes=(16,), learning_rate_init=0.01, random_state=0)
    out = {}
    peak = traced_peak(lambda: out.update(cy=train(MLPClassifier(**params))))
    best, scores = out["cy"]
    assert peak < X.nbytes / 10, (peak, X.nbytes)
    sk_best, sk_scores = train(SkMLPClassifier(**params))
    np.testing.assert_allclose(scores, sk_scores, rtol=1e-12)
    assert len(scores) < 10          # it did stop early
    assert_close_to_sklearn(best, sk_best)


def test_memmap_costs_dtype_and_order_conversions_copy(files, tmp_path):
    """X stored in a dtype other than float32 / float64 is converted to float64
    (a full copy), as scikit-learn does, and so is a Fortran-ordered X to C
    order; partial_fit converts a chunk to the dtype the model trains in (the
    first call's)."""
    X = np.load(files / "X.npy", mmap_mode="r")
    y = np.load(files / "y.npy")
    np.save(tmp_path / "X16.npy", np.asarray(X, dtype=np.float16))
    X16 = np.load(tmp_path / "X16.npy", mmap_mode="r")
    clf = MLPClassifier(hidden_layer_sizes=(16,), max_iter=1, random_state=0)
    peak = traced_peak(lambda: clf.fit(X16, y))
    assert clf.coefs_[0].dtype == np.float64
    assert peak > 0.9 * X.nbytes, (peak, X.nbytes)    # the float64 copy

    # a Fortran-ordered X (columns contiguous) is copied to C order
    np.save(tmp_path / "XF.npy", np.asfortranarray(X))
    XF = np.load(tmp_path / "XF.npy", mmap_mode="r")
    assert XF.flags.f_contiguous and not XF.flags.c_contiguous
    clf = MLPClassifier(hidden_layer_sizes=(16,), max_iter=1, random_state=0)
    peak = traced_peak(lambda: clf.fit(XF, y))
    assert peak > 0.9 * X.nbytes, (peak, X.nbytes)

    X32 = np.load(files / "X32.npy", mmap_mode="r")
    clf = MLPClassifier(hidden_layer_sizes=(16,), random_state=0)
    clf.partial_fit(X32[:5_000], y[:5_000], classes=np.unique(y))   # trains in float32
    chunk = X[5_000:10_000]                                          # a float64 chunk
    peak = traced_peak(lambda: clf.partial_fit(chunk, y[5_000:10_000]))
    assert clf.coefs_[0].dtype == np.float32
    assert peak > 0.9 * chunk.nbytes / 2, (peak, chunk.nbytes)       # its float32 copy
    same_dtype = X32[5_000:10_000]
    peak = traced_peak(lambda: clf.partial_fit(same_dtype, y[5_000:10_000]))
    # no copy: what partial_fit allocates is per row, not per feature (the
    # labels, the row order: ~100 bytes a row against the row's 1 kB here)
    assert peak < same_dtype.nbytes / 5, (peak, same_dtype.nbytes)


# ------------------------------------------------------------------ threads


@pytest.fixture(scope="module")
def small():
    X, y = make_classification(n_samples=600, n_features=20, n_informative=8, n_classes=3,
                               random_state=0)
    return X, y


GRID = {"alpha": [1e-4, 1e-1], "hidden_layer_sizes": [(16,), (32,)]}


def test_grid_search_threading_backend_same_as_loky(small):
    X, y = small
    # recipe: GridSearchCV on threads
    with threadpool_limits(limits=1), joblib.parallel_backend("threading"):
        search = GridSearchCV(MLPClassifier(max_iter=30, random_state=0), GRID, cv=3,
                              n_jobs=2).fit(X, y)
    # end of recipe
    with joblib.parallel_backend("loky"):
        loky = GridSearchCV(MLPClassifier(max_iter=30, random_state=0), GRID, cv=3,
                            n_jobs=2).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        sk = GridSearchCV(SkMLPClassifier(max_iter=30, random_state=0), GRID, cv=3).fit(X, y)
    for other in (loky, sk):
        assert search.best_params_ == other.best_params_
        for key in ("mean_test_score", "split0_test_score", "split1_test_score",
                    "split2_test_score"):
            np.testing.assert_allclose(search.cv_results_[key], other.cv_results_[key],
                                       rtol=1e-12)
    assert isinstance(search.best_estimator_, MLPClassifier)
    np.testing.assert_allclose(search.predict_proba(X), loky.predict_proba(X),
                               rtol=1e-10, atol=1e-14)
