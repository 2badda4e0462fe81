"""Matplotlib displays of kernels, feature maps and attribution maps."""

# License: BSD 3 clause

from math import ceil, sqrt

import numpy as np

from sklipo.inspection._attribution import (
    ATTRIBUTION_METHODS,
    _attribution,
    _check_method,
)
from sklipo.inspection._network import (
    _check_layers,
    _conv_module,
    _feature_maps,
    _input_images,
    _split_estimator,
    _transformed,
)

__all__ = ["AttributionDisplay", "FeatureMapDisplay", "KernelDisplay"]

_TITLES = {
    "saliency": "saliency",
    "guided_backprop": "guided backprop",
    "deconvnet": "deconvnet",
}


def _tile(panels, n_cols):
    """Tile ``(n, h, w)`` panels into one image, row by row, NaN between them."""
    n, height, width = panels.shape
    n_rows = -(-n // n_cols)
    grid = np.full((n_rows * n_cols, height + 1, width + 1), np.nan)
    grid[:n, :height, :width] = panels
    grid = grid.reshape(n_rows, n_cols, height + 1, width + 1).transpose(0, 2, 1, 3)
    return grid.reshape(n_rows * (height + 1), n_cols * (width + 1))[:-1, :-1]


def _n_cols(n_panels):
    """Columns of a grid about twice as wide as high."""
    return min(n_panels, ceil(sqrt(2 * n_panels)))


def _diverging(cmap):
    """The colour map, with the gaps between panels in light grey."""
    import matplotlib.pyplot as plt

    return plt.get_cmap(cmap).with_extremes(bad="0.8")


def _one_particle(data):
    if len(data) != 1:
        raise ValueError(
            f"FeatureMapDisplay shows one particle; got {len(data)}. Pass one, e.g. "
            "X[[i]] or X[i:i + 1]."
        )


class KernelDisplay:
    """The kernels of a conv layer, on a colour map centred on zero.

    Every ``(output channel, input channel)`` kernel is one small panel of a
    grid: negative weights blue, zero white, positive red, with colour limits
    symmetric around zero and shared by the whole layer, so kernels compare.
    A layer with one input channel (the first, on grayscale images) is tiled
    in a grid about twice as wide as high; otherwise rows are output channels
    and columns input channels. Create it with :meth:`from_estimator`.

    Parameters
    ----------
    kernels : ndarray of shape (out_channels, in_channels, kh, kw)
        The weights.
    layer : str, default=None
        The layer's name, for the title.

    Attributes
    ----------
    im_ : matplotlib AxesImage
        The image of the tiled kernels.
    ax_ : matplotlib Axes
        The axes of the plot.
    figure_ : matplotlib Figure
        The figure holding the axes.

    See Also
    --------
    conv_layers : The layers' names.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from sklipo.classifier import LipNetClassifier
    >>> from sklipo.inspection import KernelDisplay
    >>> X = np.random.RandomState(0).rand(20, 28, 28)
    >>> clf = LipNetClassifier(max_epochs=1, random_state=0).fit(X, [0, 1] * 10)
    >>> display = KernelDisplay.from_estimator(clf)
    >>> display.kernels.shape
    (32, 1, 3, 3)
    """

    def __init__(self, kernels, *, layer=None):
        self.kernels = kernels
        self.layer = layer

    def plot(self, *, ax=None, cmap="RdBu_r", colorbar=True):
        """Draw the kernels.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Where to draw; None makes a new figure.
        cmap : str or matplotlib Colormap, default="RdBu_r"
            A diverging colour map; the default is blue below zero, white at
            zero and red above.
        colorbar : bool, default=True
            Whether to add a colour bar.

        Returns
        -------
        display : KernelDisplay
            This display, with `ax_`, `figure_` and `im_` set.
        """
        import matplotlib.pyplot as plt

        kernels = np.asarray(self.kernels, dtype=float)
        n_out, n_in, height, width = kernels.shape
        if n_in == 1:
            n_cols = _n_cols(n_out)
            mosaic = _tile(kernels[:, 0], n_cols)
        else:
            n_cols = n_in
            mosaic = _tile(kernels.reshape(n_out * n_in, height, width), n_in)
        if ax is None:
            n_rows = -(-mosaic.shape[0] // (height + 1))
            _, ax = plt.subplots(figsize=(min(0.35 * n_cols + 2, 14), min(0.35 * n_rows + 1, 14)))
        limit = float(np.abs(kernels).max()) or 1.0
        self.im_ = ax.imshow(
            mosaic, cmap=_diverging(cmap), vmin=-limit, vmax=limit, interpolation="nearest"
        )
        if n_in == 1:
            ax.set(xticks=[], yticks=[])
        else:
            step = 1 if max(n_out, n_in) <= 16 else 4
            ax.set(
                xticks=np.arange(0, n_in, step) * (width + 1) + (width - 1) / 2,
                xticklabels=np.arange(0, n_in, step),
                yticks=np.arange(0, n_out, step) * (height + 1) + (height - 1) / 2,
                yticklabels=np.arange(0, n_out, step),
                xlabel="input channel",
                ylabel="output channel",
            )
        name = "" if self.layer is None else f"{self.layer}: "
        ax.set_title(f"{name}{n_out}x{n_in} kernels of {height}x{width}")
        if colorbar:
            ax.figure.colorbar(self.im_, ax=ax, label="weight")
        self.ax_ = ax
        self.figure_ = ax.figure
        return self

    @classmethod
    def from_estimator(cls, estimator, *, layer=None, ax=None, cmap="RdBu_r", colorbar=True):
        """Plot the kernels of a conv layer of a fitted LipNet model.

        Parameters
        ----------
        estimator : LipNetClassifier or Pipeline
            A fitted :class:`~sklipo.classifier.LipNetClassifier`, or a fitted
            pipeline whose last step is one.
        layer : str, default=None
            A conv layer name such as ``"conv2"`` (see :func:`conv_layers`);
            None is the first, ``"conv1"``.
        ax : matplotlib Axes, default=None
            Where to draw; None makes a new figure.
        cmap : str or matplotlib Colormap, default="RdBu_r"
            A diverging colour map.
        colorbar : bool, default=True
            Whether to add a colour bar.

        Returns
        -------
        display : KernelDisplay
            The display, drawn.

        Raises
        ------
        ValueError
            If `layer` names no conv layer of the network (the message lists
            them).
        """
        _, clf = _split_estimator(estimator)
        name = _check_layers(clf, layer)[0]
        kernels = _conv_module(clf.net_.module_, name).weight.detach().cpu().numpy()
        return cls(kernels, layer=name).plot(ax=ax, cmap=cmap, colorbar=colorbar)


class FeatureMapDisplay:
    """The activations of conv layers for one particle.

    The particle's network input comes first, then one grid per layer with a
    panel per channel (in a grid about twice as wide as high). Each channel is
    scaled by its own largest absolute value, so weak channels stay visible;
    zero is white and positive activations red, on the kernels' colour map.
    Create it with :meth:`from_estimator`.

    Parameters
    ----------
    maps : dict of str to ndarray of shape (channels, h, w)
        The activations of each layer, see :func:`feature_maps`.
    image : ndarray of shape (H, W), default=None
        The network's input, shown first; None shows none.

    Attributes
    ----------
    axes_ : ndarray of matplotlib Axes
        One axes for the image (if any), then one per layer.
    figure_ : matplotlib Figure
        The figure.

    See Also
    --------
    feature_maps : The activations as arrays, for many particles.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from sklipo.classifier import LipNetClassifier
    >>> from sklipo.inspection import FeatureMapDisplay
    >>> X = np.random.RandomState(0).rand(20, 28, 28)
    >>> clf = LipNetClassifier(max_epochs=1, random_state=0).fit(X, [0, 1] * 10)
    >>> display = FeatureMapDisplay.from_estimator(clf, X[:1])
    >>> len(display.axes_)
    5
    """

    def __init__(self, maps, *, image=None):
        self.maps = maps
        self.image = image

    def plot(self, *, figure=None, cmap="RdBu_r"):
        """Draw the image and the maps.

        Parameters
        ----------
        figure : matplotlib Figure, default=None
            An empty figure to draw in; None makes a new one.
        cmap : str or matplotlib Colormap, default="RdBu_r"
            A diverging colour map (the maps are scaled to [-1, 1]).

        Returns
        -------
        display : FeatureMapDisplay
            This display, with `axes_` and `figure_` set.
        """
        import matplotlib.pyplot as plt

        n_axes = len(self.maps) + (self.image is not None)
        if figure is None:
            figure = plt.figure(figsize=(8, 2.6 * n_axes))
        axes = figure.subplots(n_axes, 1, squeeze=False)[:, 0]
        if self.image is not None:
            axes[0].imshow(self.image, cmap="gray")
            axes[0].set_title("network input")
            axes[0].set_axis_off()
        for ax, (name, maps) in zip(axes[self.image is not None :], self.maps.items()):
            maps = np.asarray(maps, dtype=float)
            peak = np.abs(maps).max(axis=(1, 2), keepdims=True)
            scaled = maps / np.where(peak > 0, peak, 1.0)
            ax.imshow(
                _tile(scaled, _n_cols(len(maps))),
                cmap=_diverging(cmap),
                vmin=-1,
                vmax=1,
                interpolation="nearest",
            )
            ax.set_title(f"{name}: {maps.shape[0]} channels of {maps.shape[1]}x{maps.shape[2]}")
            ax.set_axis_off()
        self.axes_ = axes
        self.figure_ = figure
        return self

    @classmethod
    def from_estimator(cls, estimator, X, *, layer=None, figure=None, cmap="RdBu_r"):
        """Plot the conv layers' activations of a fitted LipNet model for one particle.

        Parameters
        ----------
        estimator : LipNetClassifier or Pipeline
            A fitted :class:`~sklipo.classifier.LipNetClassifier`, or a fitted
            pipeline whose last step is one.
        X : ParticleSet or ndarray
            One particle as the estimator takes it, e.g. ``X[[i]]``.
        layer : str or list of str, default=None
            Conv layer name(s) such as ``"conv2"`` (see :func:`conv_layers`);
            None is every conv layer.
        figure : matplotlib Figure, default=None
            An empty figure to draw in; None makes a new one.
        cmap : str or matplotlib Colormap, default="RdBu_r"
            A diverging colour map.

        Returns
        -------
        display : FeatureMapDisplay
            The display, drawn.

        Raises
        ------
        ValueError
            If `X` holds more than one particle, or `layer` names no conv
            layer of the network.
        """
        clf, X = _transformed(estimator, X)
        data = clf.network_input(X)
        _one_particle(data)
        maps = _feature_maps(clf, data, _check_layers(clf, layer), batch_size=1)
        return cls(
            {name: layer_maps[0] for name, layer_maps in maps.items()},
            image=_input_images(clf, X)[0],
        ).plot(figure=figure, cmap=cmap)


class AttributionDisplay:
    """Attribution maps overlaid on their particles' images.

    One row per particle: the network input in gray, then one panel per
    method with the map drawn over the image, its opacity and colour rising
    with the map's value (each map scaled by its own maximum). Create it with
    :meth:`from_estimator`.

    Parameters
    ----------
    images : list of ndarray of shape (H, W)
        The network's input images.
    maps : dict of str to list of ndarray of shape (H, W)
        For each method, one map per image, see :func:`attribution`.
    labels : list of str, default=None
        A title per particle (e.g. ``"predicted: multilamellar (p = 0.82)"``);
        None shows none.

    Attributes
    ----------
    axes_ : ndarray of matplotlib Axes of shape (n_particles, 1 + n_methods)
        The panels.
    figure_ : matplotlib Figure
        The figure.

    See Also
    --------
    attribution : The maps as arrays.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from sklipo.classifier import LipNetClassifier
    >>> from sklipo.inspection import AttributionDisplay
    >>> X = np.random.RandomState(0).rand(20, 28, 28)
    >>> clf = LipNetClassifier(max_epochs=1, random_state=0).fit(X, [0, 1] * 10)
    >>> display = AttributionDisplay.from_estimator(clf, X[:2])
    >>> display.axes_.shape
    (2, 4)
    """

    def __init__(self, images, maps, *, labels=None):
        self.images = images
        self.maps = maps
        self.labels = labels

    def plot(self, *, figure=None, cmap="inferno", alpha=0.8):
        """Draw the images and the maps over them.

        Parameters
        ----------
        figure : matplotlib Figure, default=None
            An empty figure to draw in; None makes a new one.
        cmap : str or matplotlib Colormap, default="inferno"
            The colour map of the maps.
        alpha : float, default=0.8
            Opacity of a map at its maximum; it fades to transparent at zero.

        Returns
        -------
        display : AttributionDisplay
            This display, with `axes_` and `figure_` set.
        """
        import matplotlib.pyplot as plt

        n_rows, n_cols = len(self.images), 1 + len(self.maps)
        if figure is None:
            figure = plt.figure(figsize=(2.2 * n_cols, 2.3 * n_rows))
        axes = figure.subplots(n_rows, n_cols, squeeze=False)
        for row, image in enumerate(self.images):
            axes[row, 0].imshow(image, cmap="gray")
            if self.labels is not None:
                axes[row, 0].set_title(self.labels[row], fontsize="small")
            for ax, (method, maps) in zip(axes[row, 1:], self.maps.items()):
                amap = np.asarray(maps[row], dtype=float)
                scaled = amap / (amap.max() or 1.0)
                ax.imshow(image, cmap="gray")
                ax.imshow(scaled, cmap=cmap, vmin=0, vmax=1, alpha=alpha * scaled)
                ax.set_title(_TITLES.get(method, method), fontsize="small")
        for ax in axes.ravel():
            ax.set_axis_off()
        self.axes_ = axes
        self.figure_ = figure
        return self

    @classmethod
    def from_estimator(
        cls,
        estimator,
        X,
        *,
        methods=ATTRIBUTION_METHODS,
        target=None,
        figure=None,
        cmap="inferno",
        alpha=0.8,
    ):
        """Plot attribution maps of a fitted LipNet model over its particles.

        Parameters
        ----------
        estimator : LipNetClassifier or Pipeline
            A fitted :class:`~sklipo.classifier.LipNetClassifier`, or a fitted
            pipeline whose last step is one.
        X : ParticleSet or ndarray
            A few particles as the estimator takes them; one row each.
        methods : sequence of str, default=("saliency", "guided_backprop", \
"deconvnet")
            The methods, one column each, see :func:`attribution`.
        target : label or array-like of shape (n,), default=None
            The class explained; None is each particle's predicted class.
        figure : matplotlib Figure, default=None
            An empty figure to draw in; None makes a new one.
        cmap : str or matplotlib Colormap, default="inferno"
            The colour map of the maps.
        alpha : float, default=0.8
            Opacity of a map at its maximum.

        Returns
        -------
        display : AttributionDisplay
            The display, drawn. Each row is titled with the explained class and
            its probability: ``"predicted: multilamellar (p = 0.82)"`` when
            `target` is None, ``"target: unilamellar (p = 0.10)"`` otherwise.

        Raises
        ------
        ValueError
            If a method is unknown, or `target` holds a label not in
            ``classes_``.
        """
        if len(methods) == 0:
            raise ValueError("`methods` must name at least one attribution method.")
        for method in methods:
            _check_method(method)
        clf, X = _transformed(estimator, X)
        data = clf.network_input(X)
        maps = {}
        for method in methods:
            maps[method], proba = _attribution(clf, data, method, target, batch_size=256)
        if target is None:
            codes, kind = proba.argmax(axis=1), "predicted"
        else:
            codes = np.searchsorted(clf.classes_, np.broadcast_to(target, len(data)))
            kind = "target"
        labels = [
            f"{kind}: {clf.classes_[k]} (p = {proba[i, k]:.2f})" for i, k in enumerate(codes)
        ]
        return cls(_input_images(clf, X), maps, labels=labels).plot(
            figure=figure, cmap=cmap, alpha=alpha
        )
