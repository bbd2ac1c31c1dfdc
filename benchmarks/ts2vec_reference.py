"""TS2Vec as its official code runs it, statement by statement, for comparisons.

A port of github.com/yuezhihan/ts2vec at commit b0088e1 (``ts2vec.py``,
``models/encoder.py``, ``models/dilated_conv.py``, ``models/losses.py``,
``utils.py``, the ``load_UCR``/``load_UEA`` of ``datautils.py`` and the seeding
of ``init_dl_program``), written again here so that benchmarks can run TS2Vec
beside tscl on the same machine without the official repository. Nothing is
changed that could change a result:

* the same random streams: :func:`seed_everything` seeds ``random``,
  ``numpy.random`` and torch as ``init_dl_program`` does; the crops, the
  maximum-length windows and the binomial masks are drawn from the global
  ``numpy.random``, the batch order by a shuffling ``DataLoader`` and dropout
  from torch's global generator, in the official order;
* the same network (:class:`TSEncoder`: a linear input layer to 64 channels, the
  binomial mask of the projected input in training, eleven residual blocks of
  dilated convolutions, the last one to 320 channels, dropout 0.1), the same
  loss (:func:`hierarchical_contrastive_loss`), AdamW at 1e-3 and the running
  (SWA) average of the weights that :meth:`TS2VecReference.encode` uses;
* the same data handling in :meth:`TS2VecReference.fit`: series longer than
  twice ``max_train_length`` split in sections, variable-length series centred,
  all-NaN series dropped, a random ``max_train_length`` window per batch, and
  NaN timesteps zeroed and masked in the encoder;
* the same budget: 200 iterations when the data holds at most 100,000 values,
  else 600, over batches of 8 with the incomplete last batch of each pass
  dropped.

With the same seed this module and the official ``train.py`` (run with
``device="cpu"``) give the same accuracies to the last digit on this CPU
(see ``docs/benchmarks.md``). Used by ``ucr.py`` and ``uea.py``
(``--with-reference``) and ``throughput.py`` (training speed at tscl's batch
shapes).
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.data import DataLoader, TensorDataset

__all__ = [
    "NORMALIZED_BY_DATASET",
    "ConvBlock",
    "SamePadConv",
    "TS2VecReference",
    "TSEncoder",
    "centerize_vary_length_series",
    "hierarchical_contrastive_loss",
    "instance_contrastive_loss",
    "load_ucr_as_ts2vec",
    "load_uea_as_ts2vec",
    "seed_everything",
    "split_with_nan",
    "take_per_row",
    "temporal_contrastive_loss",
]

# ------------------------------------------------------------ utils.py


def seed_everything(seed: int) -> None:
    """Seed as ``init_dl_program(seed=seed)``: random, numpy + 1, torch + 2."""
    random.seed(seed)
    np.random.seed(seed + 1)
    torch.manual_seed(seed + 2)


def pad_nan_to_target(
    array: np.ndarray, target_length: int, axis: int = 0
) -> np.ndarray:
    """Right-pad ``array`` with NaN to ``target_length`` along ``axis``."""
    pad_size = target_length - array.shape[axis]
    if pad_size <= 0:
        return array
    npad = [(0, 0)] * array.ndim
    npad[axis] = (0, pad_size)
    return np.pad(array, pad_width=npad, mode="constant", constant_values=np.nan)


def split_with_nan(x: np.ndarray, sections: int, axis: int = 0) -> list[np.ndarray]:
    """``np.array_split`` into sections padded with NaN to the first one's length."""
    arrs = np.array_split(x, sections, axis=axis)
    target_length = arrs[0].shape[axis]
    return [pad_nan_to_target(a, target_length, axis=axis) for a in arrs]


def take_per_row(A: Tensor, indx: np.ndarray, num_elem: int) -> Tensor:
    """Rows ``A[i, indx[i] : indx[i] + num_elem]`` of a (batch, time, ch) tensor."""
    all_indx = indx[:, None] + np.arange(num_elem)
    return A[torch.arange(all_indx.shape[0])[:, None], all_indx]


