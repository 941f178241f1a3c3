"""python -m cymlp --plot curves.png [--early-stopping]: the training curves, drawn with
matplotlib (the optional plot extra), and a clear message without it."""

import sys
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from cymlp import MLPClassifier, _plot
from cymlp.__main__ import main


def test_plot_from_the_command_line(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    path = tmp_path / "curves.png"
    assert main(["--plot", str(path), "--early-stopping", "--epochs", "4"]) == 0
    out = capsys.readouterr().out
    assert f"training curves drawn in {path}" in out
    assert "best validation score" in out and "Validation score" in out
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000


def test_the_figure_draws_the_fitted_curves(tmp_path):
    pytest.importorskip("matplotlib")
    rng = np.random.RandomState(0)
    X, y = rng.randn(200, 4), np.arange(200) % 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = MLPClassifier((5,), max_iter=6, early_stopping=True, n_iter_no_change=99,
                            random_state=0).fit(X, y)
    fig = _plot.plot_training(est, tmp_path / "c.png")
    ax, ax2 = fig.axes
    loss_line, = ax.get_lines()
    score_line, kept = ax2.get_lines()
    np.testing.assert_array_equal(loss_line.get_ydata(), est.loss_curve_)
    np.testing.assert_array_equal(score_line.get_ydata(), est.validation_scores_)
    np.testing.assert_array_equal(loss_line.get_xdata(), np.arange(1, 7))
    best = int(np.argmax(est.validation_scores_)) + 1
    assert list(kept.get_xdata()) == [best, best]
    assert f"kept: epoch {best}" in kept.get_label()
    # without early stopping: the loss alone
    est.set_params(early_stopping=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
    assert len(_plot.plot_training(est, tmp_path / "d.png").axes) == 1
    with pytest.raises(ValueError, match="no loss_curve_"):
        _plot.plot_training(MLPClassifier(solver="lbfgs", max_iter=3).fit(X, y),
                            tmp_path / "e.png")


def test_without_matplotlib_a_clear_message(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib fails
    assert main(["--plot", str(tmp_path / "c.png"), "--epochs", "1"]) == 2
    err = capsys.readouterr().err
    assert "needs matplotlib" in err and 'pip install "cymlp[plot]"' in err
    assert not (tmp_path / "c.png").exists()
