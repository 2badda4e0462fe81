"""A grid of particle cut-outs with their mask outlines, to check segmentation at a glance."""

# License: BSD 3 clause

import numpy as np
from skimage.segmentation import find_boundaries
from skimage.transform import resize
from skimage.util import montage

__all__ = ["MaskGridDisplay"]

# Yellow and magenta stand out on gray, red, green and blue particles alike.
_OK_COLOUR = (1.0, 1.0, 0.0)  # yellow outline
_FALLBACK_COLOUR = (1.0, 0.0, 1.0)  # magenta outline and frame


def _to_rgb(image):
    """Scale a cut-out to [0, 1] (1st-99th percentile) as an RGB tile."""
    image = np.asarray(image, dtype=float)
    planes = image[..., None] if image.ndim == 2 else image
    low = np.percentile(planes, 1, axis=(0, 1))
    high = np.percentile(planes, 99, axis=(0, 1))
    scaled = np.clip((planes - low) / np.where(high > low, high - low, 1.0), 0, 1)
    if scaled.shape[2] == 1:
        return np.repeat(scaled, 3, axis=2)
    # Two channels: red and green; more than three: the first three.
    rgb = np.zeros(scaled.shape[:2] + (3,))
    rgb[..., : min(3, scaled.shape[2])] = scaled[..., :3]
    return rgb


