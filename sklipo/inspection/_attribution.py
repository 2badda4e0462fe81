"""Attribution maps: which input pixels drive a LipNet's class score."""

# License: BSD 3 clause

import contextlib
from math import prod

import numpy as np
import torch
from torch.nn import functional as F
from torch.overrides import TorchFunctionMode

from sklipo.inspection._network import _batches, _eval_copy, _transformed

__all__ = ["ATTRIBUTION_METHODS", "attribution"]

#: Names of the attribution methods, as ``attribution(method=...)`` takes them.
ATTRIBUTION_METHODS = ("saliency", "guided_backprop", "deconvnet")


class _GuidedReLU(torch.autograd.Function):
    """ReLU whose backward pass keeps positive gradients at positive inputs only."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.clamp_min(0)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad.clamp_min(0) * (x > 0)


class _DeconvReLU(torch.autograd.Function):
    """ReLU whose backward pass rectifies the signal, ignoring the forward input."""

    @staticmethod
    def forward(ctx, x):
        return x.clamp_min(0)

    @staticmethod
    def backward(ctx, grad):
        return grad.clamp_min(0)


class _SwitchedMax(torch.autograd.Function):
    """Max over dimensions whose backward pass routes to one recorded position.

    The recorded switch is the first maximum, as in max-pooling; torch's own
    ``amax`` splits the gradient between ties instead, so with the padding of
    a LipNetFCN batch a dead (all-zero) channel would share its signal with
    padded positions and a particle's map would depend on its batch.
    """

    @staticmethod
    def forward(ctx, x, dims):
        rest = [d for d in range(x.ndim) if d not in dims]
        moved = x.permute(*rest, *dims)
        values, switches = moved.reshape(*moved.shape[: len(rest)], -1).max(dim=-1)
        ctx.save_for_backward(switches)
        ctx.moved_shape = moved.shape
        ctx.order = rest + list(dims)
        return values

    @staticmethod
    def backward(ctx, grad):
        (switches,) = ctx.saved_tensors
        flat = grad.new_zeros(*grad.shape, prod(ctx.moved_shape[grad.ndim :]))
        flat.scatter_(-1, switches[..., None], grad[..., None])
        inverse = np.argsort(ctx.order).tolist()
        return flat.reshape(ctx.moved_shape).permute(*inverse), None


class _BackwardRule(TorchFunctionMode):
    """Route the forward pass's ReLUs (and global maxima) through custom backward rules.

    ``nn.ReLU`` modules (in place or not) and ``F.relu`` calls all go through
    ``torch.nn.functional.relu``, so one torch function mode covers the
    fixed-size LipNets and LipNetFCN alike, without editing the module.
    """

    _RELUS = (F.relu, F.relu_, torch.relu, torch.relu_, torch.Tensor.relu, torch.Tensor.relu_)
    _AMAX = (torch.amax, torch.Tensor.amax)

    def __init__(self, relu, *, switches=False):
        super().__init__()
        self.relu = relu
        self.switches = switches

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func in self._RELUS:
            return self.relu.apply(args[0])
        if self.switches and func in self._AMAX and not kwargs.get("keepdim", False):
            x = args[0]
            dim = args[1] if len(args) > 1 else kwargs.get("dim")
            if dim is not None and len(args) <= 2:
                dims = (dim,) if isinstance(dim, int) else tuple(dim)
                return _SwitchedMax.apply(x, sorted({d % x.ndim for d in dims}))
        return func(*args, **kwargs)


_RULES = {
    "saliency": contextlib.nullcontext,
    "guided_backprop": lambda: _BackwardRule(_GuidedReLU),
    "deconvnet": lambda: _BackwardRule(_DeconvReLU, switches=True),
}


def _check_method(method):
    if method not in _RULES:
        raise ValueError(
            f"Unknown attribution method {method!r}; choose one of "
            f"{', '.join(map(repr, ATTRIBUTION_METHODS))}."
        )


def _target_codes(clf, target, n_samples):
    """Class positions of `target` (None: the predicted class, decided later)."""
    if target is None:
        return None
    labels = np.asarray(target)
    if labels.ndim == 0:
        labels = np.full(n_samples, labels)
    elif labels.shape != (n_samples,):
        raise ValueError(
            f"`target` must be one class label or one per particle ({n_samples}); got "
            f"an array of shape {labels.shape}."
        )
    unknown = sorted(set(labels.tolist()) - set(clf.classes_.tolist()), key=str)
    if unknown:
        raise ValueError(
            f"`target` holds labels the classifier does not know: {unknown}; its "
            f"classes are {clf.classes_.tolist()}."
        )
    return torch.as_tensor(np.searchsorted(clf.classes_, labels), device=clf.device_)


def _attribution(clf, data, method, target, batch_size):
    """Attribution maps and class probabilities for the network input `data`."""
    _check_method(method)
    codes = _target_codes(clf, target, len(data))
    module = _eval_copy(clf)
    # gradients with respect to the classifier's input pixels, before its
    # standardisation: d/d(pixel) = d/d(standardised pixel) / scale
    scale = torch.as_tensor(clf.scale_, dtype=torch.float32, device=clf.device_)
    maps, proba = [], []
    with torch.enable_grad():
        for start, inputs in _batches(clf, data, batch_size):
            # the gradient flows to the pixels; extra features are held fixed
            x = inputs["x"].requires_grad_(True)
            with _RULES[method]():
                logits = module(**inputs)
            chosen = logits.argmax(dim=1) if codes is None else codes[start : start + len(x)]
            # particles are independent in eval mode, so one backward pass of
            # the summed scores gives every particle's own gradient
            score = logits.gather(1, chosen[:, None]).sum()
            (grad,) = torch.autograd.grad(score, x)
            batch_maps = (grad / scale[:, None, None]).abs().amax(dim=1).cpu().numpy()
            proba.append(torch.softmax(logits.detach(), dim=1).cpu().numpy())
            if "sizes" in inputs:
                sizes = inputs["sizes"].tolist()
                maps += [m[:h, :w] for m, (h, w) in zip(batch_maps, sizes)]
            else:
                maps.append(batch_maps)
    proba = np.concatenate(proba).astype(np.float64)
    return (maps if isinstance(data.X, list) else np.concatenate(maps)), proba


def attribution(estimator, X, *, method="saliency", target=None, batch_size=256):
    """Return attribution maps: how much each input pixel drives a class score.

    The score is the class's logit (before the softmax). All three methods
    propagate it back to the input and differ only in how they pass ReLUs on
    the way back:

    - ``"saliency"`` (Simonyan et al., 2014): the plain gradient; a ReLU passes
      the gradient where its forward input was positive.
    - ``"guided_backprop"`` (Springenberg et al., 2015): a ReLU passes only
      positive gradients, and only where its forward input was positive.
    - ``"deconvnet"`` (Zeiler and Fergus, 2014): a ReLU rectifies the signal
      on the way back, whatever its forward input; max-pooling routes through
      the switches (argmax positions) recorded on the way forward and
      convolutions are transposed, as in the gradient. LipNetFCN's global
      max routes through its switch too.

    Each map is the maximum over channels of the absolute value, so it has the
    input's spatial shape. The network runs in eval mode (dropout off) on a
    copy of the fitted module; a batch takes one forward and one backward pass.

    Parameters
    ----------
    estimator : LipNetClassifier or Pipeline
        A fitted :class:`~sklipo.classifier.LipNetClassifier`, or a fitted
        pipeline whose last step is one.
    X : ParticleSet or ndarray
        Particles as the estimator takes them: raw input for a pipeline (its
        preprocessing is applied), network-ready images for a classifier.
    method : {"saliency", "guided_backprop", "deconvnet"}, default="saliency"
        The backward rule.
    target : label or array-like of shape (n,), default=None
        The class whose score is explained: one label from ``classes_`` for all
        particles, or one per particle. None explains each particle's
        predicted class.
    batch_size : int, default=256
        Particles per forward and backward pass.

    Returns
    -------
    maps : ndarray of shape (n, H, W), or list of ndarray
        Non-negative maps in the frame of the network's input, i.e. after the
        pipeline's preprocessing (a ``Resize(28)`` pipeline gives 28x28 maps);
        gradients are taken with respect to the pixels the classifier receives,
        before its standardisation. For ``"lipnet_fcn"`` a list of ``(H_i,
        W_i)`` arrays, one per particle at its own size.

    Raises
    ------
    ValueError
        If `method` is unknown, or `target` holds a label not in ``classes_``.

    See Also
    --------
    AttributionDisplay : Plot the maps over the images.

    Notes
    -----
    Saliency maps are noisy. Guided backprop and deconvnet maps look sharper,
    but they partly reconstruct the image rather than explain the class:
    Adebayo et al. (2018) showed that guided backprop changes little when the
    network's weights are randomised. Compare the maps of different target
    classes before trusting them.

    References
    ----------
    .. [1] K. Simonyan, A. Vedaldi and A. Zisserman, "Deep Inside Convolutional
       Networks: Visualising Image Classification Models and Saliency Maps",
       ICLR workshop, 2014.
    .. [2] M. D. Zeiler and R. Fergus, "Visualizing and Understanding
       Convolutional Networks", ECCV, 2014.
    .. [3] J. T. Springenberg, A. Dosovitskiy, T. Brox and M. Riedmiller,
       "Striving for Simplicity: The All Convolutional Net", ICLR workshop,
       2015.
    .. [4] J. Adebayo, J. Gilmer, M. Muelly, I. Goodfellow, M. Hardt and B. Kim,
       "Sanity Checks for Saliency Maps", NeurIPS, 2018.

    Examples
    --------
    >>> import numpy as np
    >>> from sklipo.classifier import LipNetClassifier
    >>> from sklipo.inspection import attribution
    >>> X = np.random.RandomState(0).rand(20, 28, 28)
    >>> clf = LipNetClassifier(max_epochs=1, random_state=0).fit(X, [0, 1] * 10)
    >>> attribution(clf, X[:5], method="guided_backprop", target=1).shape
    (5, 28, 28)
    """
    _check_method(method)
    clf, X = _transformed(estimator, X)
    return _attribution(clf, clf.network_input(X), method, target, batch_size)[0]
