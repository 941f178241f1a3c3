"""The former home of the estimators, kept so that pickles written by earlier
cymlp versions (which name ``cymlp._mlp.MLPClassifier`` and
``cymlp._mlp._Optimizer``) still load. New code imports from ``cymlp``."""

from cymlp._estimators import MLP, MLPClassifier, MLPRegressor
from cymlp._solvers import _Optimizer

__all__ = ["MLP", "MLPClassifier", "MLPRegressor", "_Optimizer"]
