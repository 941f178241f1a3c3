"""Dask, the recipes of docs/scaling-out.md, on a real dask.distributed
LocalCluster (2 worker processes, 1 thread each, loopback only) that the
module starts and closes itself: dask-ml's Incremental over a dask array and
over a dask DataFrame read from parquet, Incremental's block order, classes=
on every call, per-block sample weights, class_weight across blocks, the
learning-rate schedules across blocks, GridSearchCV with joblib's dask backend and ParallelPostFit.

The code inside each test is the recipe's code in the guide; keep them alike.
Every result is compared with the same sequence of partial_fit calls made by
hand on NumPy blocks (then bitwise: the model travels pickled between the
workers, and pickling keeps it exactly) and with scikit-learn's MLP under the
same Incremental (float64: cymlp reproduces scikit-learn's float64 trajectory
to ~1e-14, so rtol 1e-10 leaves room for the error to grow over the blocks
while any difference of semantics, e.g. a block seen in another order, a
weight ignored or a schedule step missed, moves the weights by far more).
"""

import warnings

import numpy as np
import pytest

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")
dask_ml_wrappers = pytest.importorskip("dask_ml.wrappers")

import joblib  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.datasets import make_classification  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from sklearn.neural_network import MLPClassifier as SkMLPClassifier  # noqa: E402
from sklearn.neural_network import MLPRegressor as SkMLPRegressor  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from _util import assert_close_to_sklearn, assert_same_model  # noqa: E402
from cymlp import MLPClassifier, MLPRegressor  # noqa: E402

Incremental = dask_ml_wrappers.Incremental
ParallelPostFit = dask_ml_wrappers.ParallelPostFit

N_ROWS, N_FEATURES, BLOCK = 2_000, 10, 400           # 5 blocks
PARAMS = dict(hidden_layer_sizes=(8,), learning_rate_init=0.01, random_state=0)

# dask's parquet reader calls pandas 3.1's deprecated reset_index(inplace=True)
pytestmark = pytest.mark.filterwarnings("ignore:The inplace keyword in DataFrame")


@pytest.fixture(scope="module")
def client():
    """A LocalCluster of 2 worker processes (1 thread each) on 127.0.0.1, no
    dashboard; the Client is the default one while the module's tests run
    (dask's compute and joblib's dask backend use it)."""
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                  host="127.0.0.1", dashboard_address=None) as cluster, \
            distributed.Client(cluster) as c:
        c.wait_for_workers(2)
        # the workers import cymlp and scikit-learn once, here, not in the first test
        c.run(lambda: [__import__(m) for m in ("cymlp", "sklearn.neural_network", "dask.array")]
              and None)
        yield c


@pytest.fixture(autouse=True)
def quiet_and_one_blas_thread():
    """BLAS at 1 thread in this process too, as in the workers (dask's nanny
    sets OPENBLAS_NUM_THREADS=1 there): the by-hand references then run the
    products exactly as the workers do."""
    with warnings.catch_warnings(), threadpool_limits(limits=1):
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(n_samples=N_ROWS, n_features=N_FEATURES, n_informative=6,
                               n_classes=3, random_state=0)
    return X, y


def ran_on_workers(client, stream):
    """The tasks recorded by ``get_task_stream`` ran on the cluster's workers."""
    workers = {t["worker"] for t in stream.data}
    return bool(workers) and workers <= set(client.scheduler_info()["workers"])



def by_hand(model, blocks, order=None, **kwargs):
    """partial_fit on NumPy blocks [(X, y), ...], in ``order``."""
    for i in (range(len(blocks)) if order is None else order):
        model.partial_fit(*blocks[i], **kwargs)
    return model


def numpy_blocks(X, y, size=BLOCK):
    return [(X[i:i + size], y[i:i + size]) for i in range(0, X.shape[0], size)]


# ------------------------------------------------------------------ Incremental


