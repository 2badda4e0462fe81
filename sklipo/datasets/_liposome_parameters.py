"""The random scene of each synthetic liposome: class tables, class counts, shapes, neighbours."""

# License: BSD 3 clause

import numpy as np

__all__ = []

# Class names in the order the study lists them (its Tables 1 and 2), with the
# study's class counts as the default proportions, and the lognormal diameter
# distribution of each class: (median in nm, sigma of the log).
_PROBLEMS = {
    "lamellarity": {
        "target_names": ("unilamellar", "multilamellar", "uncertain"),
        "counts": (12368, 1717, 84),
        "diameter_nm": ((80.0, 0.28), (125.0, 0.30), (100.0, 0.35)),
    },
    "encapsulation": {
        "target_names": ("full", "uncertain", "empty"),
        "counts": (24255, 502, 161),
        "diameter_nm": ((85.0, 0.25), (80.0, 0.30), (75.0, 0.30)),
    },
}

# Up to this many concentric membranes per particle.
_MAX_RINGS = 4

# Canvases are bucketed by size in steps of this many pixels.
_CANVAS_STEP = 8


def _check_weights(weights, default_counts):
    """Return class proportions summing to one from `weights` (or the defaults)."""
    n_classes = len(default_counts)
    if weights is None:
        weights = np.asarray(default_counts, dtype=float)
        return weights / weights.sum()
    try:
        weights = np.asarray(weights, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"weights must be numbers; got {weights!r}.") from exc
    if weights.ndim != 1 or len(weights) not in (n_classes - 1, n_classes):
        raise ValueError(
            f"weights must hold {n_classes} class weights (or {n_classes - 1}, "
            f"the last class taking the rest); got shape {weights.shape}."
        )
    if not np.isfinite(weights).all() or (weights < 0).any():
        raise ValueError(
            f"weights must be finite and non-negative; got {weights.tolist()}."
        )
    if len(weights) == n_classes - 1:
        if weights.sum() > 1 + 1e-9:
            raise ValueError(
                f"With {n_classes - 1} weights, the last class gets 1 - sum(weights), "
                f"so they must not sum to more than 1; got sum {weights.sum():g}. "
                f"Pass {n_classes} relative weights instead."
            )
        weights = np.append(weights, max(0.0, 1.0 - weights.sum()))
    if weights.sum() <= 0:
        raise ValueError(
            f"weights must have a positive sum so that some class is drawn; got "
            f"{weights.tolist()}."
        )
    return weights / weights.sum()


def _allocate(proportions, n_samples):
    """Split `n_samples` over classes by the largest remainder method.

    Classes with a positive proportion get at least one sample each when there
    are enough samples; the samples come from the largest class.
    """
    quotas = proportions * n_samples
    counts = np.floor(quotas).astype(int)
    left = n_samples - counts.sum()
    # Stable sort: among equal remainders the earlier class comes first.
    order = np.argsort(-(quotas - counts), kind="stable")
    counts[order[:left]] += 1
    positive = proportions > 0
    if n_samples >= positive.sum():
        for k in np.flatnonzero(positive & (counts == 0)):
            counts[np.argmax(counts)] -= 1
            counts[k] += 1
    return counts


