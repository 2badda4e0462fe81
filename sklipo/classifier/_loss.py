"""The training loss of LipNetClassifier: class-weighted, label-smoothed cross-entropy."""

# License: BSD 3 clause

import torch
from torch import nn
from torch.nn import functional as F

__all__ = []


class ClassWeightedCrossEntropy(nn.CrossEntropyLoss):
    """Cross-entropy with label smoothing, weighting each sample by its class.

    ``torch.nn.CrossEntropyLoss(weight=w, label_smoothing=eps)`` also weights
    the smoothing term of every sample by ``w``: for a majority-class sample
    it adds ``eps / k * w[c] * -log p[c]`` for each class ``c``, so with the
    large weights of a rare class (about 50 for the study's "uncertain") the
    loss of a majority sample is lowest when it predicts the rare class, and
    training collapses onto it. Here the weight is a weight of the *sample*,
    as scikit-learn's ``class_weight`` means it: each sample's smoothed loss
    is multiplied by the weight of its true class, and the batch loss is the
    weighted mean. As a ``CrossEntropyLoss`` it lets skorch apply the softmax
    in ``predict_proba``.

    Parameters
    ----------
    weight : torch.Tensor of shape (n_classes,), default=None
        The weight of each class; None weights all samples equally.
    label_smoothing : float, default=0.0
        Smoothing ``eps`` of the targets, as in ``torch.nn.CrossEntropyLoss``.
    """

    def __init__(self, weight=None, label_smoothing=0.0):
        super().__init__(weight=weight, label_smoothing=label_smoothing)

    def forward(self, logits, target):
        """Return the weighted mean loss of a batch.

        Parameters
        ----------
        logits : torch.Tensor of shape (n, n_classes)
            The network's outputs.
        target : torch.Tensor of shape (n,)
            Class indices.

        Returns
        -------
        loss : torch.Tensor
            A scalar.
        """
        losses = F.cross_entropy(
            logits, target, reduction="none", label_smoothing=self.label_smoothing
        )
        if self.weight is None:
            return losses.mean()
        weights = self.weight[target]
        return torch.sum(weights * losses) / torch.sum(weights)
