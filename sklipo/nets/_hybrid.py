"""Two-branch LipNets: learned image features and given features, one final layer."""

# License: BSD 3 clause

import torch
from torch import nn

from sklipo.nets._fcn import LipNetFCN
from sklipo.nets._lipnet import FCN, LipNet

__all__ = ["HybridLipNet"]


class HybridLipNet(nn.Module):
    """A LipNet whose final layer also sees extra features.

    The image branch is any LipNet without its final layer (a fixed-size
    :class:`LipNet` or the fully convolutional :class:`LipNetFCN`); its
    embedding (see :meth:`LipNet.embed`) is concatenated with ``n_extra``
    features given per particle (handcrafted features, say), and one dense
    layer maps the concatenation to the logits. Trained end to end, the
    convolutions learn what the extra features do not already tell.

    Parameters
    ----------
    image_net : str or torch.nn.Module, default="lipnet4"
        The image branch: an architecture of :data:`ARCHITECTURES`, built
        with ``n_classes=0`` and `image_params`, or a module with an
        ``n_embedding`` attribute and an ``embed(x, sizes=None)`` method.
    n_extra : int
        Number of extra features.
    n_classes : int, default=3
        Number of outputs.
    **image_params : dict
        Parameters of :class:`LipNet` (``n_channels``, ``input_shape``,
        ``dropout``, ``width``, ``n_hidden``) or :class:`LipNetFCN`
        (``n_channels``, ``dropout``, ``width``, ``n_blocks``) for an
        architecture name; none with a module.

    Attributes
    ----------
    image_net : torch.nn.Module
        The image branch.
    head : torch.nn.Linear
        The final layer, from ``image_net.n_embedding + n_extra`` inputs (the
        embedding first) to the logits.
    n_embedding : int
        Length of the image embedding, ``image_net.n_embedding``.
    min_size : int
        The smallest image side the image branch takes.

    Examples
    --------
    >>> import torch
    >>> from sklipo.nets import HybridLipNet
    >>> net = HybridLipNet("lipnet4", n_extra=5, n_classes=3)
    >>> net(torch.zeros(2, 1, 28, 28), extra=torch.zeros(2, 5)).shape
    torch.Size([2, 3])
    >>> fcn = HybridLipNet("lipnet_fcn", n_extra=5, n_classes=3)
    >>> sizes = torch.tensor([[60, 48], [33, 40]])
    >>> fcn(torch.zeros(2, 1, 60, 48), sizes, torch.zeros(2, 5)).shape
    torch.Size([2, 3])
    """

    def __init__(self, image_net="lipnet4", *, n_extra, n_classes=3, **image_params):
        super().__init__()
        if isinstance(image_net, str):
            if image_net == FCN:
                image_net = LipNetFCN(n_classes=0, **image_params)
            else:
                image_net = LipNet(image_net, n_classes=0, **image_params)
        elif image_params:
            raise TypeError(
                "HybridLipNet takes image_params only with an architecture name; got "
                f"a {type(image_net).__name__} module and {sorted(image_params)}."
            )
        self.image_net = image_net
        self.n_embedding = image_net.n_embedding
        self.min_size = image_net.min_size
        self.head = nn.Linear(self.n_embedding + n_extra, n_classes)

    def embed(self, x, sizes=None):
        """Return the image branch's embedding of a batch.

        Parameters
        ----------
        x : torch.Tensor of shape (n, n_channels, H, W)
            The images (a padded canvas for a fully convolutional branch).
        sizes : torch.Tensor of shape (n, 2), default=None
            Height and width of each image on the canvas; None when all fill
            it.

        Returns
        -------
        embedding : torch.Tensor of shape (n, n_embedding)
            The learned features, without the extra ones.
        """
        return self.image_net.embed(x, sizes)

    def forward(self, x, sizes=None, extra=None):
        """Return the logits of a batch.

        Parameters
        ----------
        x : torch.Tensor of shape (n, n_channels, H, W)
            The images (a padded canvas for a fully convolutional branch).
        sizes : torch.Tensor of shape (n, 2), default=None
            Height and width of each image on the canvas; None when all fill
            it.
        extra : torch.Tensor of shape (n, n_extra)
            The extra features of each image; required.

        Returns
        -------
        logits : torch.Tensor of shape (n, n_classes)
        """
        if extra is None:
            raise ValueError("HybridLipNet needs the extra features of each image; got None.")
        return self.head(torch.cat([self.embed(x, sizes), extra], dim=1))
