"""CLIP-style pairs: two encoders, one per modality, and a symmetric InfoNCE."""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import ClassVar

import torch
from torch import Tensor, nn

from tscl import distributed, encoders, losses
from tscl._validation import MAX_SIZE, check_choice, check_count, short_repr
from tscl.methods._base import Method, projection_head

__all__ = ["CLIP", "CLIPPair", "ChannelGroup", "PairEncoder", "Spectrum"]


class Spectrum(nn.Module):
    """Amplitude spectrum ``|rfft(x)|`` per channel (orthonormal scaling).

    Maps ``(batch, channels, time)`` to ``(batch, channels, time // 2 + 1)``;
    half-precision input is transformed in float32.

    Examples
    --------
    >>> Spectrum()(torch.ones(2, 3, 16)).shape
    torch.Size([2, 3, 9])
    """

    def forward(self, x: Tensor) -> Tensor:
        """Return the amplitude spectrum of every channel."""
        work = x if x.dtype in (torch.float32, torch.float64) else x.float()
        return torch.fft.rfft(work, dim=-1, norm="ortho").abs().to(x.dtype)


class ChannelGroup(nn.Module):
    """Select a group of channels, e.g. the limb leads of a 12-lead ECG.

    Parameters
    ----------
    channels : sequence of int
        Channel indices to keep, in order.

    Examples
    --------
    >>> ChannelGroup([0, 2])(torch.zeros(4, 3, 10)).shape
    torch.Size([4, 2, 10])
    """

    index: Tensor

    def __init__(self, channels: Sequence[int]) -> None:
        super().__init__()
        self.channels = [int(c) for c in channels]
        self.register_buffer(
            "index", torch.tensor(self.channels, dtype=torch.long), persistent=False
        )

    def forward(self, x: Tensor) -> Tensor:
        """Return ``x[:, channels]``."""
        if x.ndim != 3 or max(self.channels) >= x.shape[1]:
            raise ValueError(
                f"ChannelGroup({self.channels}) needs (batch, channels, time) input "
                f"with more than {max(self.channels)} channels; got "
                f"{tuple(x.shape)}."
            )
        return x.index_select(1, self.index)


class PairEncoder(nn.Module):
    """Concatenate the representations of two modality encoders.

    ``forward(x)`` is ``cat([encoder_a(modality_a(x)), encoder_b(modality_b(x))])``:
    after CLIP-style training, downstream models see both modalities.

    Parameters
    ----------
    encoder_a, encoder_b : nn.Module
        Encoders with an ``out_dim``.
    modality_a, modality_b : nn.Module
        Turn the input series into each encoder's input (``nn.Identity``,
        :class:`Spectrum`, :class:`ChannelGroup`).

    Examples
    --------
    >>> from tscl.encoders import CNN
    >>> pair = PairEncoder(CNN(2, 4, hidden_dim=4, depth=1),
    ...                    CNN(2, 3, hidden_dim=4, depth=1), nn.Identity(), Spectrum())
    >>> pair(torch.randn(5, 2, 32)).shape, pair.out_dim
    (torch.Size([5, 7]), 7)
    """

    def __init__(
        self,
        encoder_a: nn.Module,
        encoder_b: nn.Module,
        modality_a: nn.Module,
        modality_b: nn.Module,
    ) -> None:
        super().__init__()
        self.encoder_a, self.encoder_b = encoder_a, encoder_b
        self.modality_a, self.modality_b = modality_a, modality_b
        self.out_dim = encoders.output_size(encoder_a) + encoders.output_size(encoder_b)
        lengths = [getattr(e, "min_length", 1) for e in (encoder_a, encoder_b)]
        if isinstance(modality_b, Spectrum):  # time // 2 + 1 >= min_length
            lengths[1] = 2 * lengths[1] - 2
        self.min_length = max(lengths + [1])

    def forward(self, x: Tensor) -> Tensor:
        """Return ``(batch, out_dim)``: both modalities' representations."""
        za = self.encoder_a(self.modality_a(x))
        zb = self.encoder_b(self.modality_b(x))
        return torch.cat([za, zb], dim=1)

    def forward_timestamps(self, x: Tensor) -> Tensor:
        """Concatenate timestamp representations when both modalities are in time.

        Raises
        ------
        ValueError
            If a modality is a :class:`Spectrum` (its axis is frequency, not
            time) or the encoders' time axes differ.
        """
        if isinstance(self.modality_a, Spectrum) or isinstance(
            self.modality_b, Spectrum
        ):
            raise ValueError(
                "Timestamp representations need both modalities in the time "
                "domain; this pair encodes a spectrum. Use level='instance'."
            )
        za = encoders.timestamps(self.encoder_a, self.modality_a(x))
        zb = encoders.timestamps(self.encoder_b, self.modality_b(x))
        if za.shape[2] != zb.shape[2]:
            raise ValueError(
                f"The two encoders give {za.shape[2]} and {zb.shape[2]} timestamps; "
                "timestamp representations need the same stride in both."
            )
        return torch.cat([za, zb], dim=1)

    @property
    def timestamp_stride(self) -> int:
        """Timesteps per timestamp representation (that of ``encoder_a``)."""
        return int(getattr(self.encoder_a, "timestamp_stride", 1))


