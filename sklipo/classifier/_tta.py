"""Test-time augmentation and post-hoc logit adjustment of LipNetClassifier's predictions."""

# License: BSD 3 clause

import torch

from sklipo.classifier._calibration import temperature
from sklipo.classifier._data import ImageData
from sklipo.classifier._loss import adjusted_logits

__all__ = []

#: The values of LipNetClassifier's `tta` parameter, with their transforms:
#: (number of quarter turns, whether to flip the width first).
TTA_TRANSFORMS = {
    "flips": [(0, False), (0, True), (2, True), (2, False)],
    "dihedral": [(k, flip) for flip in (False, True) for k in range(4)],
}

def transform_image(x, turns, flip):
    """Flip `x` along its width (if `flip`), then turn it `turns` quarter turns.

    Works on a ``(C, H, W)`` image or an ``(n, C, H, W)`` batch: the last
    two axes are the image's. An odd number of turns swaps height and width.
    """
    if flip:
        x = torch.flip(x, dims=(-1,))
    return torch.rot90(x, turns, dims=(-2, -1)) if turns % 4 else x

def tta_transforms(tta, input_shape):
    """The (turns, flip) transforms of `tta` for images of `input_shape`.

    Parameters
    ----------
    tta : {"dihedral", "flips"} or None
        The classifier's parameter.
    input_shape : tuple of int or None
        The fixed-size network's ``(H, W)``, or None for ``"lipnet_fcn"``,
        whose images may change shape.

    Returns
    -------
    transforms : list of (int, bool)
        ``[(0, False)]`` (the identity alone) without `tta`.
    """
    if tta is None:
        return [(0, False)]
    if tta == "dihedral" and input_shape is not None and input_shape[0] != input_shape[1]:
        raise ValueError(
            "tta='dihedral' turns images by 90 degrees, which swaps height and width, "
            f"but this network takes {input_shape[0]}x{input_shape[1]} images only. "
            "Use tta='flips' (the four transforms that keep the shape), resize to a "
            "square, or use architecture='lipnet_fcn'."
        )
    return TTA_TRANSFORMS[tta]

def _view(data, turns, flip):
    """`data` with every image transformed; extra features unchanged."""
    if turns == 0 and not flip:
        return data
    if isinstance(data.X, list):  # each image in its own frame, before padding
        images = [transform_image(x, turns, flip) for x in data.X]
    else:
        images = transform_image(data.X, turns, flip).contiguous()
    return ImageData(images, extra=data.extra)

def predict_proba(clf, data):
    """Class probabilities of `clf` for network input `data`.

    The softmax of the network's logits, divided by the fitted temperature
    (``clf.temperature_``), after post-hoc logit adjustment
    (``clf.logit_adjustment``) and averaged over the transforms of
    ``clf.tta`` (each particle is transformed in its own frame, so a
    ``"lipnet_fcn"`` batch is padded after the transform).

    Parameters
    ----------
    clf : LipNetClassifier
        A fitted classifier.
    data : ImageData
        What ``clf.network_input(X)`` returns.

    Returns
    -------
    proba : ndarray of shape (n, n_classes), dtype=float64
    """
    transforms = tta_transforms(clf.tta, clf.input_shape_)
    total = None
    for turns, flip in transforms:
        logits = clf.net_.forward(_view(data, turns, flip), training=False)
        logits = logits / temperature(clf)  # calibrated, then adjusted
        logits = adjusted_logits(logits, clf.class_prior_, clf.logit_adjustment)
        proba = torch.softmax(logits.to(torch.float64), dim=1)
        total = proba if total is None else total + proba
    return (total / len(transforms)).numpy()
