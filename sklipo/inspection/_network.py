"""The network inside a fitted LipNet model: its conv layers, input and activations."""

# License: BSD 3 clause

import copy

import torch
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted
from torch import nn

from sklipo.classifier import Batches, split_lipnet, transform_before
from sklipo.nets import LipNetFCN

__all__ = ["conv_layers", "feature_maps"]

_EXPECTED = "a fitted LipNetClassifier, or a fitted Pipeline whose last step is one"


def _split_estimator(estimator):
    """Return the steps before the fitted classifier, and the classifier."""
    steps, clf = split_lipnet(estimator)
    if clf is None:
        if isinstance(estimator, Pipeline) and estimator.steps:
            where = f"the pipeline's last step is {type(estimator.steps[-1][1]).__name__}"
        else:
            where = f"got {type(estimator).__name__}"
        raise TypeError(
            f"Inspection needs {_EXPECTED}; {where}. Only networks have layers and "
            "gradients to inspect."
        )
    check_is_fitted(clf)
    return steps, clf


def _transformed(estimator, X):
    """Return the classifier and `X` after the pipeline's steps before it."""
    steps, clf = _split_estimator(estimator)
    return clf, transform_before(steps, X)


def _input_images(clf, X):
    """The network's input images of `X`, before standardisation, channel-averaged.

    The images show the pixels after the pipeline's preprocessing (e.g.
    after ``Resize``).
    """
    return [x.numpy().mean(axis=0) for x in clf.network_input(X, standardize=False).X]


def _eval_copy(clf):
    """A copy of the fitted module in eval mode (dropout off), weights frozen.

    Working on a copy leaves the fitted estimator untouched, whatever hooks
    or modes the inspection needs.
    """
    module = copy.deepcopy(clf.net_.module_).eval()
    for parameter in module.parameters():
        parameter.requires_grad_(False)
    return module


def _batches(clf, data, batch_size):
    """Yield ``(start, inputs)`` batches of ImageData `data` on the classifier's device.

    ``inputs`` holds the keyword arguments of the module's forward: ``"x"``,
    and ``"sizes"`` (the true height and width of each image of a padded
    ``"lipnet_fcn"`` batch) and ``"extra"`` where the network takes them.
    """
    for i, (inputs, _) in enumerate(Batches(data, batch_size, device=clf.device_)):
        yield i * batch_size, inputs


def _conv_paths(module):
    """The module's conv layers: ``{"conv1": torch module path, ...}``, in forward order.

    The names follow the architecture (conv1 is the first convolution the
    image meets), whatever the torch attributes holding the layers are
    called; the modules register their layers in forward order.
    """
    paths = [name for name, m in module.named_modules() if isinstance(m, nn.Conv2d)]
    return {f"conv{i}": path for i, path in enumerate(paths, start=1)}


def _conv_module(module, name):
    """The conv layer called `name` (``"conv1"`` ...) of a module."""
    return module.get_submodule(_conv_paths(module)[name])


def _check_layers(clf, layer):
    """The conv layer names `layer` asks for (all when None), checked."""
    convs = list(_conv_paths(clf.net_.module_))
    if layer is None:
        return convs
    names = [layer] if isinstance(layer, str) else list(layer)
    unknown = [name for name in names if name not in convs]
    if unknown or not names:
        raise ValueError(
            f"The {clf.architecture} network has no conv layer "
            f"{unknown[0] if unknown else '(none given)'!r}; its conv layers are "
            f"{', '.join(map(repr, convs))}."
        )
    return names


def _followed_by_relu(module, path):
    """Whether the output of the conv layer at torch path `path` goes through a ReLU next."""
    parent_name, _, index = path.rpartition(".")
    if isinstance(module.get_submodule(parent_name.rpartition(".")[0]), LipNetFCN):
        # LipNetFCN (alone or as a two-branch net's image branch) applies
        # F.relu to every one of its convolutions
        return True
    parent = module.get_submodule(parent_name)
    if not isinstance(parent, nn.Sequential) or int(index) + 1 >= len(parent):
        return False
    return isinstance(parent[int(index) + 1], nn.ReLU)


def _halvings(full, reduced):
    """How many times a side of `full` pixels was halved (floor) to `reduced`."""
    n = 0
    while full >> n > reduced:
        n += 1
    return n


