"""Benchmark: how fast make_liposomes draws the synthetic data set on one core.

Draws 10,000 particles per problem with one thread for NumPy's BLAS and prints
particles per second, the best of a few repeats, by wall-clock time and by the
process's CPU time (the second is the steadier figure on a shared machine).

Run: python benchmarks/bench_make_liposomes.py [--n-samples 10000] [--repeat 3]
"""

# License: BSD 3 clause

import os

# Before NumPy is imported: one thread for every BLAS NumPy may be built with.
for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_name] = "1"

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from sklipo.datasets import make_liposomes  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    print(f"make_liposomes, {args.n_samples} particles, 1 thread, best of {args.repeat}")
    for problem in ("lamellarity", "encapsulation"):
        wall = cpu = np.inf
        for seed in range(args.repeat):
            X = None  # free the previous set before drawing the next
            start, start_cpu = time.perf_counter(), time.process_time()
            X, _ = make_liposomes(problem, args.n_samples, random_state=seed, return_X_y=True)
            wall = min(wall, time.perf_counter() - start)
            cpu = min(cpu, time.process_time() - start_cpu)
        pixels = X.sizes.prod(axis=1)
        print(
            f"{problem:>13}: {args.n_samples / wall:6.0f} particles/s wall ({wall:.2f} s), "
            f"{args.n_samples / cpu:6.0f} particles/s CPU ({cpu:.2f} s); mean cut-out "
            f"{np.sqrt(pixels.mean()):.0f} px a side; "
            f"{pixels.sum() * 5 / 1e6:.0f} MB of float32 images and bool masks"
        )


if __name__ == "__main__":
    main()
