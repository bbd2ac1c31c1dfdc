"""Contrastive losses as ``nn.Module``s whose ``forward(z1, z2)`` returns a scalar.

Losses check their arguments at construction and hold no device or distributed
logic. To add one: write the class here and use it from a method in
:mod:`tscl.methods`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from tscl._validation import check_param

__all__ = ["NTXent", "check_pair"]


def check_pair(z1: Tensor, z2: Tensor) -> None:
    """Check that two embedding batches are 2-D, equal-shaped and hold >= 2 rows.

    Parameters
    ----------
    z1, z2 : Tensor of shape (batch, dim)
        Embeddings of two views; row ``i`` of each comes from sample ``i``.

    Raises
    ------
    ValueError
        On a shape mismatch or a batch of fewer than 2 samples.

    Examples
    --------
    >>> check_pair(torch.zeros(4, 8), torch.zeros(4, 8))
    """
    if z1.ndim != 2 or z1.shape != z2.shape:
        raise ValueError(
            "Expected two embedding batches of equal shape (batch, dim); got "
            f"{tuple(z1.shape)} and {tuple(z2.shape)}."
        )
    if z1.shape[0] < 2:
        raise ValueError(
            f"A contrastive loss needs at least 2 samples per batch; got {z1.shape[0]}."
        )


class NTXent(nn.Module):
    """Normalised temperature-scaled cross entropy (NT-Xent, InfoNCE over a batch).

    For ``n`` pairs, each of the ``2n`` embeddings has its other view as the
    positive and the ``2n - 2`` other embeddings as negatives; cosine
    similarities are divided by ``temperature``.

    Parameters
    ----------
    temperature : float, default=0.1
        Softmax temperature, > 0.

    References
    ----------
    .. [1] Chen et al., SimCLR, 2020, arXiv:2002.05709
    .. [2] van den Oord et al., CPC/InfoNCE, 2018, arXiv:1807.03748

    Examples
    --------
    >>> loss = NTXent(temperature=0.5)
    >>> z = torch.randn(8, 16)
    >>> bool(loss(z, z) < loss(z, torch.randn(8, 16)))  # aligned views cost less
    True
    """

    def __init__(self, temperature: float = 0.1) -> None:
        super().__init__()
        check_param(temperature, "temperature", owner=self, interval=(0, None))
        self.temperature = temperature

    def forward(self, z1: Tensor, z2: Tensor) -> Tensor:
        """Return the mean NT-Xent loss over both views.

        Parameters
        ----------
        z1, z2 : Tensor of shape (batch, dim)
            Projections of the two views.

        Returns
        -------
        Tensor
            A scalar.
        """
        check_pair(z1, z2)
        n = z1.shape[0]
        z = F.normalize(torch.cat([z1, z2]).float(), dim=1)  # (2n, dim)
        logits = z @ z.T / self.temperature  # (2n, 2n)
        eye = torch.eye(2 * n, dtype=torch.bool, device=z.device)
        logits = logits.masked_fill(eye, float("-inf"))  # no self-pairs
        target = torch.arange(2 * n, device=z.device).roll(n)  # i <-> i +/- n
        return F.cross_entropy(logits, target)
