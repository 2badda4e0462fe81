"""Attribution throughput: one batched call vs. one particle at a time.

LipNet-4 on 28x28 images, a batch of 256 particles, 1 torch thread, best of 3.
Rates are particles per second of the process's CPU time, which other jobs on
a shared machine disturb far less than wall-clock time.
For each method: ``attribution(clf, X)`` (one forward and one backward pass per
256 particles), ``attribution(clf, X, batch_size=1)`` (one pass per particle,
in one call) and a naive Python loop calling ``attribution`` on each particle.

Run: python benchmarks/bench_inspection.py
"""

import time

import numpy as np
import torch

from sklipo.classifier import LipNetClassifier
from sklipo.inspection import ATTRIBUTION_METHODS, attribution

N_SAMPLES = 256
N_REPEATS = 3


def best_rate(function):
    times = []
    for _ in range(N_REPEATS):
        start = time.process_time()
        function()
        times.append(time.process_time() - start)
    return N_SAMPLES / min(times)


def main():
    torch.set_num_threads(1)
    rng = np.random.RandomState(0)
    X = rng.rand(N_SAMPLES, 28, 28).astype(np.float32)
    y = rng.randint(3, size=N_SAMPLES)
    clf = LipNetClassifier("lipnet4", max_epochs=1, random_state=0).fit(X, y)
    print(
        f"attribution, lipnet4 28x28, {N_SAMPLES} particles, 1 thread, "
        f"particles per CPU second, best of {N_REPEATS}"
    )
    print(f"{'method':16s} {'batched':>10s} {'batch_size=1':>13s} {'naive loop':>11s}")
    for method in ATTRIBUTION_METHODS:
        batched = best_rate(lambda: attribution(clf, X, method=method))
        one_pass_each = best_rate(lambda: attribution(clf, X, method=method, batch_size=1))
        loop = best_rate(
            lambda: [attribution(clf, X[i : i + 1], method=method) for i in range(N_SAMPLES)]
        )
        print(
            f"{method:16s} {batched:10.0f} {one_pass_each:13.0f} {loop:11.0f}"
            f"  (batched {batched / loop:.0f}x the naive loop)"
        )


if __name__ == "__main__":
    main()