class CLIPPair(nn.Module):
    """Two encoders, two projection heads and the CLIP loss: the building block.

    Use it for any two paired inputs, e.g. an ECG and a vector of clinical
    covariates: ``forward(a, b)`` returns the symmetric InfoNCE between the
    projections of ``encoder_a(a)`` and ``encoder_b(b)``, row ``i`` of ``a``
    paired with row ``i`` of ``b``. Train it with any optimiser loop.

    Parameters
    ----------
    encoder_a, encoder_b : nn.Module
        Encoders of each modality, each with an integer ``out_dim`` attribute.
    projection_dim : int, default=128
        Size of the shared embedding space.
    temperature : float, default=0.07
        Initial temperature.
    learn_temperature : bool, default=True
        Learn the temperature with the model.

    References
    ----------
    .. [1] Radford et al., CLIP, ICML 2021, arXiv:2103.00020

    Examples
    --------
    >>> from tscl.encoders import CNN
    >>> covariates = nn.Sequential(nn.Linear(3, 8), nn.ReLU())
    >>> covariates.out_dim = 8
    >>> pair = CLIPPair(CNN(1, 8, hidden_dim=4, depth=1), covariates, 4)
    >>> pair(torch.randn(6, 1, 32), torch.randn(6, 3)).shape
    torch.Size([])
    """

    def __init__(
        self,
        encoder_a: nn.Module,
        encoder_b: nn.Module,
        projection_dim: int = 128,
        temperature: float = 0.07,
        learn_temperature: bool = True,
    ) -> None:
        super().__init__()
        check_count(projection_dim, "projection_dim", owner=self, maximum=MAX_SIZE)
        self.encoder_a, self.encoder_b = encoder_a, encoder_b
        self.head_a = projection_head(encoders.output_size(encoder_a), projection_dim)
        self.head_b = projection_head(encoders.output_size(encoder_b), projection_dim)
        self.criterion = losses.CLIP(temperature, learn_temperature)

    def forward(self, a: Tensor, b: Tensor) -> Tensor:
        """CLIP loss between the projected embeddings of paired ``a`` and ``b``.

        In distributed training the other processes' pairs are negatives too
        (with gradients).
        """
        za, zb = self.head_a(self.encoder_a(a)), self.head_b(self.encoder_b(b))
        if distributed.world_size() == 1:
            return self.criterion(za, zb)
        others = distributed.gather_others(torch.cat([za, zb], dim=1))
        return self.criterion(za, zb, *others.split([za.shape[1], zb.shape[1]], 1))


