"""Prediction throughput of LipNetClassifier per architecture (particles/s).

Fixed-size nets at the study's sizes (28x28; 32x32 for LipNet-6), and the
fully convolutional net on a ParticleSet of 24-40 px particles; 2 torch threads.

Run: python benchmarks/bench_lipnet_predict.py
"""

import time

import numpy as np
import torch

from sklipo import ParticleSet
from sklipo.classifier import LipNetClassifier
from sklipo.nets import ARCHITECTURES

N_SAMPLES = 2048
N_REPEATS = 3


def best_rate(clf, X):
    times = []
    for _ in range(N_REPEATS):
        start = time.perf_counter()
        clf.predict(X)
        times.append(time.perf_counter() - start)
    return N_SAMPLES / min(times)


def main():
    torch.set_num_threads(2)
    rng = np.random.RandomState(0)
    y = rng.randint(3, size=N_SAMPLES)
    print(f"predict, batch 32, {N_SAMPLES} particles, 2 threads, best of {N_REPEATS}")
    for architecture in ARCHITECTURES[:-1]:  # the last, lipnet_fcn, below
        size = 32 if architecture == "lipnet6" else 28
        X = rng.rand(N_SAMPLES, size, size).astype(np.float32)
        clf = LipNetClassifier(architecture, max_epochs=1, random_state=0).fit(X[:64], y[:64])
        print(f"{architecture:10s} {size}x{size}  {best_rate(clf, X):8.0f} particles/s")
    sides = rng.randint(24, 41, size=(N_SAMPLES, 2))
    X = ParticleSet([rng.rand(h, w).astype(np.float32) for h, w in sides])
    clf = LipNetClassifier("lipnet_fcn", max_epochs=1, random_state=0).fit(X[:64], y[:64])
    print(f"{'lipnet_fcn':10s} 24-40 px  {best_rate(clf, X):8.0f} particles/s")


if __name__ == "__main__":
    main()
