"""cymlp: scikit-learn's multilayer perceptrons, compiled.

``cymlp.MLPClassifier`` (alias ``cymlp.MLP``) and ``cymlp.MLPRegressor`` are
drop-in replacements for ``sklearn.neural_network.MLPClassifier`` and
``MLPRegressor`` whose training loop runs in Cython, without the GIL.
"""

from cymlp._estimators import MLP, MLPClassifier, MLPRegressor
from cymlp._persist import load
from cymlp._show_versions import show_versions
from cymlp._version import __version__

__all__ = ["MLP", "MLPClassifier", "MLPRegressor", "load", "show_versions", "__version__"]
