"""Particle stores: size, memory of passes over a big store, and read overhead in training.

Run: ``python benchmarks/bench_store.py`` (about 20,000 particles, a few
minutes on 2 cores) or ``python benchmarks/bench_store.py --full`` (500,000
particles: tens of minutes to build, and a long pass for each of
ParticleFeatures and the LipNet-4 epoch).

Steps (each in its own process, so its peak resident memory is its own):

1. **build**: draws ``--unique`` synthetic liposomes (8-bit, 8 px of
   surrounding) with ``make_liposomes`` in pieces of 5,000 and appends them
   to a zarr store with ``ParticleStoreWriter``; past ``--unique`` it appends
   the drawn pieces again, each time rotated or mirrored (one of the 8
   symmetries of the square, new ids), until ``--n`` particles: drawing
   500,000 liposomes alone takes over 15 minutes on 2 cores. Prints the
   time, the pixels' size in memory and the store's size on disk.
2. **features**: ``ParticleFeatures().fit_transform`` over the whole store
   (``n_jobs=1``), batch by batch. Prints time and peak RSS.
3. **epoch**: one epoch of LipNet-4 with ``CropParticle`` and ``Resize(28)``
   as its ``image_transformer``, streamed from the store. Prints time and
   peak RSS.
4. **overhead**: LipNet-4 fits of 1 and of ``--overhead-epochs`` (3) epochs
   on the first ``--overhead-n`` particles, read from the store (streamed)
   and from memory (the same particles, ``.load()``-ed first; cropping and
   resizing done up front), side by side in one process. Runs alternate
   store / memory (the first of a pair swaps every repeat), each starts with
   an empty decoded-block cache, and the best of ``--repeat`` is kept. Prints
   the times, the store's extra cost in per cent for 1 and for several
   epochs, and ``/proc/loadavg`` before and after.

The streamed fit reads its pixel statistics from a sample of about 8,192
particles (see ``sklipo.classifier._lazy_data.SCALING_SAMPLE``), not a full
pass.

``--progress-every`` prints the peak RSS while a pass runs, so a pass cut
short still reports it. Seeded; the machine may be shared: read
``/proc/loadavg`` beside the numbers.
"""

import argparse
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np


def _peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _loadavg():
    try:
        return Path("/proc/loadavg").read_text().split()[:3]
    except OSError:
        return ["?"]


def _dir_size(path):
    return sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file())


