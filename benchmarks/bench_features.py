"""Throughput of ParticleFeatures against a naive per-particle loop.

Run: ``python benchmarks/bench_features.py [--n-particles 10000] [--repeat 1]``

Draws synthetic liposomes with :func:`sklipo.datasets.make_liposomes` and
extracts every handcrafted feature three ways, printing particles per second:

- naive: a plain loop over the particles that calls
  ``skimage.measure.regionprops`` and NumPy on the whole cut-out, the way a
  user would write it (same features, same definitions);
- ParticleFeatures with ``n_jobs=1`` and with ``n_jobs=2``.

The three run interleaved and the medians are compared, so load from other
programs hits all alike.
"""

import argparse
import os
import statistics
import time

import numpy as np
from scipy import ndimage as ndi
from skimage.measure import regionprops

from sklipo.datasets import make_liposomes
from sklipo.features import ParticleFeatures


def naive_features(X, n_bins=16, edge_range=(-10.0, 30.0), value_range=(-4.0, 4.0)):
    """The same features by a plain loop over particles (the baseline)."""
    rows = []
    for image, mask, pixel_size, _ in X:
        props = regionprops(mask.astype(np.uint8), intensity_image=image)[0]
        background = image[~mask].astype(np.float64)
        z = (image - background.mean()) / (background.std() or 1.0)
        inside = ndi.distance_transform_edt(mask)
        outside = ndi.distance_transform_edt(~mask)
        signed = np.where(mask, inside - 0.5, 0.5 - outside)

        # Radial profile: rings out to 1.5 equivalent radii.
        yy, xx = np.indices(mask.shape)
        cy, cx = props.centroid
        ring = (np.hypot(yy - cy, xx - cx) / (1.5 * props.equivalent_diameter_area / 2 / n_bins)).astype(int)
        keep = ring < n_bins
        radial = np.bincount(ring[keep], z[keep], n_bins) / np.maximum(np.bincount(ring[keep], minlength=n_bins), 1)

        # Edge profile: signed distance to the outline in nm.
        low, high = edge_range
        edge_bin = np.floor((signed * pixel_size - low) / (high - low) * n_bins).astype(int)
        keep = (edge_bin >= 0) & (edge_bin < n_bins)
        edge = np.bincount(edge_bin[keep], z[keep], n_bins) / np.maximum(np.bincount(edge_bin[keep], minlength=n_bins), 1)

        hist, _ = np.histogram(np.clip(z[mask], *value_range), bins=32, range=value_range)

        # Signal to noise: ring means across the membrane against spread along it.
        band = (signed >= -3) & (signed < 3)
        ring = np.floor(signed[band]).astype(int) + 3
        counts = np.bincount(ring, minlength=6)
        means = np.bincount(ring, z[band], 6) / np.maximum(counts, 1)
        across = (counts * (means - z[band].mean()) ** 2).sum() / band.sum()
        along = ((z[band] - means[ring]) ** 2).sum() / band.sum()

        mu = props.moments_central
        nu = props.moments_normalized
        rows.append(
            np.concatenate(
                [
                    [props.area * pixel_size**2, 4 * np.pi * props.area / props.perimeter_crofton**2],
                    [mu[2, 0], mu[0, 2], mu[3, 0], mu[0, 3]],
                    [nu[2, 0], nu[0, 2], nu[3, 0], nu[0, 3]],
                    [2 * inside.max() * pixel_size, props.feret_diameter_max],
                    [props.feret_diameter_max * pixel_size],
                    edge,
                    radial,
                    hist / mask.sum(),
                    [across / max(along, 1e-6), z[mask].var()],
                ]
            )
        )
    return np.vstack(rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-particles", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()

    start = time.perf_counter()
    X, _ = make_liposomes(
        n_samples=args.n_particles, weights=[1, 1, 1], random_state=0, return_X_y=True
    )
    print(f"data: {X} (drawn in {time.perf_counter() - start:.0f} s), {os.cpu_count()} CPUs")

    methods = {"naive regionprops loop ": naive_features}
    for n_jobs in (1, 2):
        methods[f"ParticleFeatures n_jobs={n_jobs}"] = ParticleFeatures(n_jobs=n_jobs).fit(X).transform
    # interleaved repeats, medians: load from other programs hits all alike
    times = {name: [] for name in methods}
    for _ in range(args.repeat):
        for name, function in methods.items():
            start = time.perf_counter()
            function(X)
            times[name].append(time.perf_counter() - start)
    naive = len(X) / statistics.median(times["naive regionprops loop "])
    print(f"median of {args.repeat} interleaved runs; load average {os.getloadavg()}")
    for name in methods:
        rate = len(X) / statistics.median(times[name])
        print(f"{name}: {rate:8.1f} particles/s ({rate / naive:.2f}x naive)")


if __name__ == "__main__":
    main()
