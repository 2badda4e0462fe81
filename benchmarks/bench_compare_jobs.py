"""Wall time of compare() with n_jobs=1 against n_jobs=2 (no oversubscription).

Two LipNet-4 pipelines and the SVM baseline on synthetic liposomes, 3 folds.
With n_jobs=2 each joblib worker runs cores/2 torch and BLAS threads
(sklipo._threads); the two settings run interleaved and the medians are
compared, so a load shared with other programs hits both alike.

Run: python benchmarks/bench_compare_jobs.py [--repeat 3]
"""

import argparse
import os
import statistics
import time

import torch
from sklearn.pipeline import make_pipeline

from sklipo import get_threads
from sklipo.classifier import LipNetClassifier
from sklipo.compare import compare
from sklipo.datasets import make_liposomes
from sklipo.features import make_svm_baseline
from sklipo.preprocessing import CropParticle, Resize


def models():
    def lipnet(seed):
        net = LipNetClassifier("lipnet4", max_epochs=3, augment=None, random_state=seed)
        return make_pipeline(CropParticle("masked"), Resize(28), net)

    return {"lipnet4_a": lipnet(0), "lipnet4_b": lipnet(1), "svm": make_svm_baseline()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-particles", type=int, default=600)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(get_threads())
    X, y = make_liposomes(
        n_samples=args.n_particles, weights=[1, 1, 1], random_state=0, return_X_y=True
    )
    compare(models(), X[:60], y[:60], cv=2, n_jobs=2)  # start the workers
    times = {1: [], 2: []}
    for _ in range(args.repeat):
        for n_jobs in (1, 2):
            start = time.perf_counter()
            compare(models(), X, y, cv=3, n_jobs=n_jobs)
            times[n_jobs].append(time.perf_counter() - start)
    one, two = (statistics.median(times[k]) for k in (1, 2))
    print(f"compare, 3 models x 3 folds, {len(y)} particles, {get_threads()} cores, "
          f"median of {args.repeat}, load average {os.getloadavg()}")
    print(f"n_jobs=1  {one:7.1f} s")
    print(f"n_jobs=2  {two:7.1f} s   speed-up {one / two:.2f}x  (target > 1)")


if __name__ == "__main__":
    main()
