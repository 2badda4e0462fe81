import numpy as np

from sklipo.utils import n_channels


def test_n_channels_of_grayscale_and_channel_last_images():
    """Check 1 for (H, W) and C for (H, W, C)."""
    assert n_channels(np.zeros((5, 4))) == 1
    assert n_channels(np.zeros((5, 4, 1))) == 1
    assert n_channels(np.zeros((5, 4, 3))) == 3
