"""The training loss of LipNetClassifier and its imbalance-aware variants.

Class-weighted, label-smoothed cross-entropy, optionally on logits shifted by
``tau * log(prior)`` during training (logit-adjusted cross-entropy, Menon et
al., ICLR 2021; balanced softmax, Ren et al., NeurIPS 2020), and the same
shift subtracted at prediction (post-hoc logit adjustment).
"""

# License: BSD 3 clause

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

__all__ = []

#: The values of LipNetClassifier's `loss` parameter.
LOSSES = ("cross_entropy", "logit_adjusted", "balanced_softmax")


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

    With `logit_offset` the loss is computed on ``logits + logit_offset``:
    with ``tau * log(prior)`` this is the logit-adjusted loss, which asks a
    rare class for a larger margin, so the network's raw logits (what
    ``predict_proba`` turns into probabilities) estimate the *balanced*
    posterior. Label smoothing then spreads its ``eps`` over the classes in
    proportion to ``softmax(logit_offset)`` (the prior, for ``tau = 1``)
    rather than uniformly: uniform smoothing of the adjusted logits would
    ask every majority sample for a rare-class probability of ``eps / k``,
    which the raw logits can only give by ranking the rare class first (with
    an imbalance of 100 and ``eps = 0.1``, the raw rare logit ends up above
    the majority's on every majority sample). Smoothed by the prior, the
    raw rare logit of a majority sample sits about ``log(eps)`` below the
    majority's, as with plain smoothing; without an offset (or a zero one)
    it is torch's label smoothing.

    Parameters
    ----------
    weight : torch.Tensor of shape (n_classes,), default=None
        The weight of each class; None weights all samples equally.
    label_smoothing : float, default=0.0
        Smoothing ``eps`` of the targets, as in ``torch.nn.CrossEntropyLoss``.
    logit_offset : torch.Tensor of shape (n_classes,), default=None
        Added to the logits before the loss, at training only; None adds
        nothing.
    """

    def __init__(self, weight=None, label_smoothing=0.0, logit_offset=None):
        super().__init__(weight=weight, label_smoothing=label_smoothing)
        self.register_buffer("logit_offset", logit_offset)

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
        losses, weights = self.sample_losses(logits, target)
        if weights is None:
            return losses.mean()
        return torch.sum(weights * losses) / torch.sum(weights)

    def sample_losses(self, logits, target):
        """Return each sample's loss and weight, which :meth:`forward` averages.

        Parameters
        ----------
        logits : torch.Tensor of shape (n, n_classes)
            The network's outputs.
        target : torch.Tensor of shape (n,)
            Class indices.

        Returns
        -------
        losses : torch.Tensor of shape (n,)
            The smoothed (and adjusted) loss of each sample.
        weights : torch.Tensor of shape (n,) or None
            The weight of each sample's class; None without class weights.
        """
        if self.logit_offset is None:
            losses = F.cross_entropy(
                logits, target, reduction="none", label_smoothing=self.label_smoothing
            )
        else:
            log_proba = F.log_softmax(logits + self.logit_offset, dim=1)
            losses = -log_proba.gather(1, target[:, None])[:, 0]
            if self.label_smoothing:
                spread = -(torch.softmax(self.logit_offset, dim=0) * log_proba).sum(dim=1)
                losses = (1 - self.label_smoothing) * losses + self.label_smoothing * spread
        return losses, None if self.weight is None else self.weight[target]


def class_prior(codes, n_classes):
    """The training frequency of each class (codes ``0 .. n_classes - 1``)."""
    counts = np.bincount(np.asarray(codes), minlength=n_classes).astype(np.float64)
    return counts / counts.sum()


def training_offset(loss, tau, prior):
    """The logit offset of the training loss, as a float32 tensor, or None.

    ``"logit_adjusted"`` adds ``tau * log(prior)``; ``"balanced_softmax"``
    adds ``log(prior)``, the same loss with ``tau = 1`` (Ren et al.'s
    ``n_j exp(z_j) / sum_i n_i exp(z_i)`` is a softmax of
    ``z + log n``, and ``log n`` differs from ``log prior`` by a constant,
    which the softmax ignores).
    """
    if loss == "cross_entropy":
        return None
    strength = tau if loss == "logit_adjusted" else 1.0
    return torch.tensor(strength * np.log(prior), dtype=torch.float32)


def adjusted_logits(logits, prior, strength):
    """Logits less ``strength * log(prior)``: post-hoc logit adjustment.

    Subtracting the log prior of the training classes turns a posterior
    estimate under the training distribution into one under balanced
    classes (Menon et al.'s post-hoc correction); `strength` (their tau)
    scales it, 0 or None leaving the logits as they are.
    """
    if not strength:
        return logits
    offset = torch.as_tensor(strength * np.log(prior), dtype=logits.dtype, device=logits.device)
    return logits - offset