def centerize_vary_length_series(x: np.ndarray) -> np.ndarray:
    """Roll each NaN-padded series so that its observed part sits in the middle."""
    prefix_zeros = np.argmax(~np.isnan(x).all(axis=-1), axis=1)
    suffix_zeros = np.argmax(~np.isnan(x[:, ::-1]).all(axis=-1), axis=1)
    offset = (prefix_zeros + suffix_zeros) // 2 - prefix_zeros
    rows, column_indices = np.ogrid[: x.shape[0], : x.shape[1]]
    offset[offset < 0] += x.shape[1]
    column_indices = column_indices - offset[:, np.newaxis]
    return x[rows, column_indices]


# ------------------------------------------- models/dilated_conv.py, encoder.py


class SamePadConv(nn.Module):
    """A dilated convolution with 'same' padding (one output dropped when even)."""

    def __init__(
        self, in_channels: int, out_channels: int, kernel_size: int, dilation: int = 1
    ) -> None:
        super().__init__()
        self.receptive_field = (kernel_size - 1) * dilation + 1
        padding = self.receptive_field // 2
        self.conv = nn.Conv1d(
            in_channels, out_channels, kernel_size, padding=padding, dilation=dilation
        )
        self.remove = 1 if self.receptive_field % 2 == 0 else 0

    def forward(self, x: Tensor) -> Tensor:
        out = self.conv(x)
        if self.remove > 0:
            out = out[:, :, : -self.remove]
        return out


