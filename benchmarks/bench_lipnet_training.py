"""Training time of LipNetClassifier against a hand-written PyTorch loop.

LipNet-4 on 28x28 images, batch size 32, 2 torch threads. Prints the best of
several repetitions of each, and the ratios the issue asks for:
sklipo/raw <= 1.10 without augmentation, augmentation adding <= 25 %.

Run: python benchmarks/bench_lipnet_training.py
"""

import time

import numpy as np
import torch

from sklipo.classifier import LipNetClassifier
from sklipo.nets import LipNet

N_SAMPLES = 1024
N_EPOCHS = 2
N_REPEATS = 3
BATCH_SIZE = 32


def raw_loop(X, y):
    """The same model, loss, optimiser and batches, in plain PyTorch."""
    torch.manual_seed(0)
    X = torch.from_numpy((X - X.mean()) / X.std())[:, None]
    y = torch.from_numpy(y)
    module = LipNet("lipnet4", input_shape=(28, 28), n_classes=3)
    optimizer = torch.optim.Adam(module.parameters(), lr=1e-3)
    criterion = torch.nn.CrossEntropyLoss(label_smoothing=0.1)
    module.train()
    for _ in range(N_EPOCHS):
        order = torch.randperm(len(X))
        for start in range(0, len(X), BATCH_SIZE):
            batch = order[start : start + BATCH_SIZE]
            optimizer.zero_grad()
            loss = criterion(module(X[batch]), y[batch])
            loss.backward()
            optimizer.step()
            loss.item()


def sklipo_fit(X, y, augment):
    LipNetClassifier(
        "lipnet4", max_epochs=N_EPOCHS, batch_size=BATCH_SIZE, augment=augment, random_state=0
    ).fit(X, y)


def best_time(func, *args):
    times = []
    for _ in range(N_REPEATS):
        start = time.perf_counter()
        func(*args)
        times.append(time.perf_counter() - start)
    return min(times)


def main():
    torch.set_num_threads(2)
    rng = np.random.RandomState(0)
    X = rng.rand(N_SAMPLES, 28, 28).astype(np.float32)
    y = rng.randint(3, size=N_SAMPLES)
    sklipo_fit(X[:64], y[:64], None)  # warm-up
    raw = best_time(raw_loop, X, y)
    plain = best_time(sklipo_fit, X, y, None)
    augmented = best_time(sklipo_fit, X, y, "study")
    n = N_SAMPLES * N_EPOCHS
    print(f"LipNet-4, 28x28, batch {BATCH_SIZE}, {n} samples seen, 2 threads, best of {N_REPEATS}")
    print(f"raw PyTorch loop        {raw:7.2f} s  {n / raw:7.0f} samples/s")
    print(f"sklipo, no augmentation {plain:7.2f} s  {n / plain:7.0f} samples/s")
    print(f"sklipo, augment='study' {augmented:7.2f} s  {n / augmented:7.0f} samples/s")
    print(f"ratio sklipo/raw (no augmentation): {plain / raw:.3f}  (target <= 1.10)")
    print(f"augmentation overhead:             {augmented / plain - 1:+.1%}  (target <= +25 %)")


if __name__ == "__main__":
    main()
