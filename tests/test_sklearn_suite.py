"""scikit-learn's own MLP tests, pointed at cymlp: the judge of "drop-in".

scikit-learn ships ``sklearn/neural_network/tests/test_mlp.py`` in its wheel. It
is copied here with its one import of MLPClassifier/MLPRegressor rewritten to
cymlp's, beside scikit-learn's own ``conftest.py`` (for fixtures such as
``global_random_seed``), and run by pytest in a subprocess. Every test must pass
except those that read or write scikit-learn's private attributes
(``_loss_grad_lbfgs``, ``_optimizer``, ``_no_improvement_count``, ...): cymlp
keeps only those that mean the same in its engine. Those may fail; which of them pass is printed.
"""

import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import sklearn

SKLEARN = Path(sklearn.__file__).parent
TEST_MLP = SKLEARN / "neural_network" / "tests" / "test_mlp.py"
IMPORT = "from sklearn.neural_network import MLPClassifier, MLPRegressor\n"

# scikit-learn's tests of its private attributes (see the README's Differences)
PRIVATE = {
    "test_fit",                      # writes _coef_grads, _coef_velocity, ...
    "test_gradient",                 # calls _loss_grad_lbfgs
    "test_learning_rate_warmstart",  # reads _optimizer.learning_rate
    "test_adaptive_learning_rate",   # reads _optimizer.learning_rate
    "test_n_iter_no_change",         # reads _no_improvement_count
    "test_n_iter_no_change_inf",     # reads _no_improvement_count
}


def _outcomes(junit):
    """{test id: 'passed' | 'failed' | 'skipped'} from pytest's junit xml."""
    out = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        kind = "passed"
        for child in case:
            if child.tag in ("failure", "error"):
                kind = "failed"
            elif child.tag == "skipped":
                kind = "skipped"
        out[case.get("name")] = kind
    return out


@pytest.mark.skipif(not TEST_MLP.exists(), reason="this scikit-learn ships no tests")
def test_sklearn_test_mlp_passes_on_cymlp(tmp_path):
    text = TEST_MLP.read_text(encoding="utf-8")
    assert text.count(IMPORT) == 1, "scikit-learn's test_mlp.py imports its MLPs differently"
    (tmp_path / "test_mlp_cymlp.py").write_text(
        text.replace(IMPORT, "from cymlp import MLPClassifier, MLPRegressor\n"), encoding="utf-8"
    )
    (tmp_path / "conftest.py").write_text(
        (SKLEARN / "conftest.py").read_text(encoding="utf-8"), encoding="utf-8"
    )
    junit = tmp_path / "junit.xml"
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "test_mlp_cymlp.py", "-q", "-p", "no:cacheprovider",
         f"--junitxml={junit}", "--rootdir", str(tmp_path)],
        cwd=tmp_path, capture_output=True, text=True,
    )
    assert junit.exists(), proc.stdout + proc.stderr
    outcomes = _outcomes(junit)
    assert len(outcomes) > 40, proc.stdout
    failed = {name for name, kind in outcomes.items() if kind == "failed"}
    unexpected = sorted(n for n in failed if re.sub(r"\[.*\]$", "", n) not in PRIVATE)
    assert not unexpected, f"scikit-learn's tests failing on cymlp: {unexpected}\n{proc.stdout}"
    private_passing = sorted(n for n in outcomes if re.sub(r"\[.*\]$", "", n) in PRIVATE
                             and outcomes[n] == "passed")
    print(f"{len(outcomes)} tests; private-attribute tests that pass anyway: {private_passing}")
