"""partial_fit over a stream: what it keeps between calls (cymlp._scratch)
changes no result, and its shortcuts past scikit-learn's checks give the same
errors and warnings as scikit-learn.

Every cached run is compared bit for bit with the uncached path: the same
calls replayed on a deep copy made before each call (a copy starts without
scratch, so each of its calls builds everything afresh)."""

import copy
import io
import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn.neural_network as skn
from sklearn import config_context
from sklearn.datasets import make_classification

import cymlp
from _util import assert_same_dict, assert_same_state, outcome, quiet
from cymlp import _scratch

X, Y = make_classification(n_samples=300, n_features=8, n_informative=5, n_classes=4,
                           random_state=0)
X32 = X.astype(np.float32)
YR = X @ np.random.RandomState(1).randn(8)
CLASSES = np.unique(Y)


def _clf(**kw):
    params = dict(hidden_layer_sizes=(7, 5), batch_size=20, random_state=0,
                  learning_rate_init=0.01)
    params.update(kw)
    return cymlp.MLPClassifier(**params)


def _reg(**kw):
    params = dict(hidden_layer_sizes=(6,), batch_size=20, random_state=0,
                  learning_rate_init=0.01)
    params.update(kw)
    return cymlp.MLPRegressor(**params)


def _chunks(X, y, size, **kw):
    return [lambda est, i=i: est.partial_fit(X[i:i + size], y[i:i + size], **kw)
            for i in range(0, X.shape[0], size)]


def _replay(make, steps):
    """Run ``steps`` on one estimator (the scratch kept between calls) and on
    a deep copy before every step (nothing kept); both must end identical."""
    cached, fresh = make(), make()
    for step in steps:
        quiet(step, cached)
        fresh = copy.deepcopy(fresh)
        assert _scratch.peek(fresh) is None
        quiet(step, fresh)
        # _params aside: deepcopy re-packs coefs_ a user replaced, partial_fit later
        assert_same_dict({k: v for k, v in cached.__dict__.items() if k != "_params"},
                         {k: v for k, v in fresh.__dict__.items() if k != "_params"})
    assert_same_state(cached, fresh)
    return cached


def _set(**params):
    return lambda est: est.set_params(**params)


def _roundtrip_pickle(est):
    # continue on the unpickled model in place of the original
    other = pickle.loads(pickle.dumps(est))
    assert _scratch.peek(other) is None
    est.__dict__.clear()
    est.__dict__.update(other.__dict__)


def _roundtrip_save(est):
    buf = io.BytesIO()
    est.save(buf)
    buf.seek(0)
    other = cymlp.load(buf)
    est.__dict__.clear()
    est.__dict__.update(other.__dict__)