class CLIP(Method):
    """CLIP-style training between two modalities of each series.

    Two encoders of the given encoder's kind and settings are built, one per
    modality, each with half of its ``out_dim``; the first modality of one view
    is contrasted with the second modality of the other view by
    :class:`CLIPPair`. Downstream, ``encoder`` is a :class:`PairEncoder` that
    concatenates both representations, ``out_dim`` in all.

    Pairings:

    - ``"time_frequency"``: the series against its amplitude spectrum (TF-C
      style);
    - ``"leads"``: two groups of channels, e.g. limb against chest leads of a
      12-lead ECG (``groups``; by default the first and the second half).

    For other pairs (a signal and clinical covariates, two recordings) build a
    :class:`CLIPPair` from any two encoders.

    Parameters
    ----------
    encoder : Encoder
        A template with ``rebuild(in_channels, out_dim)`` and ``in_channels``
        (tscl's encoders); its own weights are not used.
    pairing : {"time_frequency", "leads"}, default="time_frequency"
        The two modalities.
    groups : pair of sequences of int, optional
        Channel indices of the two lead groups (``pairing="leads"``).
    projection_dim : int, default=128
        Size of the shared embedding space.
    temperature : float, default=0.07
        Initial temperature.
    learn_temperature : bool, default=True
        Learn the temperature with the model.

    References
    ----------
    .. [1] Radford et al., CLIP, ICML 2021, arXiv:2103.00020
    .. [2] Zhang et al., TF-C, NeurIPS 2022, arXiv:2206.08496

    Examples
    --------
    >>> from tscl.encoders import CNN
    >>> model = CLIP(CNN(4, 8, hidden_dim=4, depth=1), pairing="leads",
    ...              groups=([0, 1], [2, 3]), projection_dim=4)
    >>> x = torch.randn(6, 4, 32)
    >>> model(x, x).shape, model.encoder(x).shape
    (torch.Size([]), torch.Size([6, 8]))
    """

    PAIRINGS: ClassVar[tuple[str, ...]] = ("time_frequency", "leads")

    def __init__(
        self,
        encoder: nn.Module,
        pairing: str = "time_frequency",
        groups: Sequence[Sequence[int]] | None = None,
        projection_dim: int = 128,
        temperature: float = 0.07,
        learn_temperature: bool = True,
    ) -> None:
        super().__init__()
        check_choice(pairing, "pairing", self.PAIRINGS, owner=self)
        rebuild, in_channels = (
            getattr(encoder, "rebuild", None),
            getattr(encoder, "in_channels", None),
        )
        if not callable(rebuild) or not isinstance(in_channels, int):
            raise TypeError(
                "CLIP builds one encoder per modality from the given one with "
                f"rebuild(in_channels, out_dim); {type(encoder).__name__} has no "
                "such method. Use a tscl encoder, or tscl.methods.CLIPPair with "
                "your own two encoders."
            )
        out_dim = encoders.output_size(encoder)
        if out_dim < 2:
            raise ValueError(
                f"CLIP splits the representation between two encoders and needs "
                f"out_dim (n_components) >= 2; got {out_dim}."
            )
        self.pairing = pairing
        modalities, channels = self._modalities(pairing, groups, in_channels)
        enc_a = rebuild(channels[0], out_dim - out_dim // 2)
        enc_b = rebuild(channels[1], out_dim // 2)
        self.encoder = PairEncoder(enc_a, enc_b, *modalities)
        self.pair = CLIPPair(
            enc_a, enc_b, projection_dim, temperature, learn_temperature
        )

    @staticmethod
    def _modalities(
        pairing: str, groups: Sequence[Sequence[int]] | None, in_channels: int
    ) -> tuple[tuple[nn.Module, nn.Module], tuple[int, int]]:
        if pairing == "time_frequency":
            if groups is not None:
                raise ValueError("'groups' is only used with pairing='leads'.")
            return (nn.Identity(), Spectrum()), (in_channels, in_channels)
        if groups is None:
            if in_channels < 2:
                raise ValueError(
                    "pairing='leads' needs at least 2 channels; got 1. Use "
                    "pairing='time_frequency' for single-channel series."
                )
            half = in_channels // 2
            groups = (range(half), range(half, in_channels))
        usage = (
            "'groups' must be two non-empty lists of integer channel indices, e.g. "
            f"([0, 1, 2], [3, 4, 5]); got {short_repr(groups)}."
        )
        if isinstance(groups, (str, bytes)) or not isinstance(groups, Sequence):
            raise TypeError(usage)
        if len(groups) != 2 or not all(
            isinstance(g, Sequence) and not isinstance(g, str) and len(g) > 0
            for g in groups
        ):
            raise ValueError(usage)
        flat = [c for g in groups for c in g]
        if not all(
            isinstance(c, numbers.Integral) and not isinstance(c, bool) for c in flat
        ):
            raise TypeError(usage)
        if min(flat) < 0 or max(flat) >= in_channels:
            raise ValueError(
                f"'groups' holds channel indices outside 0..{in_channels - 1}: "
                f"{short_repr(groups)}."
            )
        a, b = ChannelGroup(groups[0]), ChannelGroup(groups[1])
        return (a, b), (len(a.channels), len(b.channels))

    def forward(self, x1: Tensor, x2: Tensor, labels: Tensor | None = None) -> Tensor:
        """CLIP loss between modality a of one view and modality b of the other."""
        pair_encoder = self.encoder
        assert isinstance(pair_encoder, PairEncoder)
        return self.pair(pair_encoder.modality_a(x1), pair_encoder.modality_b(x2))
