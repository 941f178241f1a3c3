"""The classic network this project starts from, on scikit-learn's bundled digits:
two ReLU hidden layers, softmax output, cross-entropy, plain minibatch SGD."""

import subprocess
import sys
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

import cymlp


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_classic_network_on_digits(dtype):
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(dtype)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25,
                                                        random_state=0, stratify=y)
    clf = cymlp.MLP(hidden_layer_sizes=(128, 64), activation="relu", solver="sgd",
                    learning_rate_init=0.1, momentum=0.0, alpha=0.0, batch_size=32,
                    max_iter=30, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X_train, y_train)
    assert clf.out_activation_ == "softmax"
    assert clf.coefs_[0].dtype == dtype
    assert clf.score(X_test, y_test) > 0.95
    # the loss went down
    assert clf.loss_curve_[-1] < 0.2 * clf.loss_curve_[0]


def test_main_module_runs():
    out = subprocess.run([sys.executable, "-m", "cymlp", "--epochs", "5"],
                         capture_output=True, text=True, check=True).stdout
    assert "Iteration 5, loss = " in out
    assert "held-out accuracy" in out
    assert "training time" in out
