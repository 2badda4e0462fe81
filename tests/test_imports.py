"""The feature and SVM path works without torch or skorch installed.

Each check runs in a fresh interpreter in which importing the blocked packages
fails as if they were not installed. ``sys.modules["torch"] = None`` would be
shorter, but SciPy's array-API helpers look ``torch`` up in ``sys.modules``
whenever the key is present and fail on None (with SciPy 1.17, even
``import scipy.stats`` raises ``AttributeError``), so that would test SciPy,
not sklipo.
"""

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

BLOCK = """
import importlib.abc
import sys


class _Blocker(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in {blocked!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}} (blocked)", name=name)


sys.meta_path.insert(0, _Blocker())
"""

SVM_PATH = """
import numpy as np

import sklipo.augmentation
import sklipo.compare
import sklipo.datasets
import sklipo.features
import sklipo.metrics
import sklipo.preprocessing
import sklipo.sampling
from sklipo.datasets import make_liposomes
from sklipo.features import make_svm_baseline
from sklipo.preprocessing import CropParticle, Resize

X, y = make_liposomes(n_samples=24, weights=[1, 1, 1], random_state=0, return_X_y=True)
svm = make_svm_baseline(["area", "radial_profile"]).fit(X, y)
assert svm.predict(X).shape == (24,)
images = Resize(16).fit_transform(CropParticle().fit_transform(X))
assert images.shape == (24, 1, 16, 16) and np.isfinite(images).all()
blocked = sorted(name for name in {blocked!r} if name in sys.modules)
assert not blocked, blocked
print("ok")
"""


def _run(code):
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300
    )


@pytest.mark.parametrize("blocked", [("torch",), ("skorch",)], ids=["torch", "skorch"])
def test_svm_path_runs_without(blocked):
    """Check that the feature packages import and the SVM baseline fits without `blocked`."""
    code = textwrap.dedent(BLOCK + SVM_PATH).format(blocked=set(blocked))
    result = _run(code)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr


def test_blocker_blocks():
    """Check that the blocked import really fails (the test above is not vacuous)."""
    code = BLOCK.format(blocked={"torch"}) + "import torch\n"
    result = _run(code)
    assert result.returncode != 0 and "No module named 'torch' (blocked)" in result.stderr