class ConvBlock(nn.Module):
    """GELU, conv, GELU, conv, plus the residual (1x1-projected when needed)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        dilation: int,
        final: bool = False,
    ) -> None:
        super().__init__()
        self.conv1 = SamePadConv(in_channels, out_channels, kernel_size, dilation)
        self.conv2 = SamePadConv(out_channels, out_channels, kernel_size, dilation)
        self.projector = (
            nn.Conv1d(in_channels, out_channels, 1)
            if in_channels != out_channels or final
            else None
        )

    def forward(self, x: Tensor) -> Tensor:
        residual = x if self.projector is None else self.projector(x)
        x = F.gelu(x)
        x = self.conv1(x)
        x = F.gelu(x)
        x = self.conv2(x)
        return x + residual


class DilatedConvEncoder(nn.Module):
    """Residual blocks with dilation ``2**i``, channels ``channels[i]``."""

    def __init__(self, in_channels: int, channels: list[int], kernel_size: int) -> None:
        super().__init__()
        self.net = nn.Sequential(
            *[
                ConvBlock(
                    channels[i - 1] if i > 0 else in_channels,
                    channels[i],
                    kernel_size=kernel_size,
                    dilation=2**i,
                    final=(i == len(channels) - 1),
                )
                for i in range(len(channels))
            ]
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


def generate_binomial_mask(B: int, T: int, p: float = 0.5) -> Tensor:
    """Keep each (series, timestep) with probability ``p``, drawn by numpy."""
    return torch.from_numpy(np.random.binomial(1, p, size=(B, T))).to(torch.bool)


class TSEncoder(nn.Module):
    """TS2Vec's encoder: (batch, time, input_dims) to (batch, time, output_dims).

    Parameters
    ----------
    input_dims : int
        Channels of the input.
    output_dims : int, default=320
        Channels of the representation.
    hidden_dims : int, default=64
        Channels of the hidden blocks.
    depth : int, default=10
        Hidden blocks; one more block maps to ``output_dims``.
    """

    def __init__(
        self,
        input_dims: int,
        output_dims: int = 320,
        hidden_dims: int = 64,
        depth: int = 10,
    ) -> None:
        super().__init__()
        self.input_dims = input_dims
        self.output_dims = output_dims
        self.hidden_dims = hidden_dims
        self.input_fc = nn.Linear(input_dims, hidden_dims)
        self.feature_extractor = DilatedConvEncoder(
            hidden_dims, [hidden_dims] * depth + [output_dims], kernel_size=3
        )
        self.repr_dropout = nn.Dropout(p=0.1)

    def forward(self, x: Tensor, mask: str | None = None) -> Tensor:
        nan_mask = ~x.isnan().any(axis=-1)
        x[~nan_mask] = 0
        x = self.input_fc(x)  # B x T x Ch
        if mask is None:
            mask = "binomial" if self.training else "all_true"
        if mask == "binomial":
            keep = generate_binomial_mask(x.size(0), x.size(1)).to(x.device)
        else:  # "all_true"
            keep = x.new_full((x.size(0), x.size(1)), True, dtype=torch.bool)
        keep &= nan_mask
        x[~keep] = 0
        x = x.transpose(1, 2)  # B x Ch x T
        x = self.repr_dropout(self.feature_extractor(x))  # B x Co x T
        return x.transpose(1, 2)  # B x T x Co


# ------------------------------------------------------------ models/losses.py


def instance_contrastive_loss(z1: Tensor, z2: Tensor) -> Tensor:
    """Series against series at each timestep: (batch, time, dim) pairs."""
    B = z1.size(0)
    if B == 1:
        return z1.new_tensor(0.0)
    z = torch.cat([z1, z2], dim=0)  # 2B x T x C
    z = z.transpose(0, 1)  # T x 2B x C
    sim = torch.matmul(z, z.transpose(1, 2))  # T x 2B x 2B
    logits = torch.tril(sim, diagonal=-1)[:, :, :-1]  # T x 2B x (2B-1)
    logits += torch.triu(sim, diagonal=1)[:, :, 1:]
    logits = -F.log_softmax(logits, dim=-1)
    i = torch.arange(B, device=z1.device)
    return (logits[:, i, B + i - 1].mean() + logits[:, B + i, i].mean()) / 2


def temporal_contrastive_loss(z1: Tensor, z2: Tensor) -> Tensor:
    """Timestep against timestep within each series: (batch, time, dim) pairs."""
    T = z1.size(1)
    if T == 1:
        return z1.new_tensor(0.0)
    z = torch.cat([z1, z2], dim=1)  # B x 2T x C
    sim = torch.matmul(z, z.transpose(1, 2))  # B x 2T x 2T
    logits = torch.tril(sim, diagonal=-1)[:, :, :-1]  # B x 2T x (2T-1)
    logits += torch.triu(sim, diagonal=1)[:, :, 1:]
    logits = -F.log_softmax(logits, dim=-1)
    t = torch.arange(T, device=z1.device)
    return (logits[:, t, T + t - 1].mean() + logits[:, T + t, t].mean()) / 2


def hierarchical_contrastive_loss(
    z1: Tensor, z2: Tensor, alpha: float = 0.5, temporal_unit: int = 0
) -> Tensor:
    """Both terms at every level of a max-pooling by 2 over time, averaged.

    Parameters
    ----------
    z1, z2 : Tensor of shape (batch, time, dim)
        Representations of the two crops on their common timesteps.
    alpha : float, default=0.5
        Weight of the instance term; the temporal term has ``1 - alpha``.
    temporal_unit : int, default=0
        The temporal term starts at this level.

    Returns
    -------
    Tensor
        A scalar.
    """
    loss = torch.tensor(0.0, device=z1.device)
    d = 0
    while z1.size(1) > 1:
        if alpha != 0:
            loss += alpha * instance_contrastive_loss(z1, z2)
        if d >= temporal_unit and 1 - alpha != 0:
            loss += (1 - alpha) * temporal_contrastive_loss(z1, z2)
        d += 1
        z1 = F.max_pool1d(z1.transpose(1, 2), kernel_size=2).transpose(1, 2)
        z2 = F.max_pool1d(z2.transpose(1, 2), kernel_size=2).transpose(1, 2)
    if z1.size(1) == 1:
        if alpha != 0:
            loss += alpha * instance_contrastive_loss(z1, z2)
        d += 1
    return loss / d


# ------------------------------------------------------------------ ts2vec.py


class TS2VecReference:
    """The official ``TS2Vec`` class: ``fit``, one training ``step`` and ``encode``.

    Build it after :func:`seed_everything`, as ``train.py`` builds ``TS2Vec``
    after ``init_dl_program``: the weights come from torch's global generator.

    Parameters
    ----------
    input_dims : int
        Channels of the series.
    device : str, default="cpu"
        Where the networks and batches live.
    output_dims : int, default=320
        Representation size (``--repr-dims``).
    hidden_dims : int, default=64
        Hidden channels of the encoder.
    depth : int, default=10
        Hidden residual blocks of the encoder.
    lr : float, default=1e-3
        AdamW's learning rate (``--lr``).
    batch_size : int, default=8
        Series per step and per encoding pass (``--batch-size``).
    max_train_length : int or None, default=3000
        Longer series are split or cut to windows of this length
        (``--max-train-length``).
    temporal_unit : int, default=0
        The loss's temporal term skips the ``temporal_unit`` finest levels.

    Attributes
    ----------
    net : torch.optim.swa_utils.AveragedModel
        The running average of the weights, which :meth:`encode` uses.
    n_iters : int
        Steps taken so far.
    crop_fractions : list of float
        ``crop_l`` over the series length, one per step (a measure, not in the
        official code).

    Examples
    --------
    >>> seed_everything(0)
    >>> model = TS2VecReference(1, output_dims=16, hidden_dims=8, depth=2)
    >>> X = np.random.default_rng(0).standard_normal((16, 40, 1))
    >>> len(model.fit(X, n_iters=4)), model.n_iters
    (2, 4)
    >>> model.encode(X).shape
    (16, 16)
    """

    def __init__(
        self,
        input_dims: int,
        device: str = "cpu",
        *,
        output_dims: int = 320,
        hidden_dims: int = 64,
        depth: int = 10,
        lr: float = 0.001,
        batch_size: int = 8,
        max_train_length: int | None = 3000,
        temporal_unit: int = 0,
    ) -> None:
        self.device = device
        self.lr = lr
        self.batch_size = batch_size
        self.max_train_length = max_train_length
        self.temporal_unit = temporal_unit
        self._net = TSEncoder(input_dims, output_dims, hidden_dims, depth).to(device)
        self.net = torch.optim.swa_utils.AveragedModel(self._net)
        self.net.update_parameters(self._net)
        self.optimizer: torch.optim.Optimizer | None = None
        self.n_epochs = 0
        self.n_iters = 0
        self.crop_fractions: list[float] = []

    def step(self, x: Tensor) -> float:
        """One iteration of the official ``fit`` loop on a (batch, time, ch) batch.

        Parameters
        ----------
        x : Tensor of shape (batch, time, channels)
            The batch, on any device.

        Returns
        -------
        float
            The step's loss (``loss.item()``, which waits for the device).
        """
        if self.optimizer is None:
            self.optimizer = torch.optim.AdamW(self._net.parameters(), lr=self.lr)
        if self.max_train_length is not None and x.size(1) > self.max_train_length:
            window_offset = np.random.randint(x.size(1) - self.max_train_length + 1)
            x = x[:, window_offset : window_offset + self.max_train_length]
        x = x.to(self.device)
        ts_l = x.size(1)
        crop_l = np.random.randint(low=2 ** (self.temporal_unit + 1), high=ts_l + 1)
        crop_left = np.random.randint(ts_l - crop_l + 1)
        crop_right = crop_left + crop_l
        crop_eleft = np.random.randint(crop_left + 1)
        crop_eright = np.random.randint(low=crop_right, high=ts_l + 1)
        crop_offset = np.random.randint(
            low=-crop_eleft, high=ts_l - crop_eright + 1, size=x.size(0)
        )
        self.crop_fractions.append(crop_l / ts_l)
        self.optimizer.zero_grad()
        out1 = self._net(
            take_per_row(x, crop_offset + crop_eleft, crop_right - crop_eleft)
        )
        out1 = out1[:, -crop_l:]
        out2 = self._net(
            take_per_row(x, crop_offset + crop_left, crop_eright - crop_left)
        )
        out2 = out2[:, :crop_l]
        loss = hierarchical_contrastive_loss(
            out1, out2, temporal_unit=self.temporal_unit
        )
        loss.backward()
        self.optimizer.step()
        self.net.update_parameters(self._net)
        self.n_iters += 1
        return loss.item()

    def prepare(self, train_data: np.ndarray) -> np.ndarray:
        """The official ``fit``'s data handling: sections, centring, empty rows."""
        if self.max_train_length is not None:
            sections = train_data.shape[1] // self.max_train_length
            if sections >= 2:
                train_data = np.concatenate(
                    split_with_nan(train_data, sections, axis=1), axis=0
                )
        temporal_missing = np.isnan(train_data).all(axis=-1).any(axis=0)
        if temporal_missing[0] or temporal_missing[-1]:
            train_data = centerize_vary_length_series(train_data)
        return train_data[~np.isnan(train_data).all(axis=2).all(axis=1)]

    def fit(
        self,
        train_data: np.ndarray,
        n_epochs: int | None = None,
        n_iters: int | None = None,
    ) -> list[float]:
        """Train as the official ``TS2Vec.fit``; return the loss of each epoch.

        Parameters
        ----------
        train_data : ndarray of shape (n_series, time, channels)
            NaN marks missing values (and the padding of shorter series).
        n_epochs, n_iters : int, optional
            When to stop; with neither, 200 iterations for at most 100,000
            values, else 600.

        Returns
        -------
        list of float
            The mean loss of each completed epoch.
        """
        assert train_data.ndim == 3
        if n_iters is None and n_epochs is None:
            n_iters = 200 if train_data.size <= 100000 else 600
        train_data = self.prepare(train_data)
        train_dataset = TensorDataset(torch.from_numpy(train_data).to(torch.float))
        train_loader = DataLoader(
            train_dataset,
            batch_size=min(self.batch_size, len(train_dataset)),
            shuffle=True,
            drop_last=True,
        )
        self._net.train()
        loss_log = []
        while True:
            if n_epochs is not None and self.n_epochs >= n_epochs:
                break
            cum_loss, n_epoch_iters, interrupted = 0.0, 0, False
            for batch in train_loader:
                if n_iters is not None and self.n_iters >= n_iters:
                    interrupted = True
                    break
                cum_loss += self.step(batch[0])
                n_epoch_iters += 1
            if interrupted:
                break
            loss_log.append(cum_loss / n_epoch_iters)
            self.n_epochs += 1
        return loss_log

    def encode(self, data: np.ndarray, batch_size: int | None = None) -> np.ndarray:
        """Instance representations: the averaged net, max-pooled over the series.

        The official ``encode(data, encoding_window="full_series")``.

        Parameters
        ----------
        data : ndarray of shape (n_series, time, channels)
            The series to encode; NaN marks missing values.
        batch_size : int, optional
            Series per pass (default: the training batch size).

        Returns
        -------
        ndarray of shape (n_series, output_dims)
        """
        assert data.ndim == 3
        if batch_size is None:
            batch_size = self.batch_size
        org_training = self.net.training
        self.net.eval()
        dataset = TensorDataset(torch.from_numpy(data).to(torch.float))
        loader = DataLoader(dataset, batch_size=batch_size)
        with torch.no_grad():
            output = []
            for batch in loader:
                out = self.net(batch[0].to(self.device, non_blocking=True), None)
                out = F.max_pool1d(out.transpose(1, 2), kernel_size=out.size(1))
                output.append(out.transpose(1, 2).squeeze(1).cpu())
        self.net.train(org_training)
        return torch.cat(output, dim=0).numpy()