def test_incremental_over_a_dask_array(client, data):
    X_np, y_np = data
    with distributed.get_task_stream(client) as stream:
        # recipe: Incremental over a dask array
        X = da.from_array(X_np, chunks=(400, X_np.shape[1]))    # or da.from_zarr, ...
        y = da.from_array(y_np, chunks=400)
        model = MLPClassifier(hidden_layer_sizes=(8,), learning_rate_init=0.01, random_state=0)
        inc = Incremental(model, shuffle_blocks=False)
        inc.fit(X, y, classes=np.unique(y_np))                  # one pass over the blocks
        inc.partial_fit(X, y, classes=np.unique(y_np))          # and a second one
        fitted = inc.estimator_                                 # a fitted MLPClassifier
        labels = inc.predict(X).compute()                       # block by block, on the workers
        # end of recipe
    assert ran_on_workers(client, stream)
    ours = by_hand(MLPClassifier(**PARAMS), numpy_blocks(X_np, y_np) * 2, classes=[0, 1, 2])
    assert_same_model(fitted, ours)
    assert fitted.loss_curve_ == ours.loss_curve_ and fitted.t_ == ours.t_ == 2 * N_ROWS
    sk = Incremental(SkMLPClassifier(**PARAMS), shuffle_blocks=False)
    sk.fit(X, y, classes=[0, 1, 2]).partial_fit(X, y, classes=[0, 1, 2])
    assert_close_to_sklearn(fitted, sk.estimator_)
    np.testing.assert_array_equal(labels, fitted.predict(X_np))


def test_incremental_regressor_over_a_dask_array(client, data):
    X_np, y_np = data
    y_np = X_np[:, 0] - 2 * X_np[:, 1] + y_np
    X = da.from_array(X_np, chunks=(BLOCK, N_FEATURES))
    y = da.from_array(y_np, chunks=BLOCK)
    fitted = Incremental(MLPRegressor(**PARAMS), shuffle_blocks=False).fit(X, y).estimator_
    assert_same_model(fitted, by_hand(MLPRegressor(**PARAMS), numpy_blocks(X_np, y_np)))
    sk = Incremental(SkMLPRegressor(**PARAMS), shuffle_blocks=False).fit(X, y).estimator_
    assert_close_to_sklearn(fitted, sk)


def test_incremental_random_state_instance_travels_with_the_model(client, data):
    """A RandomState as the estimator's random_state is pickled with the model
    from block to block and advances: every block gets a fresh shuffle, as in
    one process."""
    X_np, y_np = data
    X = da.from_array(X_np, chunks=(BLOCK, N_FEATURES))
    y = da.from_array(y_np, chunks=BLOCK)
    params = dict(PARAMS, random_state=np.random.RandomState(0))
    fitted = Incremental(MLPClassifier(**params), shuffle_blocks=False)
    fitted = fitted.fit(X, y, classes=[0, 1, 2]).estimator_
    ours = by_hand(clone(MLPClassifier(**params)), numpy_blocks(X_np, y_np), classes=[0, 1, 2])
    assert_same_model(fitted, ours)
    reseeded = by_hand(MLPClassifier(**PARAMS), numpy_blocks(X_np, y_np), classes=[0, 1, 2])
    assert not np.array_equal(fitted.coefs_[0], reseeded.coefs_[0])
    sk = Incremental(SkMLPClassifier(**params), shuffle_blocks=False)
    assert_close_to_sklearn(fitted, sk.fit(X, y, classes=[0, 1, 2]).estimator_)


