"""Turn fixed-size images into the 2-D matrix that tabular estimators take."""

# License: BSD 3 clause

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils.validation import check_array, check_is_fitted

__all__ = ["Flatten"]


def _check_image_stack(X):
    """Return `X` as an (n, C, H, W) or already flat (n, d) array, or raise."""
    X = check_array(X, allow_nd=True, ensure_2d=False, input_name="X")
    if X.ndim == 3:
        X = X[:, None]
    if X.ndim not in (2, 4):
        raise ValueError(
            "Flatten takes an array of shape (n, H, W) or (n, C, H, W), or an already "
            f"flat (n, d) matrix; got shape {X.shape}. Reshape your data so that the "
            "first axis runs over particles."
        )
    return X


class Flatten(TransformerMixin, BaseEstimator):
    """Flatten fixed-size images into one row of pixels per particle.

    Lets any scikit-learn estimator that expects a 2-D matrix follow
    :class:`Resize` in a pipeline. A matrix that is already flat, ``(n, d)``,
    passes through unchanged.

    Attributes
    ----------
    image_shape_ : tuple of int
        ``(C, H, W)`` of the images seen in :meth:`fit` (``(d,)`` for a flat
        matrix); :meth:`transform` requires the same.
    n_features_in_ : int
        Values per particle, ``C * H * W``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklipo.preprocessing import Flatten
    >>> Flatten().fit_transform(np.zeros((5, 1, 28, 28))).shape
    (5, 784)
    """

    _parameter_constraints: dict = {}

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Record the image shape.

        Parameters
        ----------
        X : ndarray of shape (n, H, W) or (n, C, H, W)
            Fixed-size images, e.g. the output of :class:`Resize`.
        y : None
            Ignored.

        Returns
        -------
        self : object
            The transformer.
        """
        self.image_shape_ = _check_image_stack(X).shape[1:]
        self.n_features_in_ = int(np.prod(self.image_shape_))
        return self

    def transform(self, X):
        """Flatten each image.

        Parameters
        ----------
        X : ndarray of shape (n, H, W) or (n, C, H, W)
            Images of the shape seen in :meth:`fit`.

        Returns
        -------
        X_out : ndarray of shape (n, C * H * W)
        """
        check_is_fitted(self)
        X = _check_image_stack(X)
        if X.ndim == 2 and X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {X.shape[1]} features, but Flatten is expecting "
                f"{self.n_features_in_} features as input."
            )
        if X.shape[1:] != self.image_shape_:
            raise ValueError(
                f"Flatten was fitted on images of shape {self.image_shape_} (C, H, W) "
                f"but got {X.shape[1:]}."
            )
        return X.reshape(len(X), -1)

    def get_feature_names_out(self, input_features=None):
        """Name each pixel column ``c{channel}_y{row}_x{column}`` (``x{k}`` if flat).

        Parameters
        ----------
        input_features : None
            Ignored.

        Returns
        -------
        feature_names_out : ndarray of str
        """
        check_is_fitted(self)
        if len(self.image_shape_) == 1:
            return np.array([f"x{k}" for k in range(self.image_shape_[0])], dtype=object)
        c, h, w = np.indices(self.image_shape_).reshape(3, -1)
        return np.array([f"c{i}_y{j}_x{k}" for i, j, k in zip(c, h, w)], dtype=object)