KW = dict(classes=CLASSES)
SCENARIOS = {
    "plain stream": lambda: _chunks(X32, Y, 50, **KW) * 2,
    "batch_size changed": lambda: (_chunks(X32, Y, 60, **KW) + [_set(batch_size=7)]
                                   + _chunks(X32, Y, 60, **KW) + [_set(batch_size="auto")]
                                   + _chunks(X32, Y, 45, **KW)),
    "chunk shorter than a batch": lambda: _chunks(X32, Y, 13, **KW),
    "fit with other hidden sizes": lambda: (
        _chunks(X32, Y, 100, **KW)
        + [lambda est: est.set_params(hidden_layer_sizes=(4,), max_iter=3).fit(X32, Y)]
        + _chunks(X32, Y, 100, **KW)),
    "warm-start fit between": lambda: (
        _chunks(X32, Y, 100, **KW)
        + [lambda est: est.set_params(warm_start=True, max_iter=2).fit(X32, Y),
           _set(warm_start=False)]
        + _chunks(X32, Y, 100, **KW)),
    "pickled mid-stream": lambda: (_chunks(X32, Y, 100, **KW) + [_roundtrip_pickle]
                                   + _chunks(X32, Y, 100, **KW)),
    "saved and loaded mid-stream": lambda: (_chunks(X32, Y, 100, **KW) + [_roundtrip_save]
                                            + _chunks(X32, Y, 100, **KW)),
    "sample_weight": lambda: [
        lambda est, i=i: est.partial_fit(X32[i:i + 50], Y[i:i + 50], classes=CLASSES,
                                         sample_weight=np.linspace(0.5, 2, 50))
        for i in range(0, 300, 50)] + _chunks(X32, Y, 50),
    "sparse X": lambda: (_chunks(sp.csr_matrix(X32), Y, 60, **KW)
                         + _chunks(X32, Y, 60) + _chunks(sp.csc_matrix(X32), Y, 60)),
    "float64 then float32 chunks": lambda: (_chunks(X, Y, 60, **KW) + _chunks(X32, Y, 60)
                                            + _chunks(X, Y, 60)),
    "float64 model refit in float32": lambda: (
        _chunks(X, Y, 100, **KW) + [lambda est: est.set_params(max_iter=2).fit(X32, Y)]
        + _chunks(X32, Y, 100) + _chunks(X, Y, 100)),
    "shuffle switched": lambda: (_chunks(X32, Y, 60, **KW) + [_set(shuffle=False)]
                                 + _chunks(X32, Y, 60) + [_set(shuffle=True)]
                                 + _chunks(X32, Y, 60)),
    "activation and learning rate changed": lambda: (
        _chunks(X32, Y, 60, **KW) + [_set(activation="tanh", learning_rate_init=0.05)]
        + _chunks(X32, Y, 60)),
    "solver switched to sgd": lambda: (_chunks(X32, Y, 100, **KW) + [_set(solver="sgd")]
                                       + _chunks(X32, Y, 100)),
    "classes= as a list, then without": lambda: (_chunks(X32, Y, 75, classes=[0, 1, 2, 3])
                                                 + _chunks(X32, Y, 75)),
    "float labels": lambda: _chunks(X32, Y.astype(float), 60, classes=CLASSES.astype(float)),
    "string labels": lambda: _chunks(X32, np.array(list("abcd"))[Y], 60,
                                     classes=np.array(list("abcd"))),
    "binary": lambda: _chunks(X32, Y % 2, 60, classes=np.array([0, 1])),
    "coefs_ replaced by the user": lambda: (
        _chunks(X32, Y, 100, **KW)
        + [lambda est: est.coefs_.__setitem__(0, est.coefs_[0] * 0.5),
           lambda est: setattr(est, "intercepts_", [b + 0.1 for b in est.intercepts_])]
        + _chunks(X32, Y, 100, **KW)),
    "weights written in place by the user": lambda: (
        _chunks(X32, Y, 100, **KW) + [lambda est: est.coefs_[1].__imul__(0.5)]
        + _chunks(X32, Y, 100, **KW)),
    "random_state changed": lambda: (_chunks(X32, Y, 100, **KW) + [_set(random_state=5)]
                                     + _chunks(X32, Y, 100)),
    "memmap-like chunks": lambda: _chunks(np.asfortranarray(X32), Y, 60, **KW),
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_kept_scratch_changes_nothing(name):
    _replay(_clf, SCENARIOS[name]())


@pytest.mark.parametrize("name", ["plain", "2-D targets", "float32 and float64",
                                  "batch_size changed", "sparse"])
def test_kept_scratch_changes_nothing_regressor(name):
    YR2 = np.c_[YR, -YR]
    steps = {
        "plain": _chunks(X32, YR, 50) * 2,
        "2-D targets": _chunks(X32, YR2, 50),
        "float32 and float64": _chunks(X, YR, 60) + _chunks(X32, YR.astype(np.float32), 60),
        "batch_size changed": _chunks(X32, YR, 60) + [_set(batch_size=9)] + _chunks(X32, YR, 60),
        "sparse": _chunks(sp.csr_matrix(X32), YR, 60) + _chunks(X32, YR, 60),
    }[name]
    make = (lambda: _reg()) if name != "2-D targets" else (lambda: _reg())
    _replay(make, steps)


def test_memmap_chunks(tmp_path):
    path = tmp_path / "X.npy"
    np.save(path, X32)
    Xm = np.load(path, mmap_mode="r")
    a, b = _clf(), _clf()
    for i in range(0, 300, 60):
        a.partial_fit(Xm[i:i + 60], Y[i:i + 60], classes=CLASSES)
        b.partial_fit(np.array(Xm[i:i + 60]), Y[i:i + 60], classes=CLASSES)
    assert_same_state(a, b)


def test_stream_matches_sklearn_float64():
    """A stream of partial_fit calls against scikit-learn's own, float64."""
    params = dict(hidden_layer_sizes=(7, 5), batch_size=20, random_state=0,
                  learning_rate_init=0.01)
    ours, theirs = cymlp.MLPClassifier(**params), skn.MLPClassifier(**params)
    for _ in range(2):
        for i in range(0, 300, 50):
            ours.partial_fit(X[i:i + 50], Y[i:i + 50], classes=CLASSES)
            theirs.partial_fit(X[i:i + 50], Y[i:i + 50], classes=CLASSES)
    assert ours.t_ == theirs.t_ and ours.n_iter_ == theirs.n_iter_
    for a, b in zip(theirs.coefs_ + theirs.intercepts_, ours.coefs_ + ours.intercepts_):
        np.testing.assert_allclose(b, a, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-7)


# ----------------------------------------------------------------------
# the shortcuts past scikit-learn's checks: the same errors and warnings
# ----------------------------------------------------------------------

def _streaming(m, kind="clf", classes=CLASSES, X0=X32):
    """A model two partial_fit calls into a stream (the scratch is warm)."""
    if kind == "clf":
        est = m.MLPClassifier(hidden_layer_sizes=(5,), batch_size=20, random_state=0)
        est.partial_fit(X0[:100], Y[:100], classes=classes)
        est.partial_fit(X0[100:200], Y[100:200], classes=classes)
    else:
        est = m.MLPRegressor(hidden_layer_sizes=(5,), batch_size=20, random_state=0)
        est.partial_fit(X0[:100], YR[:100])
        est.partial_fit(X0[100:200], YR[100:200])
    return est


def _pd():
    return pytest.importorskip("pandas")


NAN_X = np.where(X32 > 1, np.nan, X32)
INF_X = np.where(X32 > 1, np.inf, X32)
# the last call of a stream two calls in (a warm scratch): each raises or warns
CALLS = {
    "NaN in X": lambda e: e.partial_fit(NAN_X[:50], Y[:50], classes=CLASSES),
    "inf in X": lambda e: e.partial_fit(INF_X[:50], Y[:50]),
    "NaN in X and a bad label": lambda e: e.partial_fit(NAN_X[:50], Y[:50] + 9),
    "3 features": lambda e: e.partial_fit(X32[:50, :3], Y[:50]),
    "no features": lambda e: e.partial_fit(X32[:50, :0], Y[:50]),
    "no rows": lambda e: e.partial_fit(X32[:0], Y[:0]),
    "1-D X": lambda e: e.partial_fit(X32[0], Y[:1]),
    "3-D X": lambda e: e.partial_fit(X32[:50, :, None], Y[:50]),
    "short y": lambda e: e.partial_fit(X32[:50], Y[:49]),
    "column y": lambda e: e.partial_fit(X32[:50], Y[:50, None]),
    "2-D y": lambda e: e.partial_fit(X32[:50], np.c_[Y[:50], Y[:50]]),
    "NaN label": lambda e: e.partial_fit(X32[:50], np.r_[np.nan, Y[1:50]]),
    "unknown label": lambda e: e.partial_fit(X32[:50], Y[:50] + 1),
    "negative unknown label": lambda e: e.partial_fit(X32[:50], Y[:50] - 1),
    "non-integral float labels": lambda e: e.partial_fit(X32[:50], Y[:50] + 0.5),
    "classes= changed": lambda e: e.partial_fit(X32[:50], Y[:50], classes=CLASSES[:3]),
    "string X": lambda e: e.partial_fit(np.full((50, 8), "a"), Y[:50]),
    "complex X": lambda e: e.partial_fit(X32[:50] + 1j, Y[:50]),
    "DataFrame after arrays": lambda e: e.partial_fit(
        _pd().DataFrame(X32[:50], columns=[f"f{i}" for i in range(8)]), Y[:50]),
    "sample_weight length": lambda e: e.partial_fit(X32[:50], Y[:50], sample_weight=[1.0, 2.0]),
}
REG_CALLS = {
    "regressor NaN in y": lambda e: e.partial_fit(
        X32[:50], np.where(YR[:50] > 0, np.nan, YR[:50])),
    "regressor object y": lambda e: e.partial_fit(X32[:50], np.full(50, "a", dtype=object)),
    "regressor column y": lambda e: e.partial_fit(X32[:50], YR[:50, None]),
    "regressor short y": lambda e: e.partial_fit(X32[:50], YR[:40]),
}
# accepted, with scikit-learn's conversions (and no message)
ACCEPTED = {
    "int X": lambda e: e.partial_fit((X32[:50] * 10).astype(int), Y[:50]),
    "float16 X": lambda e: e.partial_fit(X32[:50].astype(np.float16), Y[:50]),
    "list X": lambda e: e.partial_fit(X32[:50].tolist(), Y[:50].tolist()),
    "F-ordered X": lambda e: e.partial_fit(np.asfortranarray(X32[:50]), Y[:50]),
    "float labels of int classes": lambda e: e.partial_fit(X32[:50], Y[:50] * 1.0),
    "int32 labels": lambda e: e.partial_fit(X32[:50], Y[:50].astype(np.int32)),
    "classes= reordered": lambda e: e.partial_fit(X32[:50], Y[:50], classes=CLASSES[::-1]),
    "classes= other dtype": lambda e: e.partial_fit(X32[:50], Y[:50],
                                                    classes=CLASSES.astype(np.int32)),
    "huge finite X": lambda e: e.partial_fit(X32[:50] * 1e37, Y[:50]),
    "numeric strings X": lambda e: e.partial_fit(X32[:50].astype(str), Y[:50]),
}


def _mutated_classes(m):
    classes = CLASSES.copy()
    est = _streaming(m, classes=classes)
    classes[0] = 17
    est.partial_fit(X32[:50], Y[:50], classes=classes)


SPECIAL = {
    "classes= mutated in place": _mutated_classes,
    "classes_ of float labels": lambda m: _streaming(m, classes=CLASSES.astype(float))
    .partial_fit(X32[:50], Y[:50] + 0.5, classes=CLASSES.astype(float)),
    "arrays after a DataFrame": lambda m: _streaming(
        m, X0=_pd().DataFrame(X32, columns=[f"f{i}" for i in range(8)]))
    .partial_fit(X32[:50], Y[:50]),
}


def _case(name):
    if name in CALLS:
        return lambda m: CALLS[name](_streaming(m))
    if name in REG_CALLS:
        return lambda m: REG_CALLS[name](_streaming(m, "reg"))
    if name in ACCEPTED:
        return lambda m: ACCEPTED[name](_streaming(m))
    return SPECIAL[name]


@pytest.mark.parametrize("case", sorted({**CALLS, **REG_CALLS, **ACCEPTED, **SPECIAL}))
def test_errors_and_warnings_are_sklearns_in_a_stream(case):
    if "DataFrame" in case:
        _pd()
    ours = outcome(cymlp, _case(case))
    with np.errstate(all="ignore"):  # scikit-learn's own float16 / huge-X warnings
        theirs = outcome(skn, _case(case))
    if case in ACCEPTED:
        assert ours[0] is None and theirs[0] is None
        return
    assert ours[0] is not None or ours[1], "the case should raise or warn"
    assert ours == theirs


@pytest.mark.parametrize("case", sorted({**CALLS, **REG_CALLS}))
def test_failed_stream_call_changes_nothing(case):
    if "DataFrame" in case:
        _pd()
    est = _streaming(cymlp, "reg" if case in REG_CALLS else "clf")
    before = copy.deepcopy(est)
    buffers = [est._params, est._optimizer.state1, est._optimizer.state2]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            (REG_CALLS if case in REG_CALLS else CALLS)[case](est)
        except ValueError:
            pass
        else:
            return  # a warning only (column y, feature names): the call trained
    assert_same_state(est, before)
    assert [est._params, est._optimizer.state1, est._optimizer.state2] == buffers
    # and it streams on as if the call had not happened
    est.partial_fit(X32[200:], Y[200:] if case not in REG_CALLS else YR[200:])
    before.partial_fit(X32[200:], Y[200:] if case not in REG_CALLS else YR[200:])
    assert_same_state(est, before)


def test_assume_finite_skips_the_check_as_sklearn():
    call = _case("inf in X")
    with config_context(assume_finite=True), np.errstate(all="ignore"):
        ours = outcome(cymlp, call)
        theirs = outcome(skn, call)
    # no input check: both train on the infinities (and refuse the weights)
    for result in (ours, theirs):
        assert result[0] is not None and "non-finite parameter weights" in result[0][1]


# ----------------------------------------------------------------------
# the scratch itself
# ----------------------------------------------------------------------
def test_seeded_is_a_fresh_randomstate_and_never_the_current_one():
    scratch = _scratch.Scratch()
    current = None
    seen = set()
    for seed in [0, 0, 5, 2**32 - 1, np.int64(3), True]:
        rng = scratch.seeded(seed, current)
        assert rng is not current
        ref = np.random.RandomState(seed).get_state()
        got = rng.get_state()
        assert got[0] == ref[0] and got[2:] == ref[2:]
        np.testing.assert_array_equal(got[1], ref[1])
        rng.standard_normal()  # leaves a cached gauss behind: reseeding clears it
        rng.shuffle(np.arange(10))
        current = rng
        seen.add(id(rng))
    assert len(seen) == 2
    with pytest.raises(ValueError, match=r"Seed must be between 0 and 2\*\*32 - 1"):
        scratch.seeded(-1, current)


def test_scratch_is_never_part_of_the_model():
    est = _clf()
    est.partial_fit(X32, Y, classes=CLASSES)
    assert _scratch.peek(est) is not None
    assert set(est.__dict__) == set(copy.deepcopy(est).__dict__)
    for other in (copy.deepcopy(est), pickle.loads(pickle.dumps(est)), copy.copy(est)):
        assert _scratch.peek(other) is None
    quiet(est.set_params(max_iter=2).fit, X32, Y)
    assert _scratch.peek(est) is None  # fit keeps none of partial_fit's buffers


def test_scratch_dies_with_the_estimator():
    import gc
    import weakref

    est = _clf()
    est.partial_fit(X32, Y, classes=CLASSES)
    ref = weakref.ref(est)
    del est
    gc.collect()
    assert ref() is None  # the scratch does not keep it alive
    assert all(k is not None for k in _scratch._TABLE.keys())


def test_engine_objects_are_reused_only_when_everything_matches():
    est = _clf()
    est.partial_fit(X32[:100], Y[:100], classes=CLASSES)
    first = _scratch.peek(est)._engine
    est.partial_fit(X32[100:200], Y[100:200])
    assert _scratch.peek(est)._engine is first  # the same objects: reused
    for change in [dict(batch_size=10), dict(activation="tanh"), dict(shuffle=False)]:
        est.set_params(**change)
        est.partial_fit(X32[:100], Y[:100])
        assert _scratch.peek(est)._engine is not first
        first = _scratch.peek(est)._engine
    est.partial_fit(X[:100], Y[:100])  # float64 X on a float32 model: trains in float32
    assert _scratch.peek(est)._engine is first


def test_a_long_stream_snapshot_does_not_copy_the_loss_curve(monkeypatch):
    est = _clf()
    for _ in range(30):
        est.partial_fit(X32[:20], Y[:20], classes=CLASSES)
    snap = est._snapshot(_scratch.peek(est))
    assert snap["loss_curve_"] is est.loss_curve_  # kept by reference, restored by length
    n = len(est.loss_curve_)
    est.loss_curve_.append(1.0)
    est._restore(snap)
    assert len(est.loss_curve_) == n


def test_a_plain_stream_call_skips_only_checks_known_to_pass(monkeypatch):
    """After the first calls, a plain chunk (float ndarray X, int labels in
    classes_, the same classes=) runs none of scikit-learn's per-call checks
    nor builds a RandomState; anything else still does (see the error tests)."""
    import cymlp._base
    import cymlp._estimators

    est = _clf()
    est.partial_fit(X32[:50], Y[:50], classes=CLASSES)
    est.partial_fit(X32[50:100], Y[50:100], classes=CLASSES)
    calls = []

    def counted(name, fn):
        def spy(*args, **kwargs):
            calls.append(name)
            return fn(*args, **kwargs)
        return spy

    for mod, name in [(cymlp._base, "validate_data"),
                      (cymlp._estimators, "unique_labels"),
                      (cymlp._estimators, "_check_partial_fit_first_call"),
                      (cymlp._base, "check_random_state")]:
        monkeypatch.setattr(mod, name, counted(name, getattr(mod, name)))
    est.partial_fit(X32[100:150], Y[100:150], classes=CLASSES)
    assert calls == []
    # no classes= on a fitted model: scikit-learn's check returns False and
    # changes nothing (_check_partial_fit_first_call), so the lean path skips it
    est.partial_fit(X32[150:200], Y[150:200])
    assert calls == []
    est.partial_fit(X32[150:200].tolist(), Y[150:200], classes=CLASSES[::-1])
    assert calls == ["_check_partial_fit_first_call", "validate_data"]
