"""Peak memory of oversampling a 20,000-particle set tenfold.

Index-based resampling through :class:`sklipo.sampling.ParticleSampler`
returns a ParticleSet that shares the input's pixel buffers, so its peak
memory should be a small fraction of the pixel data, whereas copying the
selected particles would cost ten times the pixel data.

Run: python benchmarks/bench_sampling_memory.py
"""

import time
import tracemalloc

import numpy as np
from imblearn.over_sampling import RandomOverSampler

from sklipo import ParticleSet
from sklipo.sampling import ParticleSampler

N_PARTICLES = 20_000
FACTOR = 10


def main():
    rng = np.random.default_rng(0)
    sides = rng.integers(40, 100, size=(N_PARTICLES, 2))
    images = [np.full(tuple(s), i % 65535, dtype=np.uint16) for i, s in enumerate(sides)]
    X = ParticleSet(images, pixel_size=1.0)
    y = np.arange(N_PARTICLES) % 2
    pixel_bytes = sum(im.nbytes for im in X.images) + sum(m.nbytes for m in X.masks)
    target = {0: N_PARTICLES * FACTOR // 2, 1: N_PARTICLES * FACTOR // 2}
    sampler = ParticleSampler(RandomOverSampler(sampling_strategy=target, random_state=0))

    tracemalloc.start()
    start = time.perf_counter()
    X_res, y_res = sampler.fit_resample(X, y)
    seconds = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    shared = all(X_res.images[k] is X.images[i] for k, i in enumerate(sampler.sample_indices_))
    mb = 1024**2
    print(f"input: {len(X):,} particles, images + masks {pixel_bytes / mb:,.1f} MiB")
    print(f"output: {len(X_res):,} particles ({len(X_res) / len(X):.0f}x), buffers shared: {shared}")
    print(f"fit_resample: {seconds:.2f} s, peak traced memory {peak / mb:,.1f} MiB "
          f"({peak / pixel_bytes:.1%} of the pixel data)")
    print(f"copying the selected particles would take {FACTOR * pixel_bytes / mb:,.1f} MiB")


if __name__ == "__main__":
    main()
