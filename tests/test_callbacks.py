"""scikit-learn's callbacks (sklearn.callback) on cymlp: the task tree, ScoringMonitor
against the model's own score at every epoch, stopping from a callback, ProgressBar in a
plain fit, a Pipeline and a GridSearchCV, partial_fit, pickling, and the detection."""

import pickle
import re
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_digits, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import cymlp
from cymlp import MLPClassifier, MLPRegressor, _callbacks

skc = pytest.importorskip("sklearn.callback")
if not _callbacks.AVAILABLE:  # pragma: no cover - scikit-learn's API changed
    pytest.skip("this scikit-learn's sklearn.callback differs from 1.9's",
                allow_module_level=True)
from sklearn.callback import ProgressBar, ScoringMonitor  # noqa: E402

X_DIG, Y_DIG = load_digits(return_X_y=True)
X_DIG = X_DIG[:400] / 16.0
Y_DIG = Y_DIG[:400]
X_REG, Y_REG = make_regression(n_samples=300, n_features=8, noise=5.0, random_state=0)
Y_REG = Y_REG / 100.0

# no stopping rule fires before max_iter: every run of k epochs is the k-epoch prefix
NO_TOL = dict(tol=0.0, n_iter_no_change=10_000)


class Recorder:
    """Records every hook call (name, task, X rows) and, if asked, stops at an epoch."""

    def __init__(self, stop_at=None, fail_at=None):
        self.calls = []
        self.stop_at = stop_at
        self.fail_at = fail_at
        self.models = []

    def setup(self, estimator, context):
        self.calls.append(("setup", context.task_name, None))

    def teardown(self, estimator, context):
        self.calls.append(("teardown", context.task_name, None))

    def on_fit_task_begin(self, estimator, context, *, X=None, y=None, metadata=None,
                          fitted_estimator=None):
        self.calls.append(("begin", context.task_name, None if X is None else X.shape[0]))

    def on_fit_task_end(self, estimator, context, *, X=None, y=None, metadata=None,
                        fitted_estimator=None):
        self.calls.append(("end", context.task_name, None if X is None else X.shape[0]))
        n_ended = sum(1 for c in self.calls if c[0] == "end" and c[1] != "fit")
        if fitted_estimator is not None and context.parent is not None:
            self.models.append((fitted_estimator, y, metadata))
        if self.fail_at is not None and n_ended == self.fail_at:
            raise RuntimeError("callback failed")
        return self.stop_at is not None and n_ended == self.stop_at

    def count(self, name, task):
        return sum(1 for c in self.calls if c[0] == name and c[1] == task)


def _quiet_fit(est, X, y, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y, **kw)


def _scores(monitor, task_name):
    rows = [r for r in monitor.get_logs().data if r["task_name"] == task_name]
    rows.sort(key=lambda r: r["task_id"])
    return [r["task_id"] for r in rows], rows


# ----------------------------------------------------------------------
# ScoringMonitor: the model after epoch k is the model of max_iter=k
# ----------------------------------------------------------------------
@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_scoring_monitor_scores_each_epochs_model(solver, kind):
    n_epochs = 6
    if kind == "classifier":
        est = MLPClassifier((16,), solver=solver, max_iter=n_epochs, random_state=0,
                            learning_rate_init=0.05 if solver == "sgd" else 0.002, **NO_TOL)
        X, y, scoring = X_DIG, Y_DIG, "neg_log_loss"
    else:
        est = MLPRegressor(hidden_layer_sizes=(16,), solver=solver, max_iter=n_epochs, random_state=0, **NO_TOL)
        X, y, scoring = X_REG, Y_REG, "r2"
    monitor = ScoringMonitor(scoring=scoring)
    model = _quiet_fit(clone(est).set_callbacks(monitor), X, y)
    task = "lbfgs-iter" if solver == "lbfgs" else "epoch"
    ids, rows = _scores(monitor, task)
    assert ids == list(range(n_epochs))
    logged = [r[scoring] for r in rows]
    scorer = __import__("sklearn.metrics", fromlist=["get_scorer"]).get_scorer(scoring)
    # the last epoch's score is the fitted model's own score, exactly
    assert logged[-1] == scorer(model, X, y)
    # and epoch k's is that of the model trained for k epochs (same seed)
    for k in (1, 3):
        ref = _quiet_fit(clone(est).set_params(max_iter=k), X, y)
        assert logged[k - 1] == scorer(ref, X, y), k
    assert len(set(logged)) == n_epochs  # the weights moved between epochs