def _draw_parameters(problem, y, pixel_size, surrounding, rng):
    """Draw every parameter of every particle's scene, lengths in pixels.

    Returns a dict of arrays with one entry (or row) per particle, among them
    the size of the square canvas each particle is rendered on.
    """
    n = len(y)
    px = 1.0 / pixel_size  # pixels per nanometre
    uniform = rng.uniform
    medians, sigmas = np.asarray(_PROBLEMS[problem]["diameter_nm"]).T
    diameter = np.clip(medians[y] * np.exp(sigmas[y] * rng.standard_normal(n)), 30.0, 320.0)
    amp = np.zeros((n, _MAX_RINGS))
    amp[:, 0] = 1.0
    p = {
        "radius": 0.5 * diameter * px,
        # Membranes: 4-6 nm full width at half maximum.
        "sigma": np.maximum(uniform(4.0, 6.0, n) / 2.355 * px, 0.6),
        "spacing": uniform(7.0, 14.0, n) * px,
        "n_rings": np.ones(n, dtype=int),
        "amp": amp,
        "membrane_variation": uniform(0.1, 0.4, n),
        # Window on the inner membranes, bias + gain * (cosine of the angle to
        # one side) clipped to [0, 1]; bias 1 and gain 0 leave them whole. The
        # same for the interior density.
        "ring_bias": np.ones(n),
        "ring_gain": np.zeros(n),
        "density": uniform(-0.05, 0.15, n),
        "texture": uniform(0.05, 0.3, n),
        "fill_bias": np.ones(n),
        "fill_gain": np.zeros(n),
        "brightness": uniform(0.45, 0.75, n),
        "contrast": uniform(0.12, 0.35, n),
        "background_texture": uniform(0.02, 0.07, n),
        "noise": uniform(0.025, 0.09, n),
        "n_neighbours": rng.choice(3, size=n, p=[0.5, 0.35, 0.15]),
        # Distance between the facing edges of particle and neighbour, in px;
        # negative values overlap.
        "gap": uniform(1.0, max(surrounding, 2.0), (n, 2)),
        "neighbour_radius": 40.0 * px * np.exp(0.3 * rng.standard_normal((n, 2))),
        "neighbour_amp": uniform(0.5, 1.0, (n, 2)),
        "neighbour_density": uniform(-0.05, 0.15, (n, 2)),
    }
    if problem == "lamellarity":
        _draw_lamellarity(p, y, rng)
    else:
        _draw_encapsulation(p, y, rng)
    return _place(p, surrounding, px, rng)


def _draw_lamellarity(p, y, rng):
    """Set the membranes of the lamellarity classes, with their look-alikes."""
    n, uniform = len(y), rng.uniform
    uni, multi, unsure = (y == k for k in range(3))
    # Multilamellar: 2-4 membranes, the inner ones sometimes faint.
    p["n_rings"][multi] = rng.choice([2, 3, 4], size=multi.sum(), p=[0.5, 0.3, 0.2])
    inner = uniform(0.3, 1.0, (n, _MAX_RINGS - 1))
    faint = multi & (uniform(size=n) < 0.2)
    inner[faint] = uniform(0.15, 0.35, (faint.sum(), _MAX_RINGS - 1))
    p["amp"][multi, 1:] = inner[multi]

    # Unilamellar look-alikes: a touching neighbour, a faint partial ring.
    touch = uni & (uniform(size=n) < 0.1)
    p["n_neighbours"][touch] = np.maximum(p["n_neighbours"][touch], 1)
    p["gap"][touch, 0] = -uniform(0.0, 0.2, touch.sum()) * p["radius"][touch]
    ghost = uni & (uniform(size=n) < 0.05)
    p["n_rings"][ghost] = 2
    p["amp"][ghost, 1] = uniform(0.1, 0.25, ghost.sum())
    p["ring_bias"][ghost], p["ring_gain"][ghost] = 0.3, 1.5

    # Uncertain: overlapping vesicles, a partial inner ring, or low contrast.
    case = rng.choice(3, size=n, p=[0.4, 0.35, 0.25])
    overlap = unsure & (case == 0)
    p["n_neighbours"][overlap] = np.maximum(p["n_neighbours"][overlap], 1)
    radius = p["radius"][overlap]
    neighbour = radius * uniform(0.6, 1.1, overlap.sum())
    p["neighbour_radius"][overlap, 0] = neighbour
    p["neighbour_amp"][overlap, 0] = uniform(0.7, 1.0, overlap.sum())
    p["gap"][overlap, 0] = -uniform(0.2, 0.6, overlap.sum()) * (radius + neighbour)
    partial = unsure & (case == 1)
    p["n_rings"][partial] = 2
    p["amp"][partial, 1] = uniform(0.35, 0.8, partial.sum())
    p["ring_bias"][partial], p["ring_gain"][partial] = 0.4, 1.5
    dim = unsure & (case == 2)
    p["n_rings"][dim] = rng.choice([1, 2], size=dim.sum())
    p["amp"][dim, 1] = uniform(0.4, 1.0, dim.sum())
    p["contrast"][dim] *= uniform(0.15, 0.3, dim.sum())
    p["noise"][dim] *= 1.6