def conv_layers(estimator):
    """Return the names of the convolution layers of a fitted LipNet model.

    Parameters
    ----------
    estimator : LipNetClassifier or Pipeline
        A fitted :class:`~sklipo.classifier.LipNetClassifier`, or a fitted
        pipeline (scikit-learn's or imbalanced-learn's) whose last step is one.

    Returns
    -------
    names : list of str
        ``["conv1", ..., "convN"]``: the convolutions numbered in the order the
        image meets them, as in the architecture's description (LipNet-4's
        four, LipNet-4c's 1x1 head last), and as :func:`feature_maps` and
        the displays take them.

    Raises
    ------
    TypeError
        If `estimator` holds no LipNetClassifier.
    sklearn.exceptions.NotFittedError
        If the classifier is not fitted.

    Examples
    --------
    >>> import numpy as np
    >>> from sklipo.classifier import LipNetClassifier
    >>> from sklipo.inspection import conv_layers
    >>> X = np.random.RandomState(0).rand(20, 28, 28)
    >>> clf = LipNetClassifier(max_epochs=1, random_state=0).fit(X, [0, 1] * 10)
    >>> conv_layers(clf)
    ['conv1', 'conv2', 'conv3', 'conv4']
    """
    _, clf = _split_estimator(estimator)
    return list(_conv_paths(clf.net_.module_))


def _feature_maps(clf, data, names, batch_size):
    module = _eval_copy(clf)
    paths = _conv_paths(module)
    relu = {name: _followed_by_relu(module, paths[name]) for name in names}
    recorded = {name: [] for name in names}

    def recorder(name):
        def record(_module, _input, output):
            # a copy (clamp_min makes one), before an in-place ReLU changes it
            out = output.clamp_min(0) if relu[name] else output.clone()
            recorded[name].append(out.cpu())

        return record

    for name in names:
        module.get_submodule(paths[name]).register_forward_hook(recorder(name))
    sizes = []
    with torch.no_grad():
        for _, inputs in _batches(clf, data, batch_size):
            module(**inputs)
            if "sizes" in inputs:
                sizes.append(inputs["sizes"].cpu())
    maps = {}
    for name in names:
        if not sizes:
            maps[name] = torch.cat(recorded[name]).numpy()
            continue
        maps[name] = []
        for out, batch_sizes in zip(recorded[name], sizes):
            # crop each padded map to the particle's own (downsampled) region
            halvings = _halvings(max(int(s) for s in batch_sizes[:, 0]), out.shape[2])
            for image_map, (height, width) in zip(out.numpy(), batch_sizes.tolist()):
                maps[name].append(image_map[:, : height >> halvings, : width >> halvings])
    return maps


def feature_maps(estimator, X, *, layer=None, batch_size=256):
    """Return the activations of conv layers for particles `X`.

    The activation of a layer is its output after the ReLU that follows it
    (what the next layer sees, before any pooling); a convolution with no ReLU
    after it (LipNet-4c's 1x1 head) gives its plain output. The network runs in
    eval mode (dropout off) on a copy of the fitted module, without gradients.

    Parameters
    ----------
    estimator : LipNetClassifier or Pipeline
        A fitted :class:`~sklipo.classifier.LipNetClassifier`, or a fitted
        pipeline whose last step is one.
    X : ParticleSet or ndarray
        Particles as the estimator takes them: raw input for a pipeline (its
        preprocessing is applied), network-ready images for a classifier.
    layer : str or list of str, default=None
        Conv layer name(s) such as ``"conv2"``, see :func:`conv_layers`; None
        means every conv layer.
    batch_size : int, default=256
        Particles per forward pass.

    Returns
    -------
    maps : dict of str to ndarray or list of ndarray
        For each layer, in forward order: an ``(n, channels, h, w)`` array for
        a fixed-size network; for ``"lipnet_fcn"`` a list of ``(channels,
        h_i, w_i)`` arrays, each cropped to its particle's region.

    Raises
    ------
    ValueError
        If `layer` names no conv layer of the network (the message lists
        them).

    See Also
    --------
    FeatureMapDisplay : Plot them for one particle.

    Examples
    --------
    >>> import numpy as np
    >>> from sklipo.classifier import LipNetClassifier
    >>> from sklipo.inspection import feature_maps
    >>> X = np.random.RandomState(0).rand(20, 28, 28)
    >>> clf = LipNetClassifier(max_epochs=1, random_state=0).fit(X, [0, 1] * 10)
    >>> feature_maps(clf, X[:2], layer="conv3")["conv3"].shape
    (2, 32, 14, 14)
    """
    clf, X = _transformed(estimator, X)
    return _feature_maps(clf, clf.network_input(X), _check_layers(clf, layer), batch_size)