def test_fitted_estimator_holds_copies_not_views():
    rec = Recorder()
    est = MLPClassifier((8,), solver="sgd", max_iter=3, random_state=0, **NO_TOL)
    _quiet_fit(est.set_callbacks(rec), X_DIG, Y_DIG)
    assert len(rec.models) == 3
    firsts = [m.coefs_[0].copy() for m, _, _ in rec.models]
    for (m, _, _), first in zip(rec.models, firsts):
        for a in m.coefs_ + m.intercepts_:
            assert not np.shares_memory(a, est._params)
        np.testing.assert_array_equal(m.coefs_[0], first)  # unchanged by later epochs
        assert np.shares_memory(m.coefs_[0], m._params)  # its own buffer, used by predict
    assert [m.n_iter_ for m, _, _ in rec.models] == [1, 2, 3]
    assert [len(m.loss_curve_) for m, _, _ in rec.models] == [1, 2, 3]
    assert not np.array_equal(rec.models[0][0].coefs_[0], rec.models[-1][0].coefs_[0])


def test_hooks_get_the_training_part_under_early_stopping():
    rec = Recorder()
    sw = np.linspace(0.5, 1.5, len(Y_DIG))
    est = MLPClassifier((8,), solver="adam", max_iter=4, random_state=0,
                        early_stopping=True, validation_fraction=0.25, **NO_TOL)
    _quiet_fit(est.set_callbacks(rec), X_DIG, Y_DIG, sample_weight=sw)
    n_train = len(Y_DIG) - int(np.ceil(0.25 * len(Y_DIG)))
    assert [c for c in rec.calls if c[1] == "epoch"] == [("begin", "epoch", n_train),
                                                         ("end", "epoch", n_train)] * 4
    assert rec.calls[1] == ("begin", "fit", len(Y_DIG))  # the root task: all the data
    for _, y, metadata in rec.models:
        assert len(y) == n_train and set(np.unique(y)) <= set(est.classes_)
        assert metadata["sample_weight"].shape == (n_train,)
        assert set(metadata["sample_weight"]) <= set(sw)


def test_hook_sequence_and_python_once_per_epoch():
    rec = Recorder()
    est = MLPRegressor(hidden_layer_sizes=(8,), solver="sgd", max_iter=5, batch_size=10, random_state=0, **NO_TOL)
    _quiet_fit(est.set_callbacks(rec), X_REG, Y_REG)  # 30 minibatches per epoch
    assert rec.calls[0] == ("setup", "fit", None) and rec.calls[-1] == ("teardown", "fit", None)
    assert rec.count("begin", "epoch") == rec.count("end", "epoch") == 5
    assert rec.count("begin", "fit") == rec.count("end", "fit") == 1
    assert len(rec.calls) == 2 + 2 + 2 * 5


# ----------------------------------------------------------------------
# stopping from a callback
# ----------------------------------------------------------------------
@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("early_stopping", [False, True])
def test_a_callback_stops_after_k_epochs(solver, early_stopping):
    k = 3
    est = MLPClassifier((12,), solver=solver, max_iter=20, random_state=0,
                        early_stopping=early_stopping, **NO_TOL)
    rec = Recorder(stop_at=k)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "Maximum iterations" warning
        stopped = clone(est).set_callbacks(rec).fit(X_DIG, Y_DIG)
    assert stopped.n_iter_ == k and len(stopped.loss_curve_) == k
    assert rec.count("begin", "epoch") == rec.count("end", "epoch") == k
    ref = _quiet_fit(clone(est).set_params(max_iter=k), X_DIG, Y_DIG)
    # the same model as k epochs: best weights restored under early stopping as at any end
    for a, b in zip(stopped.coefs_ + stopped.intercepts_, ref.coefs_ + ref.intercepts_):
        np.testing.assert_array_equal(a, b)
    assert stopped.loss_curve_ == ref.loss_curve_
    if early_stopping:
        assert stopped.validation_scores_ == ref.validation_scores_
        assert stopped.best_validation_score_ == ref.best_validation_score_


def test_a_stop_at_the_last_epoch_gives_no_convergence_warning():
    est = MLPRegressor(hidden_layer_sizes=(8,), solver="sgd", max_iter=4, random_state=0, **NO_TOL)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est.set_callbacks(Recorder(stop_at=4)).fit(X_REG, Y_REG)
    assert est.n_iter_ == 4
    with pytest.warns(ConvergenceWarning, match="Maximum iterations"):
        clone(est).set_callbacks(Recorder()).fit(X_REG, Y_REG)