def _draw_encapsulation(p, y, rng):
    """Set the interior density of the encapsulation classes."""
    n, uniform = len(y), rng.uniform
    full, unsure, empty = (y == k for k in range(3))
    two = uniform(size=n) < 0.1
    p["n_rings"][two] = 2
    p["amp"][two, 1] = uniform(0.3, 0.9, two.sum())
    p["density"][full] = uniform(0.4, 1.0, full.sum())
    p["texture"][full] = uniform(0.1, 0.5, full.sum())
    p["density"][empty] = uniform(-0.1, 0.2, empty.sum())
    # Uncertain: intermediate density, or dense over part of the interior.
    partial = unsure & (uniform(size=n) < 0.5)
    p["density"][unsure] = uniform(0.12, 0.42, unsure.sum())
    p["density"][partial] = uniform(0.4, 0.9, partial.sum())
    p["fill_bias"][partial], p["fill_gain"][partial] = 0.5, 1.5
    # Neighbours in drug-loading preparations are mostly full.
    p["neighbour_density"] = uniform(0.2, 1.0, (n, 2))


def _place(p, surrounding, px, rng):
    """Draw shapes and positions, size the canvases, and cast for rendering."""
    n, uniform = len(p["radius"]), rng.uniform
    radius, sigma, n_rings = p["radius"], p["sigma"], p["n_rings"]
    # Keep the rings inside the particle.
    p["spacing"] = np.minimum(p["spacing"], 0.7 * radius / np.maximum(n_rings - 1, 1))
    p["amp"][np.arange(_MAX_RINGS) >= n_rings[:, None]] = 0.0

    ellipticity = 1.0 + np.minimum(rng.gamma(2.0, 0.03, n), 0.35)
    wobble = rng.normal(0.0, [0.015, 0.015, 0.01, 0.01], (n, 4))
    theta = uniform(0.0, np.pi, n)
    p.update(ellipticity=ellipticity, wobble=wobble, cos=np.cos(theta), sin=np.sin(theta))
    side = uniform(0.0, 2 * np.pi, n)
    p.update(window_cos=np.cos(side), window_sin=np.sin(side))
    # Largest distance from the centre that the particle darkens, in px: its
    # edge plus the tail of the outer membrane's profile.
    reach = radius * ellipticity * (1.0 + np.abs(wobble).sum(axis=1)) + 4.0 * sigma
    canvas = 2 * (np.ceil(reach).astype(int) + surrounding + 1)
    p["canvas"] = -(-canvas // _CANVAS_STEP) * _CANVAS_STEP

    p["has_neighbour"] = np.arange(2) < p.pop("n_neighbours")[:, None]
    angle = uniform(0.0, 2 * np.pi, (n, 2))
    distance = radius[:, None] + p["neighbour_radius"] + p.pop("gap")
    p["neighbour_x"], p["neighbour_y"] = distance * np.cos(angle), distance * np.sin(angle)

    p["has_blob"] = uniform(size=n) < 0.12
    angle = uniform(0.0, 2 * np.pi, n)
    distance = uniform(0.0, 1.0, n) * (radius + surrounding)
    p["blob_x"], p["blob_y"] = distance * np.cos(angle), distance * np.sin(angle)
    p["blob_radius"] = uniform(15.0, 80.0, n) * px
    p["blob_darkness"] = uniform(0.3, 0.6, n)
    # Rendering runs in float32.
    return {
        key: value.astype(np.float32) if value.dtype == np.float64 else value
        for key, value in p.items()
    }