# ------------------------------------------------------------------ datautils.py

#: UCR datasets that ``load_UCR`` standardises with the training split's mean and
#: standard deviation (they are not z-normalised in the archive); the others are
#: used as they are.
NORMALIZED_BY_DATASET = frozenset(
    "AllGestureWiimoteX AllGestureWiimoteY AllGestureWiimoteZ BME Chinatown Crop "
    "EOGHorizontalSignal EOGVerticalSignal Fungi GestureMidAirD1 GestureMidAirD2 "
    "GestureMidAirD3 GesturePebbleZ1 GesturePebbleZ2 GunPointAgeSpan "
    "GunPointMaleVersusFemale GunPointOldVersusYoung HouseTwenty "
    "InsectEPGRegularTrain InsectEPGSmallTrain MelbournePedestrian "
    "PickupGestureWiimoteZ PigAirwayPressure PigArtPressure PigCVP PLAID PowerCons "
    "Rock SemgHandGenderCh2 SemgHandMovementCh2 SemgHandSubjectCh2 "
    "ShakeGestureWiimoteZ SmoothSubspace UMD".split()
)


def _label_codes(train: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Labels as 0..L-1 in the order of the training split's sorted labels."""
    transform = {label: i for i, label in enumerate(np.unique(train))}
    return np.vectorize(transform.get)(train), np.vectorize(transform.get)(test)


def load_ucr_as_ts2vec(
    name: str, root: str | Path
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``datautils.load_UCR``: (n, time, 1) float64 series and 0..L-1 labels.

    Read with pandas in float64 as the official code reads them; NaN (variable
    lengths, gaps) are kept; the datasets of :data:`NORMALIZED_BY_DATASET` are
    standardised over the whole training split.
    """
    import pandas as pd

    folder = Path(root) / name
    if not folder.is_dir():
        folder = Path(root)
    train_array = np.array(
        pd.read_csv(folder / f"{name}_TRAIN.tsv", sep="\t", header=None)
    )
    test_array = np.array(
        pd.read_csv(folder / f"{name}_TEST.tsv", sep="\t", header=None)
    )
    train = train_array[:, 1:].astype(np.float64)
    test = test_array[:, 1:].astype(np.float64)
    train_labels, test_labels = _label_codes(train_array[:, 0], test_array[:, 0])
    if name in NORMALIZED_BY_DATASET:
        mean, std = np.nanmean(train), np.nanstd(train)
        train, test = (train - mean) / std, (test - mean) / std
    return train[..., np.newaxis], train_labels, test[..., np.newaxis], test_labels


def load_uea_as_ts2vec(
    name: str, root: str | Path
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``datautils.load_UEA``: (n, time, channels) series, standardised per channel.

    The official code reads the ``.arff`` files; this reads the ``.ts`` files of
    the same archive (the same values) and standardises each channel with the
    training split's statistics, as its ``StandardScaler`` does (NaN ignored).
    """
    from sklearn.preprocessing import StandardScaler

    from tscl.datasets import load_uea

    split = load_uea(name, root, missing="keep")
    train_X = split.X_train.astype(np.float64).transpose(0, 2, 1)
    test_X = split.X_test.astype(np.float64).transpose(0, 2, 1)
    scaler = StandardScaler().fit(train_X.reshape(-1, train_X.shape[-1]))
    train_X = scaler.transform(train_X.reshape(-1, train_X.shape[-1])).reshape(
        train_X.shape
    )
    test_X = scaler.transform(test_X.reshape(-1, test_X.shape[-1])).reshape(
        test_X.shape
    )
    train_y, test_y = _label_codes(split.y_train, split.y_test)
    return train_X, train_y, test_X, test_y