def test_a_callback_stops_lbfgs_after_k_iterations():
    k = 4
    est = MLPRegressor(hidden_layer_sizes=(12,), solver="lbfgs", max_iter=200, random_state=0)
    rec = Recorder(stop_at=k)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "lbfgs failed to converge" for a stop asked for
        stopped = clone(est).set_callbacks(rec).fit(X_REG, Y_REG)
    assert stopped.n_iter_ == k
    assert rec.count("begin", "lbfgs-iter") == rec.count("end", "lbfgs-iter") == k
    ref = _quiet_fit(clone(est).set_params(max_iter=k), X_REG, Y_REG)
    for a, b in zip(stopped.coefs_ + stopped.intercepts_, ref.coefs_ + ref.intercepts_):
        np.testing.assert_array_equal(a, b)
    assert stopped.loss_ == ref.loss_


def test_lbfgs_without_a_stop_ends_its_last_subtask_empty():
    rec = Recorder()
    est = _quiet_fit(MLPRegressor(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=5, random_state=0)
                     .set_callbacks(rec), X_REG, Y_REG)
    assert est.n_iter_ == 5
    # as scikit-learn's LogisticRegression: max_iter iterations + the one never run
    assert rec.count("begin", "lbfgs-iter") == rec.count("end", "lbfgs-iter") == 6
    assert [c for c in rec.calls if c[1] == "lbfgs-iter"][-1] == ("end", "lbfgs-iter", None)


def test_a_failing_callback_leaves_the_model_as_it_was():
    est = MLPClassifier((8,), solver="sgd", max_iter=3, random_state=0, **NO_TOL)
    _quiet_fit(est, X_DIG, Y_DIG)
    before = est._params.copy()
    rec = Recorder(fail_at=2)
    with pytest.raises(RuntimeError, match="callback failed"):
        est.set_callbacks(rec).fit(X_DIG, Y_DIG)
    np.testing.assert_array_equal(est._params, before)
    assert est.n_iter_ == 3 and len(est.loss_curve_) == 3
    assert rec.calls[-1] == ("teardown", "fit", None)  # teardown still ran
    assert est._skl_callbacks == [rec] and not hasattr(est, "_callback_fit_ctx")


# ----------------------------------------------------------------------
# partial_fit
# ----------------------------------------------------------------------
def test_callbacks_on_partial_fit():
    monitor = ScoringMonitor(scoring="accuracy")
    rec = Recorder()
    est = MLPClassifier((12,), solver="sgd", random_state=0).set_callbacks(monitor, rec)
    classes = np.unique(Y_DIG)
    for i in range(3):
        est.partial_fit(X_DIG, Y_DIG, classes=classes if i == 0 else None)
        rows = [r for r in monitor.get_logs().data if r["task_name"] == "epoch"]
        assert len(rows) == 1 and rows[0]["parent_task_id_path"] == (0,)
        assert rows[0]["accuracy"] == est.score(X_DIG, Y_DIG)
    assert rec.count("begin", "partial_fit") == rec.count("end", "partial_fit") == 3
    assert rec.count("end", "epoch") == 3 and rec.count("setup", "partial_fit") == 3
    # a stop request on partial_fit's one epoch changes nothing
    est.set_callbacks(Recorder(stop_at=1)).partial_fit(X_DIG, Y_DIG)
    assert est.n_iter_ == 1 and est.t_ == 4 * len(Y_DIG)


# ----------------------------------------------------------------------
# ProgressBar: plain fit, Pipeline, GridSearchCV
# ----------------------------------------------------------------------
def _assert_complete(out):
    assert re.search(r"100%", out)
    assert not re.search(r"\b[0-9]{1,2}%", out), out


def test_progressbar_plain_fit(capsys):
    pytest.importorskip("rich")
    est = MLPClassifier((8,), solver="adam", max_iter=7, random_state=0, **NO_TOL)
    rec = Recorder()
    _quiet_fit(est.set_callbacks(ProgressBar(), rec), X_DIG, Y_DIG)
    out = capsys.readouterr().out
    assert "MLPClassifier - fit" in out
    _assert_complete(out)
    assert rec.count("end", "epoch") == 7


