"""Contrastive losses as ``nn.Module``s whose ``forward(z1, z2)`` returns a scalar.

Losses check their arguments at construction and hold no device or distributed
logic. Every loss computes in float32 whatever the dtype of its inputs: float16
and bfloat16 embeddings (from autocast) are upcast, and float64 ones are computed
and returned in float32 too. To add one: write the class here, add it to
:data:`LOSSES` (the family-wide tests then cover it) and use it from a method in
:mod:`tscl.methods`. A loss over timestamp representations ``(batch, dim, time)``
rather than ``(batch, dim)`` sets ``per_timestep = True``.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from tscl._validation import MAX_SIZE, check_choice, check_count, check_param

__all__ = [
    "CLIP",
    "LOSSES",
    "MINERS",
    "Hierarchical",
    "InfoNCE",
    "NTXent",
    "NegativeCosine",
    "SupCon",
    "Triplet",
    "check_pair",
    "timelag_weights",
]

#: The smallest temperature a loss takes: below it, logits of cosine similarities
#: (up to 1 / temperature) overflow float16 and lose float32's precision.
MIN_TEMPERATURE = 1e-4


def check_temperature(temperature: Any, owner: object) -> None:
    """Check a temperature: a finite number of at least ``MIN_TEMPERATURE``."""
    check_param(
        temperature,
        "temperature",
        owner=owner,
        interval=(MIN_TEMPERATURE, None),
        closed="left",
    )


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
        check_temperature(temperature, self)
        self.temperature = temperature

    def forward(
        self, z1: Tensor, z2: Tensor, negatives: Tensor | None = None
    ) -> Tensor:
        """Return the mean NT-Xent loss over both views.

        Parameters
        ----------
        z1, z2 : Tensor of shape (batch, dim)
            Projections of the two views.
        negatives : Tensor of shape (m, dim), optional
            Extra embeddings that serve only as negatives, e.g. the views other
            processes hold in distributed training.

        Returns
        -------
        Tensor
            A scalar.
        """
        return _contrast(z1, z2, None, negatives, self.temperature)


def _check_extra(negatives: Tensor | None, dim: int, name: str = "negatives") -> None:
    if negatives is not None and (negatives.ndim != 2 or negatives.shape[1] != dim):
        raise ValueError(
            f"Expected '{name}' of shape (m, {dim}) to match the embeddings; got "
            f"{tuple(negatives.shape)}."
        )


def _contrast(
    z1: Tensor,
    z2: Tensor,
    labels: Tensor | None,
    negatives: Tensor | None,
    temperature: float,
    negative_labels: Tensor | None = None,
) -> Tensor:
    """SupCon over both views; without labels it is NT-Xent.

    Each of the ``2n`` embeddings is an anchor; its positives are its other view
    and, when ``labels`` are given, every other embedding with the same label
    (``-1`` marks an unlabelled sample, which has only its other view), among
    ``negatives`` too when ``negative_labels`` are given. All other embeddings
    and ``negatives`` are in the denominator.
    """
    check_pair(z1, z2)
    _check_extra(negatives, z1.shape[1])
    n = z1.shape[0]
    z = F.normalize(torch.cat([z1, z2]).float(), dim=1)  # (2n, dim)
    columns = z
    if negatives is not None:
        columns = torch.cat([z, F.normalize(negatives.float(), dim=1)])
    logits = z @ columns.T / temperature  # (2n, 2n + m)
    eye = torch.eye(*logits.shape, dtype=torch.bool, device=logits.device)
    logits = logits.masked_fill(eye, float("-inf"))  # no self-pairs
    log_prob = logits - torch.logsumexp(logits, dim=1, keepdim=True)
    sample = torch.arange(n, device=z.device).repeat(2)
    positive = sample[:, None] == sample[None, :]  # the other view (and self)
    if labels is not None:
        lab = labels.repeat(2)
        positive = positive | ((lab[:, None] == lab[None, :]) & (lab[:, None] >= 0))
    positive = positive & ~eye[:, : 2 * n]
    # Sum log-probabilities over positives only (avoid 0 * -inf on the diagonal).
    total = torch.where(positive, log_prob[:, : 2 * n], 0.0).sum(dim=1)
    count = positive.sum(dim=1)
    if labels is not None and negatives is not None and negative_labels is not None:
        lab = labels.repeat(2)[:, None]
        extra = (lab == negative_labels.to(lab.device)[None, :]) & (lab >= 0)
        total = total + torch.where(extra, log_prob[:, 2 * n :], 0.0).sum(dim=1)
        count = count + extra.sum(dim=1)
    return -(total / count).mean()


class SupCon(nn.Module):
    """Supervised contrastive loss (Khosla et al. 2020), semi-supervised.

    Each of the ``2n`` embeddings is an anchor whose positives are its other
    view and every other embedding of the same class; the loss averages
    ``-log softmax`` over the positives (the paper's :math:`L_{out}`).
    Unlabelled samples (label ``-1``) have only their other view as a positive:
    on them the loss is NT-Xent, and with no labels at all it equals
    :class:`NTXent`.

    Parameters
    ----------
    temperature : float, default=0.1
        Softmax temperature, > 0.

    References
    ----------
    .. [1] Khosla et al., Supervised Contrastive Learning, NeurIPS 2020,
       arXiv:2004.11362

    Examples
    --------
    >>> z1, z2 = torch.randn(6, 8), torch.randn(6, 8)
    >>> labels = torch.tensor([0, 0, 1, 1, -1, -1])  # the last two unlabelled
    >>> SupCon(0.1)(z1, z2, labels).shape
    torch.Size([])
    >>> unlabelled = torch.full((6,), -1)
    >>> torch.allclose(SupCon(0.1)(z1, z2, unlabelled), NTXent(0.1)(z1, z2))
    True
    """

    def __init__(self, temperature: float = 0.1) -> None:
        super().__init__()
        check_temperature(temperature, self)
        self.temperature = temperature

    def forward(
        self,
        z1: Tensor,
        z2: Tensor,
        labels: Tensor,
        negatives: Tensor | None = None,
        negative_labels: Tensor | None = None,
    ) -> Tensor:
        """Return the mean loss over both views.

        Parameters
        ----------
        z1, z2 : Tensor of shape (batch, dim)
            Projections of the two views.
        labels : Tensor of shape (batch,)
            Integer class of each sample, ``-1`` for unlabelled.
        negatives : Tensor of shape (m, dim), optional
            Extra embeddings in the denominator, e.g. the views other processes
            hold in distributed training.
        negative_labels : Tensor of shape (m,), optional
            Classes of ``negatives`` (``-1`` for unlabelled): those of an
            anchor's class are its positives too. Without them every extra
            embedding is a negative.

        Returns
        -------
        Tensor
            A scalar.
        """
        check_pair(z1, z2)
        _check_labels(labels, z1.shape[0], self)
        if negative_labels is not None:
            if negatives is None:
                raise ValueError("negative_labels were given without negatives.")
            _check_labels(negative_labels, negatives.shape[0], self)
        return _contrast(
            z1, z2, labels.to(z1.device), negatives, self.temperature, negative_labels
        )


class InfoNCE(nn.Module):
    """InfoNCE for queries and keys: one positive key per query.

    Without ``negatives`` the other keys of the batch are the negatives (the
    logits are ``query @ key.T``); with ``negatives`` (a MoCo queue) each query
    is contrasted only with its own key and the queue, as in MoCo v2.

    Parameters
    ----------
    temperature : float, default=0.2
        Softmax temperature, > 0 (MoCo v2 uses 0.2).

    References
    ----------
    .. [1] van den Oord et al., CPC/InfoNCE, 2018, arXiv:1807.03748
    .. [2] Chen et al., MoCo v2, 2020, arXiv:2003.04297

    Examples
    --------
    >>> q, k, queue = torch.randn(4, 8), torch.randn(4, 8), torch.randn(64, 8)
    >>> InfoNCE(0.2)(q, k, queue).shape
    torch.Size([])
    """

    def __init__(self, temperature: float = 0.2) -> None:
        super().__init__()
        check_temperature(temperature, self)
        self.temperature = temperature

    def forward(
        self, query: Tensor, key: Tensor, negatives: Tensor | None = None
    ) -> Tensor:
        """Return the mean loss over the queries.

        Parameters
        ----------
        query, key : Tensor of shape (batch, dim)
            Row ``i`` of ``key`` is the positive of row ``i`` of ``query``.
        negatives : Tensor of shape (m, dim), optional
            A queue of negative keys; ``None`` uses the batch's other keys.

        Returns
        -------
        Tensor
            A scalar.
        """
        if negatives is None:  # in-batch negatives need a batch of >= 2
            check_pair(query, key)
        elif query.ndim != 2 or query.shape != key.shape:
            raise ValueError(
                "Expected query and key of equal shape (batch, dim); got "
                f"{tuple(query.shape)} and {tuple(key.shape)}."
            )
        _check_extra(negatives, query.shape[-1])
        q = F.normalize(query.float(), dim=1)
        k = F.normalize(key.float(), dim=1)
        if negatives is None:
            logits = q @ k.T
            target = torch.arange(q.shape[0], device=q.device)
        else:
            queue = F.normalize(negatives.float(), dim=1)
            logits = torch.cat([(q * k).sum(dim=1, keepdim=True), q @ queue.T], dim=1)
            target = torch.zeros(q.shape[0], dtype=torch.long, device=q.device)
        return F.cross_entropy(logits / self.temperature, target)


class NegativeCosine(nn.Module):
    """Negative cosine similarity, BYOL's and SimSiam's regression loss.

    Returns ``2 - 2 * cos(p, z)`` averaged over the batch (BYOL's normalised
    squared error): 0 when ``p`` and ``z`` point the same way, 4 when opposite.
    The target ``z`` is used as given: detach it (or compute it under
    ``torch.no_grad``) for a stop-gradient.

    References
    ----------
    .. [1] Grill et al., BYOL, NeurIPS 2020, arXiv:2006.07733
    .. [2] Chen and He, SimSiam, CVPR 2021, arXiv:2011.10566

    Examples
    --------
    >>> z = torch.randn(4, 8)
    >>> float(NegativeCosine()(z, 3 * z)) < 1e-6, float(NegativeCosine()(z, -z))
    (True, 4.0)
    """

    def forward(self, prediction: Tensor, target: Tensor) -> Tensor:
        """Return the mean of ``2 - 2 cos`` over rows.

        Parameters
        ----------
        prediction, target : Tensor of shape (batch, dim)
            Online prediction and target projection.

        Returns
        -------
        Tensor
            A scalar.
        """
        if prediction.ndim != 2 or prediction.shape != target.shape:
            raise ValueError(
                "Expected prediction and target of equal shape (batch, dim); got "
                f"{tuple(prediction.shape)} and {tuple(target.shape)}."
            )
        cosine = F.cosine_similarity(prediction.float(), target.float(), dim=1)
        return (2 - 2 * cosine).mean()


class CLIP(nn.Module):
    """Symmetric InfoNCE between two modalities with a learned temperature.

    Row ``i`` of ``a`` and row ``i`` of ``b`` are two modalities of the same
    sample (a signal and its spectrum, two lead groups, a signal and clinical
    covariates). The logits ``scale * cos(a_i, b_j)`` are classified both ways,
    rows against columns and columns against rows. ``scale = exp(s)`` with a
    learnable ``s`` starting at ``log(1 / temperature)`` and clamped at 100, as
    in CLIP.

    Parameters
    ----------
    temperature : float, default=0.07
        Initial temperature, > 0.
    learn_temperature : bool, default=True
        Train the temperature with the model; False keeps it fixed.

    References
    ----------
    .. [1] Radford et al., CLIP, ICML 2021, arXiv:2103.00020

    Examples
    --------
    >>> loss = CLIP()
    >>> a, b = torch.randn(8, 16), torch.randn(8, 16)
    >>> bool(loss(a, a) < loss(a, b)), loss.log_scale.requires_grad
    (True, True)
    """

    def __init__(
        self, temperature: float = 0.07, learn_temperature: bool = True
    ) -> None:
        super().__init__()
        check_temperature(temperature, self)
        check_param(learn_temperature, "learn_temperature", owner=self, kind=bool)
        self.log_scale = nn.Parameter(
            torch.tensor(math.log(1 / temperature)), requires_grad=learn_temperature
        )

    def forward(
        self,
        a: Tensor,
        b: Tensor,
        negatives_a: Tensor | None = None,
        negatives_b: Tensor | None = None,
    ) -> Tensor:
        """Return the mean of the two directions' cross entropies.

        Parameters
        ----------
        a, b : Tensor of shape (batch, dim)
            Embeddings of the two modalities, projected to the same dimension.
        negatives_a, negatives_b : Tensor of shape (m, dim), optional
            Extra embeddings of each modality that serve only as negatives, e.g.
            the pairs other processes hold in distributed training: each ``a``
            is also contrasted with ``negatives_b``, each ``b`` with
            ``negatives_a``. Give both or neither.

        Returns
        -------
        Tensor
            A scalar.
        """
        check_pair(a, b)
        if (negatives_a is None) != (negatives_b is None):
            raise ValueError("Give both negatives_a and negatives_b, or neither.")
        scale = self.log_scale.exp().clamp(max=100.0)
        a, b = F.normalize(a.float(), dim=1), F.normalize(b.float(), dim=1)
        columns_a, columns_b = a, b
        if negatives_a is not None and negatives_b is not None:
            _check_extra(negatives_a, a.shape[1], "negatives_a")
            _check_extra(negatives_b, b.shape[1], "negatives_b")
            columns_a = torch.cat([a, F.normalize(negatives_a.float(), dim=1)])
            columns_b = torch.cat([b, F.normalize(negatives_b.float(), dim=1)])
        target = torch.arange(a.shape[0], device=a.device)
        a_to_b = F.cross_entropy(scale * a @ columns_b.T, target)  # (batch, batch + m)
        b_to_a = F.cross_entropy(scale * b @ columns_a.T, target)
        return (a_to_b + b_to_a) / 2


#: Mining strategies of :class:`Triplet`.
MINERS = ("batch_hard", "semi_hard", "topk")


def _check_labels(labels: Tensor, n: int, owner: object) -> None:
    name = type(owner).__name__
    if not isinstance(labels, Tensor) or labels.shape != (n,):
        raise ValueError(
            f"{name} needs labels of shape ({n},), one per sample; got "
            f"{getattr(labels, 'shape', type(labels).__name__)}."
        )
    if labels.is_floating_point() or labels.is_complex() or labels.dtype == torch.bool:
        raise TypeError(
            f"{name} needs integer labels (-1 for unlabelled); got {labels.dtype}."
        )
    if labels.numel() and int(labels.min()) < -1:
        raise ValueError(
            f"{name} labels must be class indices >= 0, or -1 for unlabelled; got "
            f"{int(labels.min())}."
        )


class Triplet(nn.Module):
    """Triplet margin loss on two views with hard-negative mining.

    Every one of the ``2n`` L2-normalised embeddings is an anchor. Its positives
    are its other view and, when ``labels`` are given, the embeddings of the same
    class (``-1`` = unlabelled: only the other view); every other embedding is a
    negative. Distances are Euclidean between unit vectors. With ``d_ap`` and
    ``d_an`` the anchor-positive and anchor-negative distances, the loss of a
    triplet is ``max(d_ap - d_an + margin, 0)``, and ``miner`` picks the
    triplets:

    - ``"batch_hard"``: per anchor, the farthest positive and the closest
      negative (Hermans et al. 2017);
    - ``"semi_hard"``: per anchor-positive pair, the closest negative farther
      than the positive, or if there is none the farthest negative closer than
      it (FaceNet, as in TensorFlow Addons);
    - ``"topk"``: per anchor, its other view and the ``k`` negatives most similar
      to the anchor, averaged (hard negatives for the self-supervised case).

    Anchors without a positive or a negative do not count.

    Parameters
    ----------
    margin : float, default=0.2
        Margin, >= 0 (distances lie in [0, 2]).
    miner : {"batch_hard", "semi_hard", "topk"}, default="batch_hard"
        How triplets are chosen.
    k : int, default=5
        Negatives per anchor for ``miner="topk"`` (fewer if the batch has fewer).

    References
    ----------
    .. [1] Schroff et al., FaceNet, CVPR 2015, arXiv:1503.03832
    .. [2] Hermans et al., In defense of the triplet loss, 2017, arXiv:1703.07737

    Examples
    --------
    >>> z = torch.randn(8, 16)
    >>> loss = Triplet(margin=0.2, miner="semi_hard")
    >>> bool(loss(z, z) < loss(z, torch.randn(8, 16)))
    True
    """

    def __init__(
        self, margin: float = 0.2, miner: str = "batch_hard", k: int = 5
    ) -> None:
        super().__init__()
        check_param(margin, "margin", owner=self, interval=(0, None), closed="left")
        check_choice(miner, "miner", MINERS, owner=self)
        check_count(k, "k", owner=self, maximum=MAX_SIZE)
        self.margin = margin
        self.miner = miner
        self.k = k

    def forward(self, z1: Tensor, z2: Tensor, labels: Tensor | None = None) -> Tensor:
        """Return the mean triplet loss over the mined triplets.

        Parameters
        ----------
        z1, z2 : Tensor of shape (batch, dim)
            Embeddings of the two views.
        labels : Tensor of shape (batch,), optional
            Integer classes, ``-1`` for unlabelled; ``None`` = all unlabelled.

        Returns
        -------
        Tensor
            A scalar (0 when no triplet qualifies).
        """
        check_pair(z1, z2)
        n = z1.shape[0]
        z = F.normalize(torch.cat([z1, z2]).float(), dim=1)
        # From the differences, not sqrt(2 - 2 cos): near-duplicates keep exact
        # gradients (the cosine form loses them to cancellation in float32).
        distance = torch.cdist(z, z, compute_mode="donot_use_mm_for_euclid_dist")
        sample = torch.arange(n, device=z.device).repeat(2)
        eye = torch.eye(2 * n, dtype=torch.bool, device=z.device)
        other_view = (sample[:, None] == sample[None, :]) & ~eye
        positive = other_view.clone()
        if labels is not None:
            _check_labels(labels, n, self)
            lab = labels.to(z.device).repeat(2)
            positive |= (lab[:, None] == lab[None, :]) & (lab[:, None] >= 0) & ~eye
        negative = ~positive & ~eye
        inf = torch.tensor(float("inf"), device=z.device)
        if self.miner == "batch_hard":
            d_ap = torch.where(positive, distance, -inf).amax(dim=1)
            d_an = torch.where(negative, distance, inf).amin(dim=1)
            losses = F.relu(d_ap - d_an + self.margin)
            valid = positive.any(dim=1) & negative.any(dim=1)
        elif self.miner == "semi_hard":
            d_ap = distance[:, :, None]  # (anchor, positive, 1)
            d_an = distance[:, None, :]  # (anchor, 1, negative)
            neg = negative[:, None, :]
            outside = torch.where(neg & (d_an > d_ap), d_an, inf).amin(dim=2)
            inside = torch.where(neg & (d_an <= d_ap), d_an, -inf).amax(dim=2)
            chosen = torch.where(torch.isfinite(outside), outside, inside)
            valid = positive & negative.any(dim=1, keepdim=True)  # (anchor, positive)
            losses = torch.where(valid, F.relu(distance - chosen + self.margin), 0.0)
        else:  # topk
            k = min(self.k, 2 * n - 2)
            d_ap = torch.where(other_view, distance, 0.0).sum(dim=1, keepdim=True)
            masked = torch.where(negative, distance, inf)
            d_an = masked.topk(k, dim=1, largest=False).values  # (anchor, k)
            found = torch.isfinite(d_an)
            hinge = torch.where(found, F.relu(d_ap - d_an + self.margin), 0.0)
            losses = hinge.sum(dim=1) / found.sum(dim=1).clamp_min(1)
            valid = found.any(dim=1)
        if not valid.any():
            return z.sum() * 0.0  # keeps the graph; nothing to learn from
        return losses[valid].mean()


#: Logits per block of :func:`_pairwise_nce`: larger contrasts (TS2Vec's
#: temporal term on crops of thousands of timesteps is ``batch x 2T x 2T``) are
#: computed a block of anchors at a time, so that their memory stays near
#: ``12 * LOSS_BLOCK_VALUES`` bytes whatever ``T``.
LOSS_BLOCK_VALUES = 1 << 22


def _pairwise_nce(z1: Tensor, z2: Tensor, weights: Tensor | None = None) -> Tensor:
    """TS2Vec's contrast over the middle axis of ``(groups, n, dim)`` pairs.

    In each group, each of the ``2n`` vectors has its counterpart in the other
    tensor as the positive and the ``2n - 2`` others as negatives, with raw dot
    products as logits (no normalisation, no temperature, as in TS2Vec). With
    ``weights`` (an ``(n, n)`` matrix with ones on its diagonal), the targets
    are soft (SoftCLT): anchor ``i`` pulls both vectors of item ``j != i`` with
    weight ``weights[i, j]`` and its counterpart with 1. The mean over the
    ``groups * 2n`` anchors, computed by :class:`_BlockedNCE`.
    """
    z = torch.cat([z1, z2], dim=1)  # (groups, 2n, dim)
    w = None
    if weights is not None:
        w = weights.to(device=z.device, dtype=z.dtype).repeat(2, 2)  # (2n, 2n)
    rows = max(1, LOSS_BLOCK_VALUES // (z.shape[0] * z.shape[1]))
    loss: Tensor = _BlockedNCE.apply(z, w, rows)
    return loss


class _BlockedNCE(torch.autograd.Function):
    """The loss of :func:`_pairwise_nce` and its gradient, a block of anchors at a time.

    Each block's logits ``(groups, rows, 2n)`` give the block's loss and, in
    the same pass, its gradient (softmax minus targets, times the vectors), so
    no logits are kept for the backward pass: the memory is one block's, and
    the work that of autograd's forward and backward through whole logits.
    """

    @staticmethod
    def forward(ctx: Any, z: Tensor, w: Tensor | None, rows: int) -> Tensor:
        groups, m, _ = z.shape
        n, count = m // 2, groups * m
        want_grad = bool(ctx.needs_input_grad[0])
        grad = torch.zeros_like(z) if want_grad else None
        total = z.new_zeros(())
        for start in range(0, m, rows):
            stop = min(start + rows, m)
            anchors = z[:, start:stop]  # (groups, r, dim)
            logits = anchors @ z.transpose(1, 2)  # (groups, r, 2n)
            own = torch.arange(stop - start, device=z.device)
            logits[:, own, own + start] = float("-inf")  # not its own negative
            log_p = F.log_softmax(logits, dim=-1)
            if w is None:
                target = (own + start + n) % m  # i <-> n + i
                total = total - log_p[:, own, target].sum()
                if grad is not None:
                    g = log_p.exp_()
                    g[:, own, target] -= 1.0
            else:
                block = w[start:stop].clone()
                block[own, own + start] = 0.0
                log_p[:, own, own + start] = 0.0
                total = total - (block * log_p).sum()
                if grad is not None:
                    log_p[:, own, own + start] = float("-inf")
                    g = log_p.exp_().mul_(block.sum(dim=1, keepdim=True)).sub_(block)
            if grad is not None:
                grad[:, start:stop] += g @ z
                grad += g.transpose(1, 2) @ anchors
        if grad is not None:
            ctx.save_for_backward(grad / count)
        return total / count

    @staticmethod
    def backward(ctx: Any, *outputs: Tensor) -> tuple[Tensor, None, None]:
        (grad,) = ctx.saved_tensors
        return grad * outputs[0], None, None


def timelag_weights(n: int, tau: float, device: torch.device | None = None) -> Tensor:
    """SoftCLT's soft temporal targets: ``2 / (1 + exp(tau * |t - t'|))``.

    Parameters
    ----------
    n : int
        Timesteps.
    tau : float
        Sharpness, > 0: the weight halves near ``|t - t'| = 1.1 / tau``.
    device : torch.device, optional
        Where to build the matrix.

    Returns
    -------
    Tensor of shape (n, n)
        1 on the diagonal, decreasing with the time lag; below 1e-6 set to 0.

    Examples
    --------
    >>> timelag_weights(3, tau=1.0)
    tensor([[1.0000, 0.5379, 0.2384],
            [0.5379, 1.0000, 0.5379],
            [0.2384, 0.5379, 1.0000]])
    """
    steps = torch.arange(n, device=device, dtype=torch.float32)
    lag = (steps[:, None] - steps[None, :]).abs()
    weights = 2 * torch.sigmoid(-tau * lag)
    return weights.masked_fill(weights < 1e-6, 0.0)


class Hierarchical(nn.Module):
    """TS2Vec's hierarchical contrastive loss, with SoftCLT's soft targets.

    ``z1`` and ``z2`` hold per-timestep representations of the same timesteps
    seen in two contexts (two overlapping crops). At each scale the loss adds
    an instance-wise term (at every timestep, the same timestep of the other
    samples in the batch are the negatives) weighted by ``alpha`` and a temporal
    term (within every sample, the other timesteps are the negatives) weighted
    by ``1 - alpha``; then both tensors are max-pooled by 2 along time, until
    one timestep is left. The result is the mean over scales. Logits are raw dot
    products, as in the paper.

    Soft contrastive learning (SoftCLT) replaces the hard targets by soft ones:
    with ``tau_temporal > 0`` a timestep also pulls its neighbours in time, with
    weight ``2 / (1 + exp(tau * lag))`` where ``tau = tau_temporal * 2**scale``
    (:func:`timelag_weights`); ``forward(z1, z2, instance_weights)`` takes soft
    instance-wise targets between the samples of the batch (e.g. from the
    distances between the raw series).

    Parameters
    ----------
    alpha : float, default=0.5
        Weight of the instance-wise term, in [0, 1].
    temporal_unit : int, default=0
        The temporal term is used from this scale on (0 = every scale); a larger
        value saves memory on long series.
    tau_temporal : float, default=0.0
        Sharpness of the soft temporal targets; 0 keeps TS2Vec's hard ones.

    References
    ----------
    .. [1] Yue et al., TS2Vec, AAAI 2022, arXiv:2106.10466
    .. [2] Lee et al., Soft Contrastive Learning for Time Series (SoftCLT),
       ICLR 2024, arXiv:2312.16424

    Examples
    --------
    >>> z = torch.randn(4, 8, 16)  # (batch, dim, time)
    >>> loss = Hierarchical()
    >>> bool(loss(z, z) < loss(z, torch.randn(4, 8, 16)))
    True
    >>> hard = loss(z, z + 1)
    >>> bool(torch.isclose(loss(z, z + 1, instance_weights=torch.eye(4)), hard))
    True
    >>> bool(torch.isfinite(Hierarchical(tau_temporal=1.0)(z, z)))
    True
    """

    #: Inputs are ``(batch, dim, time)``, one representation per timestep.
    per_timestep = True

    def __init__(
        self, alpha: float = 0.5, temporal_unit: int = 0, tau_temporal: float = 0.0
    ) -> None:
        super().__init__()
        check_param(alpha, "alpha", owner=self, interval=(0, 1), closed="both")
        check_count(temporal_unit, "temporal_unit", owner=self, minimum=0, maximum=30)
        check_param(
            tau_temporal, "tau_temporal", owner=self, interval=(0, None), closed="left"
        )
        self.alpha = alpha
        self.temporal_unit = temporal_unit
        self.tau_temporal = tau_temporal

    def forward(
        self, z1: Tensor, z2: Tensor, instance_weights: Tensor | None = None
    ) -> Tensor:
        """Return the loss averaged over scales.

        Parameters
        ----------
        z1, z2 : Tensor of shape (batch, dim, time)
            Representations of the same timesteps in two contexts; ``batch >= 2``
            for the instance-wise term.
        instance_weights : Tensor of shape (batch, batch), optional
            Soft instance-wise targets: ones on the diagonal, in [0, 1]
            elsewhere. None keeps TS2Vec's hard targets.

        Returns
        -------
        Tensor
            A scalar.
        """
        if z1.ndim != 3 or z1.shape != z2.shape:
            raise ValueError(
                "Expected two timestamp representations of equal shape (batch, "
                f"dim, time); got {tuple(z1.shape)} and {tuple(z2.shape)}."
            )
        if z1.shape[0] < 2 and self.alpha > 0:
            raise ValueError(
                "The instance-wise term needs at least 2 samples per batch; got "
                f"{z1.shape[0]}. Use a larger batch or alpha=0."
            )
        batch = z1.shape[0]
        if instance_weights is not None and instance_weights.shape != (batch, batch):
            raise ValueError(
                f"instance_weights must have shape ({batch}, {batch}), one weight "
                f"per pair of samples; got {tuple(instance_weights.shape)}."
            )
        a, b = z1.float().transpose(1, 2), z2.float().transpose(1, 2)  # (b, t, d)
        total, scales = a.new_zeros(()), 0
        while True:
            if self.alpha > 0:
                total = total + self.alpha * _pairwise_nce(
                    a.transpose(0, 1), b.transpose(0, 1), instance_weights
                )
            if self.alpha < 1 and scales >= self.temporal_unit and a.shape[1] > 1:
                lags = None
                if self.tau_temporal > 0:
                    tau = self.tau_temporal * 2**scales
                    lags = timelag_weights(a.shape[1], tau, a.device)
                total = total + (1 - self.alpha) * _pairwise_nce(a, b, lags)
            scales += 1
            if a.shape[1] == 1:
                return total / scales
            a = F.max_pool1d(a.transpose(1, 2), 2).transpose(1, 2)
            b = F.max_pool1d(b.transpose(1, 2), 2).transpose(1, 2)


#: Losses by name; each constructs with its defaults. Methods build them.
LOSSES: dict[str, type[nn.Module]] = {
    "ntxent": NTXent,
    "supcon": SupCon,
    "infonce": InfoNCE,
    "negative_cosine": NegativeCosine,
    "clip": CLIP,
    "triplet": Triplet,
    "hierarchical": Hierarchical,
}