class MaskGridDisplay:
    """Particle cut-outs in a grid with their mask outlines; fallbacks in magenta.

    Each tile is one cut-out, scaled to its own 1st-99th percentile range
    (grayscale; two channels as red and green, three as RGB) and resized to
    `tile_size`, with its mask's outline drawn on it: green for a segmented
    mask, red, with a red frame, for a mask that fell back to the box's
    inscribed ellipse. One look shows whether the segmentation suits the
    data before any training. Create it with :meth:`from_particles` or
    :meth:`from_bunch`.

    Parameters
    ----------
    images : list of ndarray of shape (h, w) or (h, w, C)
        The cut-outs.
    masks : list of ndarray of bool, shape (h, w)
        Their masks.
    fallback : array-like of bool, default=None
        Which masks fell back; None: none did.
    ids : array-like of str, default=None
        Particle ids, for tile titles when the grid is small.

    Attributes
    ----------
    mosaic_ : ndarray of shape (rows, cols, 3)
        The drawn RGB grid.
    im_ : matplotlib AxesImage
        The image of the grid.
    ax_ : matplotlib Axes
        The axes of the plot.
    figure_ : matplotlib Figure
        The figure holding the axes.

    See Also
    --------
    load_annotated_micrographs : Cut out and segment particles.
    segment_boxes : The segmentation itself.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklipo.datasets import (MaskGridDisplay, load_annotated_micrographs,
    ...                              make_micrographs)
    >>> data = make_micrographs("fluorescence", 1, n_particles=6, random_state=0)
    >>> particles = load_annotated_micrographs(data.images, data.labels,
    ...                                        data.target_names, surrounding=8)
    >>> display = MaskGridDisplay.from_bunch(particles, tile_size=48)
    >>> display.mosaic_.shape
    (98, 148, 3)
    """

    def __init__(self, images, masks, *, fallback=None, ids=None):
        self.images = images
        self.masks = masks
        self.fallback = fallback
        self.ids = ids

    def plot(self, *, ax=None, tile_size=64, n_cols=None, titles=None):
        """Draw the grid.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Where to draw; None makes a new figure.
        tile_size : int, default=64
            Side of each tile in pixels.
        n_cols : int, default=None
            Tiles per row; None chooses a grid about 1.5 times as wide as high.
        titles : bool, default=None
            Write each particle's id under its tile; None does so when there
            are ids and at most 24 tiles.

        Returns
        -------
        display : MaskGridDisplay
            This display, with `mosaic_`, `ax_`, `figure_` and `im_` set.
        """
        import matplotlib.pyplot as plt

        n = len(self.images)
        if n == 0 or len(self.masks) != n:
            raise ValueError(
                f"MaskGridDisplay needs one mask per image and at least one image; got "
                f"{n} images and {len(self.masks)} masks."
            )
        fallback = np.zeros(n, bool) if self.fallback is None else np.asarray(self.fallback, bool)
        tiles = np.empty((n, tile_size, tile_size, 3))
        for k, (image, mask) in enumerate(zip(self.images, self.masks)):
            tile = resize(_to_rgb(image), (tile_size, tile_size), order=1, anti_aliasing=True)
            small = resize(np.asarray(mask, float), (tile_size, tile_size), order=0) > 0.5
            edge = find_boundaries(small, mode="inner")
            colour = _FALLBACK_COLOUR if fallback[k] else _OK_COLOUR
            tile[edge] = colour
            if fallback[k]:
                tile[[0, 1, -2, -1], :] = colour
                tile[:, [0, 1, -2, -1]] = colour
            tiles[k] = tile
        if n_cols is None:
            n_cols = int(min(n, np.ceil(np.sqrt(1.5 * n))))
        n_rows = -(-n // n_cols)
        self.mosaic_ = montage(
            tiles, grid_shape=(n_rows, n_cols), fill=(1.0, 1.0, 1.0), padding_width=2,
            channel_axis=-1,
        )[2:-2, 2:-2]
        if ax is None:
            figsize = (min(1.3 * n_cols + 0.5, 16), min(1.3 * n_rows + 0.8, 16))
            _, ax = plt.subplots(figsize=figsize)
        self.im_ = ax.imshow(self.mosaic_, interpolation="nearest")
        ax.set(xticks=[], yticks=[])
        n_fallback = int(fallback.sum())
        ax.set_title(
            f"{n} particle(s); {n_fallback} mask fallback(s) (magenta: inscribed ellipse)"
        )
        if titles is None:
            titles = self.ids is not None and n <= 24
        if titles and self.ids is not None:
            step = tile_size + 2
            for k, name in enumerate(np.asarray(self.ids).astype(str)):
                row, col = divmod(k, n_cols)
                ax.text(col * step + tile_size / 2, row * step + tile_size - 3, name,
                        ha="center", va="bottom", fontsize=6, color="yellow")
        self.ax_ = ax
        self.figure_ = ax.figure
        return self

    @classmethod
    def from_particles(cls, X, *, fallback=None, max_particles=48, fallbacks_first=True,
                       ax=None, tile_size=64, n_cols=None, titles=None):
        """Plot the masks of a particle set.

        Parameters
        ----------
        X : ParticleSet
            The particles with their masks.
        fallback : array-like of bool, default=None
            Which masks fell back (``mask_fallback`` of a loader's Bunch).
        max_particles : int, default=48
            Show at most this many particles.
        fallbacks_first : bool, default=True
            Show the fallbacks first (in their order), then the others, so
            the problems are never cut off by `max_particles`.
        ax : matplotlib Axes, default=None
            Where to draw; None makes a new figure.
        tile_size : int, default=64
            Side of each tile in pixels.
        n_cols : int, default=None
            Tiles per row; None chooses.
        titles : bool, default=None
            Write the ids under the tiles; None when at most 24 tiles.

        Returns
        -------
        display : MaskGridDisplay
            The display, drawn.
        """
        from sklipo._particles import as_particle_set

        X = as_particle_set(X)
        flags = np.zeros(len(X), bool) if fallback is None else np.asarray(fallback, bool)
        if flags.shape != (len(X),):
            raise ValueError(
                f"fallback must hold one flag per particle ({len(X)}); got shape {flags.shape}."
            )
        order = np.arange(len(X))
        if fallbacks_first:
            order = np.concatenate([order[flags], order[~flags]])
        order = order[:max_particles]
        display = cls(
            [X.images[i] for i in order],
            [X.masks[i] for i in order],
            fallback=flags[order],
            ids=np.asarray(X.ids)[order],
        )
        return display.plot(ax=ax, tile_size=tile_size, n_cols=n_cols, titles=titles)

    @classmethod
    def from_bunch(cls, bunch, *, max_particles=48, fallbacks_first=True, ax=None,
                   tile_size=64, n_cols=None, titles=None):
        """Plot the masks of what a loader returned.

        Parameters
        ----------
        bunch : Bunch
            The result of :func:`load_annotated_micrographs` (or of
            :func:`load_particles`, which has no fallbacks).
        max_particles : int, default=48
            Show at most this many particles.
        fallbacks_first : bool, default=True
            Show the fallbacks first.
        ax : matplotlib Axes, default=None
            Where to draw; None makes a new figure.
        tile_size : int, default=64
            Side of each tile in pixels.
        n_cols : int, default=None
            Tiles per row; None chooses.
        titles : bool, default=None
            Write the ids under the tiles; None when at most 24 tiles.

        Returns
        -------
        display : MaskGridDisplay
            The display, drawn.
        """
        return cls.from_particles(
            bunch.data, fallback=bunch.get("mask_fallback"), max_particles=max_particles,
            fallbacks_first=fallbacks_first, ax=ax, tile_size=tile_size, n_cols=n_cols,
            titles=titles,
        )