def test_progressbar_in_a_pipeline(capsys):
    pytest.importorskip("rich")
    rec = Recorder()
    mlp = MLPClassifier((8,), solver="sgd", max_iter=5, random_state=0, **NO_TOL)
    pipe = make_pipeline(StandardScaler(), mlp.set_callbacks(rec))
    pipe.set_callbacks(ProgressBar(max_propagation_depth=None))
    _quiet_fit(pipe, X_DIG, Y_DIG)
    out = capsys.readouterr().out
    assert "Pipeline - fit" in out
    assert re.search(r"Pipeline - fit-final-estimator \| MLPClassifier - fit", out), out
    _assert_complete(out)
    # the propagated bar saw every epoch; the callback set on the MLP too
    assert rec.count("end", "epoch") == 5
    assert not pipe[-1]._skl_callbacks.count(pipe._skl_callbacks[0])  # unpropagated after fit


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_progressbar_in_a_grid_search(capsys, n_jobs):
    pytest.importorskip("rich")
    mlp = MLPClassifier((8,), solver="adam", max_iter=4, random_state=0, **NO_TOL)
    monitor = ScoringMonitor(scoring="accuracy")
    grid = GridSearchCV(mlp.set_callbacks(monitor), {"alpha": [1e-4, 1e-2]}, cv=2,
                        n_jobs=n_jobs)
    grid.set_callbacks(ProgressBar(max_propagation_depth=None))
    _quiet_fit(grid, X_DIG, Y_DIG)
    out = capsys.readouterr().out
    assert "GridSearchCV - fit" in out
    n = len(re.findall(r"candidate-split-evaluation \| MLPClassifier - fit", out))
    assert n >= 4, out  # 2 candidates x 2 splits, each with its epochs' bar
    # the MLP's own callback saw 4 epochs in each of the 5 fits (worker processes too)
    rows = monitor.get_logs().data
    assert sum(r["task_name"] == "epoch" for r in rows) == 5 * 4
    assert re.search(r"refit-with-best-params \| MLPClassifier - fit", out), out
    _assert_complete(out)


def test_progressbar_depth_limits_what_is_shown(capsys):
    pytest.importorskip("rich")
    pipe = make_pipeline(StandardScaler(),
                         MLPClassifier((8,), max_iter=3, random_state=0, **NO_TOL))
    pipe.set_callbacks(ProgressBar(max_propagation_depth=0))
    _quiet_fit(pipe, X_DIG, Y_DIG)
    out = capsys.readouterr().out
    assert "Pipeline - fit" in out and "MLPClassifier - fit" not in out


# ----------------------------------------------------------------------
# cloning, pickling, save
# ----------------------------------------------------------------------
def test_set_callbacks_is_scikit_learns():
    assert isinstance(MLPClassifier(), skc.CallbackSupportMixin)
    assert isinstance(MLPRegressor(), skc.CallbackSupportMixin)
    mro = MLPClassifier.__mro__
    from sklearn.base import BaseEstimator, ClassifierMixin
    assert mro.index(skc.CallbackSupportMixin) < mro.index(BaseEstimator)
    assert mro.index(ClassifierMixin) < mro.index(BaseEstimator)
    with pytest.raises(TypeError, match="FitCallback protocol"):
        MLPClassifier().set_callbacks(object())
    rec = Recorder()
    est = MLPClassifier().set_callbacks(rec)
    assert "callbacks" not in " ".join(est.get_params())
    assert clone(est)._skl_callbacks[0] is rec  # by reference, as scikit-learn's clone
    assert not hasattr(est.set_callbacks(), "_skl_callbacks")


def test_pickling_keeps_callbacks_and_refits():
    monitor = ScoringMonitor(scoring="r2")
    est = MLPRegressor(hidden_layer_sizes=(8,), solver="adam", max_iter=3, random_state=0, **NO_TOL)
    est.set_callbacks(monitor)
    unfitted = pickle.loads(pickle.dumps(est))
    assert len(unfitted._skl_callbacks) == 1
    _quiet_fit(est, X_REG, Y_REG)
    restored = pickle.loads(pickle.dumps(est))
    assert type(restored._skl_callbacks[0]) is ScoringMonitor
    assert not hasattr(restored, "_callback_fit_ctx")
    np.testing.assert_array_equal(restored.predict(X_REG), est.predict(X_REG))
    _quiet_fit(restored, X_REG, Y_REG)
    logs = restored._skl_callbacks[0].get_logs(select="all")
    assert len(logs) == 2 and logs[0].data == monitor.get_logs().data
    np.testing.assert_array_equal(restored.predict(X_REG), est.predict(X_REG))


