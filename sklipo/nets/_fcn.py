"""A fully convolutional LipNet for particles of any size."""

# License: BSD 3 clause

import torch
from torch import nn
from torch.nn import functional as F

from sklipo.nets._lipnet import _check_no_extra

__all__ = ["LipNetFCN"]


def _valid_mask(sizes, height, width, device):
    """(n, 1, H, W) float mask, 1 on each image's top-left ``sizes`` box."""
    rows = torch.arange(height, device=device)[None, :, None]
    cols = torch.arange(width, device=device)[None, None, :]
    mask = (rows < sizes[:, 0, None, None]) & (cols < sizes[:, 1, None, None])
    return mask[:, None].to(torch.float32)


class LipNetFCN(nn.Module):
    """Fully convolutional LipNet that takes batches of unequal image sizes.

    The study's future work: three LipNet-4-style blocks (two 3x3 convolutions
    with ReLU, max-pooling, dropout), then a global pooling head, so no input
    size is fixed. Images of different sizes share a batch by *padding and
    masking*: each image sits in the top-left corner of a canvas and
    ``sizes`` gives its true height and width. The padding is zeroed on the
    way in and after every convolution, so whatever it holds never leaks
    into the particle's features, and the head pools (mean and max) over the
    valid region only.

    Pooling alone would hide how big the particle is, yet size differs by
    class. The head therefore also sees the logarithm of each image's height
    and width in pixels, so particle size can inform the class. With one
    input channel, 3 classes and the defaults it has 46,761 trainable
    parameters. :meth:`embed` returns what the head sees: the pooled means,
    the pooled maxima and the two log sizes.

    Parameters
    ----------
    n_channels : int, default=1
        Channels of the input images.
    n_classes : int, default=3
        Number of outputs. 0 builds the network without its head, so that it
        returns the embedding (see :class:`HybridLipNet`).
    dropout : float, default=0.25
        Dropout rate after each block.
    width : int, default=32
        Channels of every convolution.
    n_blocks : int, default=3
        Number of conv blocks; images need at least ``2 ** n_blocks`` pixels a
        side.

    Attributes
    ----------
    features : torch.nn.ModuleList
        The convolution layers, in order.
    head : torch.nn.Linear
        Maps the pooled features and log sizes to logits; weight decay applies
        to it by default. An ``nn.Identity`` when ``n_classes=0``.
    n_embedding : int
        Length of the vectors :meth:`embed` returns: ``2 * width + 2``.
    min_size : int
        The smallest image side it takes, ``2 ** n_blocks``.

    Examples
    --------
    >>> import torch
    >>> from sklipo.nets import LipNetFCN
    >>> net = LipNetFCN(n_classes=3)
    >>> x = torch.zeros(2, 1, 60, 48)
    >>> net(x, torch.tensor([[60, 48], [33, 40]])).shape
    torch.Size([2, 3])
    """

    def __init__(self, *, n_channels=1, n_classes=3, dropout=0.25, width=32, n_blocks=3):
        super().__init__()
        convs = []
        in_channels = n_channels
        for _ in range(n_blocks):
            for _ in range(2):
                convs.append(nn.Conv2d(in_channels, width, kernel_size=3, padding=1))
                in_channels = width
        self.features = nn.ModuleList(convs)
        self.n_blocks = n_blocks
        self.min_size = 2**n_blocks
        self.dropout = nn.Dropout(dropout)
        self.n_embedding = 2 * width + 2
        self.head = nn.Linear(self.n_embedding, n_classes) if n_classes else nn.Identity()

    def forward(self, x, sizes=None, extra=None):
        """Return the logits of a padded batch.

        Parameters
        ----------
        x : torch.Tensor of shape (n, n_channels, H, W)
            Images in the top-left corner of a canvas; the padding is ignored.
        sizes : torch.Tensor of shape (n, 2), default=None
            Height and width of each image; None when all fill the canvas.
        extra : None
            Must be None: extra features need :class:`HybridLipNet`.

        Returns
        -------
        logits : torch.Tensor of shape (n, n_classes)
        """
        _check_no_extra(self, extra)
        return self.head(self.embed(x, sizes))

    def embed(self, x, sizes=None):
        """Return the penultimate activations of a padded batch.

        Parameters
        ----------
        x : torch.Tensor of shape (n, n_channels, H, W)
            Images in the top-left corner of a canvas; the padding is ignored.
        sizes : torch.Tensor of shape (n, 2), default=None
            Height and width of each image; None when all fill the canvas.

        Returns
        -------
        embedding : torch.Tensor of shape (n, n_embedding)
            The masked global mean and max of the last block's maps and the
            log height and width of each image: the input of the head.
        """
        n, _, height, width = x.shape
        if sizes is None:
            sizes = torch.tensor([[height, width]], device=x.device).expand(n, 2)
        sizes = sizes.to(x.device)
        log_sizes = torch.log(sizes.to(x.dtype))
        mask = _valid_mask(sizes, height, width, x.device)
        x = x * mask
        for i, conv in enumerate(self.features):
            x = F.relu(conv(x)) * mask
            if i % 2 == 1:
                # a pooled cell is valid only if its whole window is, so a
                # padded image pools exactly as it would alone (floor mode)
                mask = -F.max_pool2d(-mask, 2)
                x = self.dropout(F.max_pool2d(x, 2)) * mask
        area = mask.sum(dim=(2, 3)).clamp_min(1.0)
        mean = x.sum(dim=(2, 3)) / area
        # features are ReLU outputs (>= 0) zeroed off the mask, so a plain max
        # over the canvas is the max over the valid region
        peak = x.amax(dim=(2, 3))
        return torch.cat([mean, peak, log_sizes], dim=1)
