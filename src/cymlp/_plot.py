"""A picture of training: the loss curve and, with early stopping, the validation score.

Used by ``python -m cymlp --plot curves.png``. Needs matplotlib (the optional
``plot`` extra: ``pip install "cymlp[plot]"``); it draws on a bare
``matplotlib.figure.Figure``, so it neither needs nor changes a pyplot backend.
"""

MISSING = ('drawing the training curves needs matplotlib, which is not installed: '
           'pip install "cymlp[plot]" (or pip install matplotlib)')


def check_matplotlib():
    """Raise ImportError with an installation hint if matplotlib is missing."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise ImportError(MISSING) from None


def plot_training(est, path, title=None):
    """Save a figure of ``est.loss_curve_`` (and ``est.validation_scores_``) to ``path``.

    The loss is on the left axis (log scale), the validation score on the right
    one, with the epoch whose weights early stopping kept marked (a dotted line). Returns the
    matplotlib Figure.
    """
    check_matplotlib()
    from matplotlib.figure import Figure

    loss = getattr(est, "loss_curve_", None)
    if not loss:
        raise ValueError("the estimator has no loss_curve_ to draw (fit it with "
                         "solver='sgd' or 'adam' first)")
    scores = getattr(est, "validation_scores_", None)
    epochs = range(1, len(loss) + 1)

    fig = Figure(figsize=(7.5, 4.5), dpi=120, layout="constrained")
    ax = fig.add_subplot()
    ax.plot(epochs, loss, color="#1f77b4", marker="o", markersize=3, label="training loss")
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss", color="#1f77b4")
    ax.tick_params(axis="y", labelcolor="#1f77b4")
    if min(loss) > 0:
        ax.set_yscale("log")
    ax.grid(True, which="major", alpha=0.3)
    handles = ax.get_lines()[:]
    if scores:
        ax2 = ax.twinx()
        ax2.plot(epochs, scores, color="#d62728", marker="s", markersize=3,
                 label="validation score")
        best = max(range(len(scores)), key=lambda i: scores[i])
        kept = ax2.axvline(best + 1, color="#d62728", linestyle=":", alpha=0.8,
                           label=f"kept: epoch {best + 1} (best score {scores[best]:.4f})")
        ax2.set_ylabel("validation score", color="#d62728")
        ax2.tick_params(axis="y", labelcolor="#d62728")
        handles += [ax2.get_lines()[0], kept]
    fig.legend(handles, [h.get_label() for h in handles], loc="outside lower center",
               ncols=len(handles), frameon=False)
    ax.set_title(title or f"{type(est).__name__}: {len(loss)} epochs")
    fig.savefig(path)
    return fig