def test_incremental_over_a_dask_dataframe_from_parquet(client, data, tmp_path):
    pytest.importorskip("pyarrow")
    pd = pytest.importorskip("pandas")
    dd = pytest.importorskip("dask.dataframe")
    X_np, y_np = data
    frame = pd.DataFrame(X_np, columns=["f%d" % j for j in range(N_FEATURES)])
    frame["label"] = y_np
    dd.from_pandas(frame, npartitions=5, sort=False).to_parquet(tmp_path / "data")
    # recipe: Incremental over a dask DataFrame read from parquet
    df = dd.read_parquet(tmp_path / "data")                 # one partition per file
    features = [c for c in df.columns if c != "label"]
    inc = Incremental(MLPClassifier(hidden_layer_sizes=(8,), learning_rate_init=0.01,
                                    random_state=0), shuffle_blocks=False)
    with distributed.get_task_stream(client) as stream:
        inc.fit(df[features], df["label"], classes=[0, 1, 2])
    fitted = inc.estimator_
    # end of recipe
    assert ran_on_workers(client, stream)
    assert list(fitted.feature_names_in_) == features
    sizes = df.map_partitions(len).compute().tolist()
    assert len(sizes) == 5 and sum(sizes) == N_ROWS
    bounds = np.cumsum([0] + sizes)
    blocks = [(X_np[a:b], y_np[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]
    assert_same_model(fitted, by_hand(MLPClassifier(**PARAMS), blocks, classes=[0, 1, 2]))
    sk = Incremental(SkMLPClassifier(**PARAMS), shuffle_blocks=False)
    assert_close_to_sklearn(fitted, sk.fit(df[features], df["label"],
                                           classes=[0, 1, 2]).estimator_)
    pred = inc.predict(df[features]).compute()
    np.testing.assert_array_equal(np.asarray(pred), fitted.predict(frame[features]))


def test_incremental_shuffle_blocks_is_reproducible(client, data):
    X_np, y_np = data
    X = da.from_array(X_np, chunks=(BLOCK, N_FEATURES))
    y = da.from_array(y_np, chunks=BLOCK)

    def fit(estimator, seed):
        # recipe: a reproducible block order
        inc = Incremental(estimator, shuffle_blocks=True, random_state=seed)
        return inc.fit(X, y, classes=[0, 1, 2]).estimator_
        # end of recipe

    a, b = fit(MLPClassifier(**PARAMS), 0), fit(MLPClassifier(**PARAMS), 0)
    assert_same_model(a, b)
    # the order is dask-ml's: RandomState(random_state).shuffle of the block indices
    order = list(range(N_ROWS // BLOCK))
    np.random.RandomState(0).shuffle(order)
    assert order != sorted(order)
    blocks = numpy_blocks(X_np, y_np)
    assert_same_model(a, by_hand(MLPClassifier(**PARAMS), blocks, order, classes=[0, 1, 2]))
    assert_close_to_sklearn(a, fit(SkMLPClassifier(**PARAMS), 0))
    # another seed, another order, another model
    other = list(range(N_ROWS // BLOCK))
    np.random.RandomState(1).shuffle(other)
    assert other != order
    c = fit(MLPClassifier(**PARAMS), 1)
    assert not np.array_equal(a.coefs_[0], c.coefs_[0])
    assert_same_model(c, by_hand(MLPClassifier(**PARAMS), blocks, other, classes=[0, 1, 2]))


def test_incremental_classes_on_every_call_with_single_class_blocks(client, data):
    """Rows sorted by label: the first blocks hold one class each, and classes=
    (given to every call by Incremental) declares the others from the start."""
    X_np, y_np = data
    rows = np.argsort(y_np, kind="stable")
    X_np, y_np = X_np[rows], y_np[rows]
    blocks = numpy_blocks(X_np, y_np)
    assert len(np.unique(blocks[0][1])) == 1
    X = da.from_array(X_np, chunks=(BLOCK, N_FEATURES))
    y = da.from_array(y_np, chunks=BLOCK)
    ours = Incremental(MLPClassifier(**PARAMS), shuffle_blocks=False)
    ours = ours.fit(X, y, classes=[0, 1, 2]).estimator_
    np.testing.assert_array_equal(ours.classes_, [0, 1, 2])
    assert ours.coefs_[-1].shape[1] == 3
    assert_same_model(ours, by_hand(MLPClassifier(**PARAMS), blocks, classes=[0, 1, 2]))
    sk = Incremental(SkMLPClassifier(**PARAMS), shuffle_blocks=False)
    assert_close_to_sklearn(ours, sk.fit(X, y, classes=[0, 1, 2]).estimator_)


def test_per_block_sample_weight(client, data):
    """Incremental passes fit's keyword arguments unchanged to every block, so a
    weight per row needs the blocks of a weight array: a chain of delayed
    partial_fit calls, one task per block, run in order on the cluster."""
    X_np, y_np = data
    w_np = np.random.RandomState(0).uniform(0.1, 3.0, size=N_ROWS)
    X = da.from_array(X_np, chunks=(BLOCK, N_FEATURES))
    y = da.from_array(y_np, chunks=BLOCK)

    def fit(model):
        # recipe: sample weights per block
        w = da.from_array(w_np, chunks=400)                 # the rows' weights, as y

        def partial_fit_block(model, X_block, y_block, w_block):
            return model.partial_fit(X_block, y_block, sample_weight=w_block,
                                     classes=[0, 1, 2])

        step = dask.delayed(partial_fit_block)
        for X_block, y_block, w_block in zip(X.to_delayed().ravel(), y.to_delayed(),
                                             w.to_delayed()):
            model = step(model, X_block, y_block, w_block)
        return model.compute()                              # the fitted model
        # end of recipe

    with distributed.get_task_stream(client) as stream:
        fitted = fit(MLPClassifier(**PARAMS))
    assert ran_on_workers(client, stream)
    wblocks = [w_np[i:i + BLOCK] for i in range(0, N_ROWS, BLOCK)]
    ours = MLPClassifier(**PARAMS)
    for (xb, yb), wb in zip(numpy_blocks(X_np, y_np), wblocks):
        ours.partial_fit(xb, yb, sample_weight=wb, classes=[0, 1, 2])
    assert_same_model(fitted, ours)
    assert_close_to_sklearn(fitted, fit(SkMLPClassifier(**PARAMS)))
    unweighted = by_hand(MLPClassifier(**PARAMS), numpy_blocks(X_np, y_np), classes=[0, 1, 2])
    assert np.abs(fitted.coefs_[0] - unweighted.coefs_[0]).max() > 1e-3


def test_class_weight_dict_across_blocks(client, data):
    """class_weight (a dict; cymlp's, scikit-learn 1.9's MLPs have none) under
    Incremental weighs every block's rows by their label's weight: the model
    of scikit-learn's MLP given those weights as sample_weight, block by
    block, and of cymlp's own partial_fit given them so."""
    X_np, y_np = data
    X = da.from_array(X_np, chunks=(BLOCK, N_FEATURES))
    y = da.from_array(y_np, chunks=BLOCK)
    weights = {0: 1.0, 1: 3.0, 2: 0.5}

    # recipe: class weights across blocks
    model = MLPClassifier(class_weight={0: 1.0, 1: 3.0, 2: 0.5}, **PARAMS)
    inc = Incremental(model, shuffle_blocks=False)
    fitted = inc.fit(X, y, classes=[0, 1, 2]).estimator_
    # end of recipe

    def as_sample_weight(model):
        for xb, yb in numpy_blocks(X_np, y_np):
            w = np.array([weights[label] for label in yb])
            model.partial_fit(xb, yb, sample_weight=w, classes=[0, 1, 2])
        return model

    assert_close_to_sklearn(fitted, as_sample_weight(SkMLPClassifier(**PARAMS)))
    assert_same_model(fitted, as_sample_weight(MLPClassifier(**PARAMS)))
    assert_same_model(fitted, by_hand(MLPClassifier(class_weight=weights, **PARAMS),
                                      numpy_blocks(X_np, y_np), classes=[0, 1, 2]))
    unweighted = by_hand(MLPClassifier(**PARAMS), numpy_blocks(X_np, y_np), classes=[0, 1, 2])
    assert np.abs(fitted.coefs_[0] - unweighted.coefs_[0]).max() > 1e-3


@pytest.mark.parametrize("schedule", ["constant", "invscaling", "adaptive"])
def test_learning_rate_schedules_across_blocks(client, data, schedule):
    """solver='sgd': 'invscaling' decays with t_, the samples seen over all
    calls; 'adaptive' divides the rate by 5 once the loss of n_iter_no_change+1
    calls in a row did not improve by tol (scikit-learn checks it in
    partial_fit too: each call counts as an epoch)."""
    X_np, y_np = data
    X = da.from_array(X_np, chunks=(BLOCK, N_FEATURES))
    y = da.from_array(y_np, chunks=BLOCK)
    # tol=1: no call counts as an improvement, so 'adaptive' divides the rate
    # after every 3 calls (n_iter_no_change=2): 3 times over the 10 calls
    params = dict(PARAMS, solver="sgd", learning_rate_init=0.05, tol=1.0, n_iter_no_change=2)

    def fit(estimator):
        inc = Incremental(estimator, shuffle_blocks=False)
        return inc.fit(X, y, classes=[0, 1, 2]).partial_fit(X, y, classes=[0, 1, 2]).estimator_

    ours = fit(MLPClassifier(learning_rate=schedule, **params))
    sk = fit(SkMLPClassifier(learning_rate=schedule, **params))
    assert_close_to_sklearn(ours, sk)
    assert_same_model(ours, by_hand(MLPClassifier(learning_rate=schedule, **params),
                                    numpy_blocks(X_np, y_np) * 2, classes=[0, 1, 2]))
    # the scenario exercises the schedule (scikit-learn's own optimizer says so)
    expected = {"constant": 0.05, "invscaling": 0.05 / (2 * N_ROWS + 1) ** 0.5,
                "adaptive": 0.05 / 5 ** 3}[schedule]
    assert sk._optimizer.learning_rate == pytest.approx(expected, rel=1e-12)
    if schedule != "constant":
        constant = fit(MLPClassifier(learning_rate="constant", **params))
        assert np.abs(ours.coefs_[0] - constant.coefs_[0]).max() > 1e-3


# ------------------------------------------------------------------ searches, prediction


def test_grid_search_with_joblib_dask_backend(client, data):
    X, y = data
    grid = {"alpha": [1e-4, 1e-1], "hidden_layer_sizes": [(8,), (16,)]}
    # recipe: GridSearchCV with joblib's dask backend
    search = GridSearchCV(MLPClassifier(max_iter=20, random_state=0), grid, cv=3)
    with distributed.get_task_stream(client) as stream:
        with joblib.parallel_backend("dask"):               # the fits run on the workers
            search.fit(X, y)
    # end of recipe
    assert ran_on_workers(client, stream)
    default = GridSearchCV(MLPClassifier(max_iter=20, random_state=0), grid, cv=3).fit(X, y)
    assert search.best_params_ == default.best_params_
    for key in ("mean_test_score", "split0_test_score", "split1_test_score",
                "split2_test_score"):
        np.testing.assert_array_equal(search.cv_results_[key], default.cv_results_[key])
    assert_same_model(search.best_estimator_, default.best_estimator_)


def test_parallel_post_fit_predicts_on_the_workers(client, data):
    X_np, y_np = data
    # recipe: ParallelPostFit for prediction
    clf = ParallelPostFit(MLPClassifier(hidden_layer_sizes=(8,), max_iter=20, random_state=0))
    clf.fit(X_np, y_np)                                     # in memory, as usual
    X_big = da.from_array(X_np, chunks=(500, X_np.shape[1]))   # e.g. da.from_zarr(...)
    with distributed.get_task_stream(client) as stream:
        labels = clf.predict(X_big).compute()               # block by block, on the workers
        proba = clf.predict_proba(X_big).compute()
    # end of recipe
    assert ran_on_workers(client, stream)
    fitted = clf.estimator
    np.testing.assert_array_equal(labels, fitted.predict(X_np))
    np.testing.assert_array_equal(proba, fitted.predict_proba(X_np))
    assert clf.score(X_np, y_np) == fitted.score(X_np, y_np)
