"""Throughput of CropParticle("masked") + Resize(28) against a naive loop.

The naive version is what a user would write: for each particle, crop to the
mask's box, set the outside to the background median, and call
``skimage.transform.resize(..., anti_aliasing=True)``. Both run on one thread.

Run: python benchmarks/bench_preprocessing.py [n_particles]
"""

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
from skimage.transform import resize  # noqa: E402

from sklipo.datasets import make_liposomes  # noqa: E402
from sklipo.preprocessing import CropParticle, Resize  # noqa: E402


def naive(X, size):
    out = np.empty((len(X), 1, size, size), dtype=np.float32)
    for i, (image, mask, _, _) in enumerate(X):
        rows, cols = np.nonzero(mask)
        box = (slice(rows.min(), rows.max() + 1), slice(cols.min(), cols.max() + 1))
        crop = np.where(mask[box], image[box], np.median(image[~mask]))
        height, width = crop.shape
        side = max(height, width)
        padded = np.full((side, side), np.median(crop[[0, -1]]), dtype=np.float64)
        top, left = (side - height) // 2, (side - width) // 2
        padded[top : top + height, left : left + width] = crop
        out[i, 0] = resize(padded, (size, size), anti_aliasing=True)
    return out


def best_of(fn, repeat=3):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main(n=2000, size=28):
    torch.set_num_threads(1)
    X = make_liposomes("lamellarity", n_samples=n, random_state=0).data
    crop, resizer = CropParticle("masked"), Resize(size)
    ours = best_of(lambda: resizer.transform(crop.transform(X)))
    theirs = best_of(lambda: naive(X, size))
    print(f"{n} particles ({X!r}), output {size}x{size}, 1 thread")
    print(f"  sklipo CropParticle+Resize : {n / ours:10.0f} particles/s  ({ours:.2f} s)")
    print(f"  naive skimage loop         : {n / theirs:10.0f} particles/s  ({theirs:.2f} s)")
    print(f"  speed-up                   : {theirs / ours:10.1f}x")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