def build(args):
    from sklipo import ParticleSet
    from sklipo.datasets import ParticleStoreWriter, make_liposomes

    start = time.perf_counter()
    piece, pool, raw, drawn = 5000, [], 0, 0
    with ParticleStoreWriter(args.store, overwrite=True) as writer:
        k = 0
        while writer.n_particles_ < args.n:
            size = min(piece, args.n - writer.n_particles_)
            if writer.n_particles_ < args.unique:
                X, y = make_liposomes(
                    n_samples=size, surrounding=8, dtype="uint8", return_X_y=True,
                    random_state=k,
                )
                pool.append((X, y))
                drawn += size
            else:
                X, y = pool[k % len(pool)]
                turn, flip = (k // len(pool)) % 4, (k // len(pool) // 4) % 2

                def view(a, turn=turn, flip=flip):
                    a = np.rot90(a, turn)
                    return np.ascontiguousarray(a[:, ::-1] if flip else a)

                X = ParticleSet(
                    [view(a) for a in X.images[:size]],
                    [view(m) for m in X.masks[:size]],
                    pixel_size=X.pixel_size[:size],
                    ids=[f"{i}-v{k}" for i in X.ids[:size]],
                )
                y = y[:size]
            raw += sum(a.nbytes for a in X.images) + sum(m.nbytes for m in X.masks)
            writer.append(X, y)
            k += 1
            if args.progress_every and k % args.progress_every == 0:
                print(f"  built {writer.n_particles_} particles, {time.perf_counter() - start:.0f} s",
                      flush=True)
    seconds = time.perf_counter() - start
    print(
        f"build: {args.n} particles ({drawn} drawn) in {seconds:.0f} s; "
        f"pixels+masks in memory {raw / 2**30:.2f} GiB, store on disk "
        f"{_dir_size(args.store) / 2**30:.2f} GiB; peak RSS {_peak_rss_mb():.0f} MB"
    )


def features(args):
    from sklipo.datasets import load_particles
    from sklipo.features import ParticleFeatures

    X = load_particles(args.store).data
    if args.epoch_n:
        X = X[: args.epoch_n]
    start = time.perf_counter()
    pf = ParticleFeatures(n_jobs=1).fit(X)
    step = 8192
    # the output (n x 79 float64) is filled in place: no list of pieces to stack
    F = np.empty((len(X), len(pf.get_feature_names_out())))
    for begin in range(0, len(X), step):
        F[begin : begin + step] = pf.transform(X[begin : begin + step])
        if args.progress_every and (begin // step + 1) % args.progress_every == 0:
            print(f"  features: {begin + step} particles, {time.perf_counter() - start:.0f} s, "
                  f"peak RSS {_peak_rss_mb():.0f} MB", flush=True)
    print(
        f"features: {F.shape[0]} x {F.shape[1]} in {time.perf_counter() - start:.0f} s; "
        f"peak RSS {_peak_rss_mb():.0f} MB"
    )


def _lipnet(transformer=True, epochs=1):
    from sklearn.pipeline import make_pipeline

    from sklipo.classifier import LipNetClassifier
    from sklipo.preprocessing import CropParticle, Resize

    return LipNetClassifier(
        "lipnet4",
        image_transformer=make_pipeline(CropParticle(), Resize(28)) if transformer else None,
        max_epochs=epochs,
        batch_size=64,
        augment=None,
        random_state=0,
        verbose=0,
    )


def epoch(args):
    import torch

    from sklipo.datasets import load_particles

    torch.set_num_threads(args.threads)
    X, y = load_particles(args.store, return_X_y=True)
    if args.epoch_n:
        X, y = X[: args.epoch_n], y[: args.epoch_n]
    start = time.perf_counter()
    _lipnet().fit(X, y)
    print(
        f"epoch: LipNet-4, {len(X)} particles streamed in {time.perf_counter() - start:.0f} s; "
        f"peak RSS {_peak_rss_mb():.0f} MB"
    )


def overhead(args):
    import torch
    from sklearn.pipeline import make_pipeline

    from sklipo._stored_particles import forget_store
    from sklipo.datasets import load_particles
    from sklipo.preprocessing import CropParticle, Resize

    torch.set_num_threads(args.threads)

    def fresh():
        # a new reader: every run starts with an empty decoded-block cache
        forget_store(args.store)
        X, y = load_particles(args.store, return_X_y=True)
        return X[: args.overhead_n], y[: args.overhead_n]

    def from_store(epochs):
        X, y = fresh()
        start = time.perf_counter()
        _lipnet(epochs=epochs).fit(X, y)
        return time.perf_counter() - start

    def from_memory(epochs):
        X, y = fresh()
        start = time.perf_counter()
        images = make_pipeline(CropParticle(), Resize(28)).fit_transform(X.load())
        _lipnet(transformer=False, epochs=epochs).fit(images, y)
        return time.perf_counter() - start

    load_before = _loadavg()
    best = {}
    for rep in range(args.repeat):
        for epochs in (1, args.overhead_epochs):
            runs = [("store", from_store), ("memory", from_memory)]
            for where, run in runs if rep % 2 == 0 else runs[::-1]:
                seconds = run(epochs)
                best[where, epochs] = min(best.get((where, epochs), np.inf), seconds)
                print(f"  repeat {rep}, {epochs} epoch(s), {where}: {seconds:.1f} s "
                      f"(load {' '.join(_loadavg())})", flush=True)
    for epochs in (1, args.overhead_epochs):
        store, memory = best["store", epochs], best["memory", epochs]
        print(
            f"overhead: LipNet-4, {epochs} epoch(s) on {args.overhead_n} particles: from the "
            f"store {store:.1f} s, in memory {memory:.1f} s (read, crop and resize included "
            f"in both; best of {args.repeat}): the store costs {100 * (store / memory - 1):+.1f} %"
        )
    print(f"overhead: load average before {' '.join(load_before)}, after {' '.join(_loadavg())}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="500,000 particles")
    parser.add_argument("--n", type=int, default=None, help="particles in the store")
    parser.add_argument("--unique", type=int, default=None, help="particles drawn")
    parser.add_argument("--store", default=None, help="where to build the store")
    parser.add_argument("--part", default="all",
                        choices=["all", "build", "features", "epoch", "overhead"])
    parser.add_argument("--keep", action="store_true", help="keep the store afterwards")
    parser.add_argument("--epoch-n", type=int, default=0,
                        help="features and epoch on the first N only")
    parser.add_argument("--overhead-n", type=int, default=None)
    parser.add_argument("--overhead-epochs", type=int, default=3,
                        help="epochs of the multi-epoch overhead fit")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--progress-every", type=int, default=0)
    args = parser.parse_args()
    args.n = args.n or (500_000 if args.full else 20_000)
    args.unique = args.unique or (60_000 if args.full else 20_000)
    args.overhead_n = args.overhead_n or (25_000 if args.full else 8_192)
    args.store = args.store or f"/tmp/sklipo-bench-{args.n}.zarr"
    if args.part != "all":
        {"build": build, "features": features, "epoch": epoch, "overhead": overhead}[
            args.part
        ](args)
        return
    print(f"load average before: {' '.join(_loadavg())}")
    passed = [a for a in sys.argv[1:] if a not in ("--keep",)]
    for part in ("build", "features", "epoch", "overhead"):
        subprocess.run([sys.executable, __file__, *passed, "--part", part,
                        "--store", args.store, "--n", str(args.n)], check=True)
    print(f"load average after: {' '.join(_loadavg())}")
    if not args.keep:
        shutil.rmtree(args.store, ignore_errors=True)


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    main()