def test_save_does_not_store_callbacks(tmp_path):
    est = _quiet_fit(MLPRegressor(hidden_layer_sizes=(8,), max_iter=3, random_state=0)
                     .set_callbacks(Recorder()), X_REG, Y_REG)
    est.save(tmp_path / "m.npz")
    loaded = cymlp.load(tmp_path / "m.npz")
    assert not hasattr(loaded, "_skl_callbacks")
    np.testing.assert_array_equal(loaded.predict(X_REG), est.predict(X_REG))


def test_no_callback_no_context(monkeypatch):
    """Without callbacks, fit never opens a callback context (nothing to pay)."""
    def boom(*a, **k):
        raise AssertionError("a callback context was opened")

    monkeypatch.setattr(skc.CallbackSupportMixin, "_init_callback_context", boom)
    for solver in ("sgd", "lbfgs"):
        _quiet_fit(MLPRegressor(hidden_layer_sizes=(4,), solver=solver, max_iter=2), X_REG, Y_REG)


# ----------------------------------------------------------------------
# detection: no sklearn.callback, or one that differs
# ----------------------------------------------------------------------
def _run(code):
    res = subprocess.run([sys.executable, "-c", textwrap.dedent(code)],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    return res.stdout


def test_without_sklearn_callback_there_is_no_set_callbacks():
    out = _run("""
        import sys, warnings
        import sklearn, sklearn.base, sklearn.metrics, sklearn.model_selection
        import sklearn.preprocessing, sklearn.utils.optimize
        # as on scikit-learn 1.7 / 1.8: importing sklearn.callback fails
        sys.modules["sklearn.callback"] = None
        del sklearn.callback
        import numpy as np, cymlp
        assert not cymlp._callbacks.AVAILABLE and cymlp._callbacks.INCOMPATIBLE is None
        warnings.simplefilter("ignore")
        X = np.random.RandomState(0).randn(40, 3); y = np.arange(40) % 2
        est = cymlp.MLPClassifier((4,), max_iter=3, random_state=0).fit(X, y)
        print(hasattr(est, "set_callbacks"), est.n_iter_)
    """)
    assert out.split() == ["False", "3"]


def test_a_changed_sklearn_callback_fails_clearly_and_trains():
    out = _run("""
        import warnings
        import sklearn.callback as skc
        del skc.CallbackContext.subcontext      # a later scikit-learn renamed it
        import numpy as np, cymlp
        warnings.simplefilter("ignore")
        X = np.random.RandomState(0).randn(40, 3); y = np.arange(40) % 2
        est = cymlp.MLPClassifier((4,), max_iter=3, random_state=0).fit(X, y)
        try:
            est.set_callbacks()
        except RuntimeError as e:
            print("RuntimeError:", e)
        print(est.n_iter_)
    """)
    assert "RuntimeError: cymlp cannot use the callbacks of scikit-learn" in out
    assert "CallbackContext has no subcontext()" in out
    assert out.split()[-1] == "3"


def test_watching_training_guide_examples(capsys):
    """Every ```python block of docs/watching-training.md, run in order in one namespace
    (with the README's digits split), as written."""
    import pathlib

    pytest.importorskip("rich")
    from sklearn.model_selection import train_test_split

    guide = pathlib.Path(__file__).resolve().parents[1] / "docs" / "watching-training.md"
    blocks = re.findall(r"^```python\n(.*?)^```", guide.read_text(), flags=re.S | re.M)
    assert len(blocks) == 3
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X / 16, y, random_state=0)
    namespace = {"cymlp": cymlp, "X_train": X_train, "y_train": y_train}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # max_iter=20 / 50 examples
        for block in blocks:
            exec(compile(block, str(guide), "exec"), namespace)
    assert "MLPClassifier - fit" in capsys.readouterr().out
    frame = namespace["monitor"].get_logs().data_as_pandas
    assert (frame["task_name"] == "epoch").sum() == 20
    # the StopBelow example stopped early, below its loss, without a warning
    stopped = cymlp.MLP(max_iter=500).set_callbacks(namespace["StopBelow"](0.05))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        stopped.fit(X_train, y_train)
    assert stopped.loss_ < 0.05 < stopped.loss_curve_[-2] and stopped.n_iter_ < 500
