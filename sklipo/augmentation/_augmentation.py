"""Random affine augmentation of whole image batches in torch."""

# License: BSD 3 clause

import math
from numbers import Real

from sklearn.base import BaseEstimator

from sklipo.utils import check_range

__all__ = ["Augmentation"]

_INTERPOLATIONS = ("bilinear", "bicubic", "nearest")
_FILLS = ("border", "zeros", "reflection")


class Augmentation(BaseEstimator):
    """Random rotation, shear, shift, zoom and flips for a batch of images.

    Every call draws new transformation parameters for each image and warps
    the whole batch at once with one affine sampling grid
    (:func:`torch.nn.functional.affine_grid` and
    :func:`~torch.nn.functional.grid_sample`): no Python loop over images, and
    it runs on whatever device the batch is on. The defaults are the study's
    preset (``augment="study"`` in :class:`~sklipo.classifier.LipNetClassifier`).

    Each transformation is switched off by its neutral value (``rotation=0``,
    ``shear=0``, ``shift=0``, ``zoom=(1, 1)``, ``horizontal_flip=False``,
    ``vertical_flip=False``).

    Parameters
    ----------
    rotation : float, default=180.0
        Rotations are drawn uniformly from ``[-rotation, rotation]`` degrees.
    shear : float, default=0.2
        Shear angles are drawn uniformly from ``[-shear, shear]`` radians (the
        study's range ``[0, 0.2]``, made symmetric as in Keras; the flips make
        the sign moot anyway).
    shift : float, default=0.1
        Shifts are drawn uniformly from ``[-shift, shift]`` times the image's
        height (vertically) and width (horizontally).
    zoom : tuple of float, default=(0.8, 1.0)
        Range of the factor applied to the sampling grid, one factor per image
        for both axes so particle shape is kept. As in the study's Keras code,
        values below 1 enlarge the particle (0.8 shows it 1.25 times larger).
    horizontal_flip : bool, default=True
        Mirror left-right with probability 0.5.
    vertical_flip : bool, default=True
        Mirror top-bottom with probability 0.5.
    interpolation : {"bilinear", "bicubic", "nearest"}, default="bilinear"
        How pixels between grid points are read. The study used spline
        interpolation; "bicubic" is the closest and slower.
    fill : {"border", "zeros", "reflection"}, default="border"
        Value of pixels that come from outside the image: the nearest edge
        pixel (Keras' "nearest", the study's setting), zero (the training
        mean once the classifier has standardised the images), or a mirror image.

    See Also
    --------
    sklipo.classifier.LipNetClassifier : Applies it to training batches.

    Examples
    --------
    >>> import torch
    >>> from sklipo.augmentation import Augmentation
    >>> augment = Augmentation(rotation=90, zoom=(1.0, 1.0))
    >>> batch = torch.rand(8, 1, 28, 28)
    >>> augment(batch, generator=torch.Generator().manual_seed(0)).shape
    torch.Size([8, 1, 28, 28])
    """

    def __init__(
        self,
        *,
        rotation=180.0,
        shear=0.2,
        shift=0.1,
        zoom=(0.8, 1.0),
        horizontal_flip=True,
        vertical_flip=True,
        interpolation="bilinear",
        fill="border",
    ):
        self.rotation = rotation
        self.shear = shear
        self.shift = shift
        self.zoom = zoom
        self.horizontal_flip = horizontal_flip
        self.vertical_flip = vertical_flip
        self.interpolation = interpolation
        self.fill = fill

    def _check_params(self):
        for name in ("rotation", "shear", "shift"):
            value = getattr(self, name)
            if not isinstance(value, Real) or isinstance(value, bool) or not value >= 0:
                raise ValueError(
                    f"Augmentation's `{name}` must be a non-negative number; got {value!r}."
                )
        check_range(self.zoom, "Augmentation's `zoom`", low=0, closed="neither", allow_equal=True)
        for name in ("horizontal_flip", "vertical_flip"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(
                    f"Augmentation's `{name}` must be True or False; got "
                    f"{getattr(self, name)!r}."
                )
        if self.interpolation not in _INTERPOLATIONS:
            raise ValueError(
                f"Augmentation's `interpolation` must be one of {_INTERPOLATIONS}; got "
                f"{self.interpolation!r}."
            )
        if self.fill not in _FILLS:
            raise ValueError(
                f"Augmentation's `fill` must be one of {_FILLS}; got {self.fill!r}."
            )

    def _draw_matrices(self, n, generator):
        """Per-image 2x2 linear maps and shifts (fractions of the size), on CPU."""
        import torch

        def uniform(low, high):
            return low + (high - low) * torch.rand(n, generator=generator, dtype=torch.float64)

        angle = uniform(-self.rotation, self.rotation) * (math.pi / 180.0)
        shear = uniform(-self.shear, self.shear)
        zoom = uniform(*self.zoom)
        cos, sin = torch.cos(angle), torch.sin(angle)
        rotate = torch.stack([torch.stack([cos, -sin], -1), torch.stack([sin, cos], -1)], -2)
        # Keras' shear matrix [[1, -sin(s)], [0, cos(s)]] in (x, y) order
        shear_m = torch.zeros(n, 2, 2, dtype=torch.float64)
        shear_m[:, 0, 0] = 1.0
        shear_m[:, 0, 1] = -torch.sin(shear)
        shear_m[:, 1, 1] = torch.cos(shear)
        flips = torch.ones(n, 2, dtype=torch.float64)
        if self.horizontal_flip:
            flips[:, 0] = torch.where(torch.rand(n, generator=generator) < 0.5, -1.0, 1.0)
        if self.vertical_flip:
            flips[:, 1] = torch.where(torch.rand(n, generator=generator) < 0.5, -1.0, 1.0)
        linear = rotate @ shear_m @ (torch.diag_embed(flips) * zoom[:, None, None])
        shifts = torch.stack(
            [uniform(-self.shift, self.shift), uniform(-self.shift, self.shift)], -1
        )
        return linear, shifts

    def __call__(self, X, *, sizes=None, generator=None):
        """Return a randomly transformed copy of a batch.

        Parameters
        ----------
        X : torch.Tensor of shape (n, C, H, W)
            Floating-point images, on any device.
        sizes : torch.Tensor of shape (n, 2), default=None
            For padded batches of unequal images: the height and width of each
            image in the top-left corner of the canvas. Each image then turns
            about its own centre and shifts by a fraction of its own size.
            None when every image fills the canvas.
        generator : torch.Generator, default=None
            CPU generator the transformations are drawn from; the same seed
            gives the same batch. None uses torch's global generator.

        Returns
        -------
        X_augmented : torch.Tensor of shape (n, C, H, W)
        """
        # torch is imported here, so that importing the samplers, which take an
        # Augmentation as a parameter, does not need it.
        import torch
        from torch.nn import functional as F

        self._check_params()
        if not isinstance(X, torch.Tensor) or X.ndim != 4 or not X.is_floating_point():
            raise ValueError(
                "Augmentation takes a floating-point torch.Tensor of shape "
                f"(n, C, H, W); got {type(X).__name__} "
                f"{tuple(getattr(X, 'shape', ()))}."
            )
        n, _, height, width = X.shape
        linear, shifts = self._draw_matrices(n, generator)
        canvas = torch.tensor([width, height], dtype=torch.float64)
        if sizes is None:
            extent = canvas.expand(n, 2)
        else:
            extent = torch.as_tensor(sizes, dtype=torch.float64).cpu().flip(-1)
        # Pixel space u in [0, W] x [0, H] maps to normalised x = 2u/size - 1
        # (align_corners=False). An output pixel u reads the input at
        # A (u - c) + c + t, with c the image centre and t the shift; rewrite
        # that map in normalised coordinates for affine_grid.
        half = canvas / 2
        centre = extent / 2
        offset = shifts * extent
        theta_linear = linear * half[None, None, :] / half[None, :, None]
        translation = (linear @ (half - centre)[..., None])[..., 0] + centre + offset
        theta = torch.cat([theta_linear, (translation / half - 1.0)[..., None]], -1)
        grid = F.affine_grid(
            theta.to(device=X.device, dtype=X.dtype), list(X.shape), align_corners=False
        )
        return F.grid_sample(
            X, grid, mode=self.interpolation, padding_mode=self.fill, align_corners=False
        )
