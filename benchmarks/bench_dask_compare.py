"""compare on a Dask LocalCluster against the sequential run: same folds, wall times.

Run: ``python benchmarks/bench_dask_compare.py`` (600 particles, 3 models x 5
folds, a few minutes on 2 cores) or ``--full`` (3,000 particles, 5 epochs).

Writes synthetic liposomes into a particle store, then runs
:func:`sklipo.compare.compare` on the stored set twice: sequentially (one
process, one torch thread) and on a ``LocalCluster`` of 2 single-threaded
worker processes (``sklipo.utils.dask_backend("local:2")``), where each task
reads its particles from the store. Prints both wall times (the cluster's
includes starting it) and whether the confusion matrices of every (model,
fold) are identical. The three models: LipNet-4 (crop, normalise, resize to
28 px), the handcrafted-feature SVM, and a logistic regression on pixels.
"""

import argparse
import os

# the workers of a LocalCluster start with one OpenMP thread; so does this process,
# so that torch sets itself up alike in both
os.environ.setdefault("OMP_NUM_THREADS", "1")

import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402


def _models(epochs):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from sklipo.classifier import LipNetClassifier
    from sklipo.features import make_svm_baseline
    from sklipo.preprocessing import CropParticle, Flatten, IntensityNormalizer, Resize

    def prep():
        return [CropParticle(), IntensityNormalizer("quantile"), Resize(28)]

    return {
        "lipnet4": make_pipeline(
            *prep(), LipNetClassifier(max_epochs=epochs, balanced_batches=True, random_state=0)
        ),
        "svm": make_svm_baseline(),
        "logistic": make_pipeline(
            *prep(), Flatten(), LogisticRegression(class_weight="balanced", C=0.01, max_iter=500)
        ),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true")
    parser.add_argument("--n", type=int, default=None)
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    n = args.n or (3000 if args.full else 600)
    epochs = args.epochs or (5 if args.full else 2)

    import torch

    from sklipo.compare import compare
    from sklipo.datasets import load_particles, make_liposomes, save_particles
    from sklipo.utils import dask_backend

    torch.set_num_threads(1)
    print(f"load average before: {Path('/proc/loadavg').read_text().split()[:3]}")
    X, y = make_liposomes(n_samples=n, weights=[1, 1, 1], return_X_y=True, random_state=0)
    store = save_particles(X, y, Path(tempfile.mkdtemp()) / "compare.zarr", format="zarr")
    Z, yz = load_particles(store, return_X_y=True)
    models = _models(epochs)

    start = time.perf_counter()
    sequential = compare(models, Z, yz, cv=5)
    t_seq = time.perf_counter() - start
    start = time.perf_counter()
    with dask_backend(f"local:{args.workers}"):
        started = time.perf_counter() - start
        distributed = compare(models, Z, yz, cv=5)
    t_dask = time.perf_counter() - start

    same = np.array_equal(sequential.confusion_matrices, distributed.confusion_matrices)
    print(f"{n} particles, 3 models x 5 folds, LipNet-4 {epochs} epochs")
    print(f"sequential: {t_seq:.1f} s")
    print(
        f"LocalCluster of {args.workers} single-thread workers: {t_dask:.1f} s "
        f"(of which {started:.1f} s starting it); speed-up {t_seq / t_dask:.2f}x"
    )
    print(f"all {distributed.confusion_matrices.shape[0] * 5} confusion matrices identical: {same}")
    for m, name in enumerate(models):
        equal = np.array_equal(sequential.confusion_matrices[m], distributed.confusion_matrices[m])
        print(f"  {name}: identical {equal}")
    print(f"fold status on the cluster: {sorted(set(distributed.status.ravel().tolist()))}")
    print(f"load average after: {Path('/proc/loadavg').read_text().split()[:3]}")


if __name__ == "__main__":
    main()
