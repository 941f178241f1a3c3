"""est.save from many threads at once: each write goes through its own
temporary file, so concurrent saves to one path never collide (the file name
was path.<pid>.tmp, shared by every thread of a process)."""

import threading

import numpy as np
from sklearn.datasets import make_classification

import cymlp
from _util import quiet


def test_concurrent_saves_to_one_path(tmp_path):
    X, y = make_classification(n_samples=200, n_features=10, random_state=0)
    models = [quiet(cymlp.MLPClassifier(hidden_layer_sizes=(h,), max_iter=5,
                                        random_state=0).fit, X, y) for h in range(3, 11)]
    path = tmp_path / "model.cymlp"
    errors = []
    start = threading.Barrier(len(models))

    def save(model):
        try:
            start.wait()
            for _ in range(20):
                model.save(path)
        except Exception as exc:   # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=save, args=(m,)) for m in models]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    loaded = cymlp.load(path)          # whole: one of the models, not a mixture
    twin = [m for m in models if m.coefs_[0].shape == loaded.coefs_[0].shape]
    assert len(twin) == 1
    for a, b in zip(twin[0].coefs_ + twin[0].intercepts_, loaded.coefs_ + loaded.intercepts_):
        np.testing.assert_array_equal(a, b)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.cymlp"]   # no leftovers
