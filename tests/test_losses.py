"""Tests for tscl.losses: NT-Xent against a naive loop, and its known values."""

import inspect
import math

import pytest
import torch
import torch.nn.functional as F

from tscl.losses import LOSSES, NTXent, Triplet, check_pair


def _naive_ntxent(z1: torch.Tensor, z2: torch.Tensor, temperature: float) -> float:
    """NT-Xent written out with explicit loops, in float64."""
    z = torch.cat([z1, z2]).double()
    n2 = len(z)
    n = n2 // 2
    unit = [z[i] / z[i].norm() for i in range(n2)]
    total = 0.0
    for i in range(n2):
        positive = (i + n) % n2
        denominator = 0.0
        for k in range(n2):
            if k != i:
                denominator += math.exp(float(unit[i] @ unit[k]) / temperature)
        numerator = math.exp(float(unit[i] @ unit[positive]) / temperature)
        total += -math.log(numerator / denominator)
    return total / n2


@pytest.mark.parametrize("temperature", [0.05, 0.1, 0.5, 1.0, 2.0])
@pytest.mark.parametrize("n", [2, 3, 8, 17])
def test_matches_naive_loop(temperature, n):
    generator = torch.Generator().manual_seed(n)
    z1 = torch.randn(n, 6, generator=generator)
    z2 = torch.randn(n, 6, generator=generator)
    got = NTXent(temperature)(z1, z2)
    assert got.shape == ()
    assert float(got) == pytest.approx(_naive_ntxent(z1, z2, temperature), rel=1e-4)


def test_matches_naive_loop_on_correlated_views():
    z1 = torch.randn(10, 4)
    z2 = z1 + 0.1 * torch.randn(10, 4)
    assert float(NTXent(0.2)(z1, z2)) == pytest.approx(
        _naive_ntxent(z1, z2, 0.2), rel=1e-4
    )


def test_symmetric_in_the_two_views():
    z1, z2 = torch.randn(12, 8), torch.randn(12, 8)
    loss = NTXent(0.3)
    torch.testing.assert_close(loss(z1, z2), loss(z2, z1))


def test_invariant_to_embedding_norms():
    z1, z2 = torch.randn(6, 5), torch.randn(6, 5)
    scale = torch.rand(6, 1) + 0.5
    torch.testing.assert_close(NTXent()(z1 * scale, z2 * 3.0), NTXent()(z1, z2))


@pytest.mark.parametrize("n", [2, 5, 32])
@pytest.mark.parametrize("temperature", [0.1, 1.0])
def test_identical_embeddings_give_log_2n_minus_1(n, temperature):
    z = torch.ones(n, 4)
    value = float(NTXent(temperature)(z, z))
    assert value == pytest.approx(math.log(2 * n - 1), rel=1e-5)


def test_lower_for_correlated_than_independent_views():
    generator = torch.Generator().manual_seed(0)
    z1 = torch.randn(64, 16, generator=generator)
    correlated = z1 + 0.1 * torch.randn(64, 16, generator=generator)
    independent = torch.randn(64, 16, generator=generator)
    loss = NTXent(0.1)
    assert loss(z1, correlated) < loss(z1, independent) - 1.0
    # Independent views are about as bad as chance, log(2n - 1).
    assert float(loss(z1, independent)) > 0.8 * math.log(127)


def test_sgd_on_free_embeddings_reduces_the_loss():
    torch.manual_seed(0)
    z1 = torch.randn(16, 8, requires_grad=True)
    z2 = torch.randn(16, 8, requires_grad=True)
    loss_fn = NTXent(0.5)
    optimizer = torch.optim.SGD([z1, z2], lr=1.0)
    values = []
    for _ in range(20):
        loss = loss_fn(z1, z2)
        values.append(loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert values[-1] < values[0] - 0.3
    assert values[5] < values[0]


def test_finite_gradients_at_batch_size_two():
    z1 = torch.randn(2, 3, requires_grad=True)
    z2 = torch.randn(2, 3, requires_grad=True)
    NTXent(0.1)(z1, z2).backward()
    for grad in (z1.grad, z2.grad):
        assert grad is not None
        assert torch.isfinite(grad).all()
        assert grad.abs().sum() > 0


def test_finite_for_identical_and_zero_embeddings():
    z = torch.zeros(4, 3, requires_grad=True)
    loss = NTXent(0.1)(z, z)
    loss.backward()
    assert torch.isfinite(loss)
    assert torch.isfinite(z.grad).all()


def test_float64_and_float16_inputs_give_float32_loss():
    z1, z2 = torch.randn(4, 3), torch.randn(4, 3)
    reference = NTXent()(z1, z2)
    torch.testing.assert_close(NTXent()(z1.double(), z2.double()), reference)
    assert NTXent()(z1.half(), z2.half()).dtype == torch.float32


def test_matches_cross_entropy_formulation():
    # A second reference: softmax over the other 2n - 1 rows for each row.
    z1, z2 = torch.randn(5, 4), torch.randn(5, 4)
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    sim = z @ z.T / 0.2
    rows = []
    for i in range(10):
        others = torch.cat([sim[i, :i], sim[i, i + 1 :]])
        positive = (i + 5) % 10
        index = positive if positive < i else positive - 1
        rows.append(-F.log_softmax(others, dim=0)[index])
    torch.testing.assert_close(NTXent(0.2)(z1, z2), torch.stack(rows).mean())


# ------------------------------------------------------------------------ errors


def test_batch_of_one_is_rejected():
    with pytest.raises(ValueError, match="at least 2 samples per batch; got 1"):
        NTXent()(torch.randn(1, 4), torch.randn(1, 4))


@pytest.mark.parametrize(
    ("shape1", "shape2"), [((4, 3), (4, 2)), ((4, 3), (5, 3)), ((4,), (4,))]
)
def test_shape_mismatch_is_rejected(shape1, shape2):
    with pytest.raises(ValueError, match="equal shape"):
        NTXent()(torch.randn(shape1), torch.randn(shape2))


def test_check_pair_accepts_matching_batches():
    check_pair(torch.zeros(2, 1), torch.zeros(2, 1))
    with pytest.raises(ValueError, match=r"\(4, 2, 3\)"):
        check_pair(torch.zeros(4, 2, 3), torch.zeros(4, 2, 3))


@pytest.mark.parametrize("temperature", [0, 0.0, -1.0, math.nan, -math.inf])
def test_non_positive_temperature_is_rejected(temperature):
    with pytest.raises(ValueError, match="'temperature' parameter of NTXent"):
        NTXent(temperature)


@pytest.mark.parametrize("temperature", ["0.1", None, True, [0.1]])
def test_non_number_temperature_is_rejected(temperature):
    with pytest.raises(TypeError, match="'temperature' parameter of NTXent"):
        NTXent(temperature)


# ------------------------------------------------- SupCon, InfoNCE, BYOL, CLIP


def _naive_supcon(z1, z2, labels, temperature, negatives=None) -> float:
    """Khosla et al.'s L_out with explicit loops, in float64; -1 = unlabelled."""
    z = torch.cat([z1, z2]).double()
    n2, n = len(z), len(z) // 2
    unit = [v / v.norm() for v in z]
    extra = [] if negatives is None else [v / v.norm() for v in negatives.double()]
    lab = list(labels.tolist()) * 2
    total = 0.0
    for i in range(n2):
        denominator = sum(
            math.exp(float(unit[i] @ unit[k]) / temperature)
            for k in range(n2)
            if k != i
        ) + sum(math.exp(float(unit[i] @ e) / temperature) for e in extra)
        positives = [
            p
            for p in range(n2)
            if p != i and (p % n == i % n or (lab[i] >= 0 and lab[p] == lab[i]))
        ]
        total += -sum(
            math.log(math.exp(float(unit[i] @ unit[p]) / temperature) / denominator)
            for p in positives
        ) / len(positives)
    return total / n2


@pytest.mark.parametrize("temperature", [0.1, 0.5])
@pytest.mark.parametrize(
    "labels",
    [[0, 0, 1, 1, 2], [0, 1, 0, -1, -1], [-1, -1, -1, -1, -1], [3, 3, 3, 3, 3]],
)
def test_supcon_matches_naive_loop(temperature, labels):
    from tscl.losses import SupCon

    generator = torch.Generator().manual_seed(len(labels))
    z1 = torch.randn(5, 6, generator=generator)
    z2 = torch.randn(5, 6, generator=generator)
    labels = torch.tensor(labels)
    got = SupCon(temperature)(z1, z2, labels)
    assert float(got) == pytest.approx(
        _naive_supcon(z1, z2, labels, temperature), rel=1e-4
    )


def test_supcon_without_labels_is_ntxent_and_extra_negatives_match_naive_loop():
    from tscl.losses import SupCon

    z1, z2, extra = torch.randn(6, 4), torch.randn(6, 4), torch.randn(9, 4)
    unlabelled = torch.full((6,), -1)
    torch.testing.assert_close(SupCon(0.2)(z1, z2, unlabelled), NTXent(0.2)(z1, z2))
    for labels in (unlabelled, torch.tensor([0, 1, 0, 1, -1, 2])):
        got = SupCon(0.2)(z1, z2, labels, negatives=extra)
        assert float(got) == pytest.approx(
            _naive_supcon(z1, z2, labels, 0.2, extra), rel=1e-4
        )
    got = NTXent(0.2)(z1, z2, negatives=extra)
    assert float(got) == pytest.approx(
        _naive_supcon(z1, z2, unlabelled, 0.2, extra), rel=1e-4
    )


def test_supcon_pulls_same_class_together():
    from tscl.losses import SupCon

    z = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    same = torch.tensor([0, 0, 1, 1])
    mixed = torch.tensor([0, 1, 0, 1])
    assert SupCon(0.1)(z, z, same) < SupCon(0.1)(z, z, mixed)


@pytest.mark.parametrize(
    ("labels", "error", "match"),
    [
        (torch.tensor([0, 1, 2]), ValueError, r"shape \(4,\)"),
        (torch.tensor([0.0, 1.0, 1.0, 0.0]), TypeError, "integer labels"),
        (torch.tensor([0, 1, -2, 0]), ValueError, ">= 0, or -1"),
        ([0, 1, 1, 0], ValueError, r"shape \(4,\)"),
    ],
)
def test_supcon_rejects_bad_labels(labels, error, match):
    from tscl.losses import SupCon

    with pytest.raises(error, match=match):
        SupCon()(torch.randn(4, 3), torch.randn(4, 3), labels)


def _naive_infonce(q, k, temperature, queue=None) -> float:
    total = 0.0
    for i in range(len(q)):
        qi = q[i].double() / q[i].double().norm()
        keys = [k[i]] + (list(queue) if queue is not None else [*k[:i], *k[i + 1 :]])
        sims = [
            float(qi @ (v.double() / v.double().norm())) / temperature for v in keys
        ]
        total += -(sims[0] - math.log(sum(math.exp(s) for s in sims)))
    return total / len(q)


@pytest.mark.parametrize("with_queue", [False, True])
def test_infonce_matches_naive_loop(with_queue):
    from tscl.losses import InfoNCE

    q, k, queue = torch.randn(5, 8), torch.randn(5, 8), torch.randn(12, 8)
    got = InfoNCE(0.2)(q, k, queue if with_queue else None)
    expected = _naive_infonce(q, k, 0.2, queue if with_queue else None)
    assert float(got) == pytest.approx(expected, rel=1e-4)
    assert InfoNCE()(q[:1], k[:1], queue).shape == ()  # a queue allows batch 1
    with pytest.raises(ValueError, match=r"shape \(m, 8\)"):
        InfoNCE()(q, k, torch.randn(4, 3))


def test_negative_cosine_values_and_gradient():
    from tscl.losses import NegativeCosine

    p = torch.randn(6, 4, requires_grad=True)
    z = torch.randn(6, 4)
    loss = NegativeCosine()(p, z)
    naive = sum(
        2 - 2 * float(p[i].detach() @ z[i] / (p[i].detach().norm() * z[i].norm()))
        for i in range(6)
    )
    assert float(loss.detach()) == pytest.approx(naive / 6, rel=1e-5)
    loss.backward()
    assert torch.isfinite(p.grad).all()
    with pytest.raises(ValueError, match="equal shape"):
        NegativeCosine()(torch.randn(3, 4), torch.randn(3, 5))


def test_clip_is_symmetric_infonce_with_a_learned_clamped_temperature():
    from tscl.losses import CLIP

    a, b = torch.randn(6, 5), torch.randn(6, 5)
    loss = CLIP(temperature=0.1)
    value = loss(a, b)
    expected = (
        _naive_infonce(a, b, 0.1) + _naive_infonce(b, a, 0.1)
    ) / 2  # both directions, in-batch negatives
    assert float(value.detach()) == pytest.approx(expected, rel=1e-4)
    value.backward()
    assert loss.log_scale.grad is not None
    fixed = CLIP(learn_temperature=False)
    assert not fixed.log_scale.requires_grad
    assert (
        float(CLIP(temperature=1e-4).log_scale.detach().exp().clamp(max=100)) == 100.0
    )
    with pytest.raises(ValueError, match="'temperature' parameter of CLIP"):
        CLIP(temperature=0.0)


# ------------------------------------------------------------------ Triplet


def _naive_triplet(z1, z2, labels, margin, miner, k=5) -> float:
    """The three miners written out with loops over anchors, in float64."""
    z = torch.cat([z1, z2]).double()
    z = z / z.norm(dim=1, keepdim=True)
    n2, n = len(z), len(z) // 2
    lab = [-1] * n2 if labels is None else list(labels.tolist()) * 2

    def dist(i, j):
        return float((z[i] - z[j]).norm())

    def is_positive(i, j):
        return j != i and (j % n == i % n or (lab[i] >= 0 and lab[j] == lab[i]))

    losses = []
    for a in range(n2):
        pos = [j for j in range(n2) if is_positive(a, j)]
        neg = [j for j in range(n2) if j != a and not is_positive(a, j)]
        if not pos or not neg:
            continue
        if miner == "batch_hard":
            d_ap = max(dist(a, p) for p in pos)
            d_an = min(dist(a, m) for m in neg)
            losses.append(max(d_ap - d_an + margin, 0.0))
        elif miner == "semi_hard":
            for p in pos:
                d_ap = dist(a, p)
                farther = [dist(a, m) for m in neg if dist(a, m) > d_ap]
                closer = [dist(a, m) for m in neg if dist(a, m) <= d_ap]
                d_an = min(farther) if farther else max(closer)
                losses.append(max(d_ap - d_an + margin, 0.0))
        else:
            d_ap = dist(a, (a + n) % n2)
            hardest = sorted(dist(a, m) for m in neg)[:k]
            losses.append(
                sum(max(d_ap - d + margin, 0.0) for d in hardest) / len(hardest)
            )
    return sum(losses) / len(losses) if losses else 0.0


@pytest.mark.parametrize("miner", ["batch_hard", "semi_hard", "topk"])
@pytest.mark.parametrize("labels", [None, [0, 0, 1, 1, -1, 2, 2]])
@pytest.mark.parametrize("margin", [0.0, 0.2, 1.0])
def test_triplet_matches_naive_loop(miner, labels, margin):
    from tscl.losses import Triplet

    generator = torch.Generator().manual_seed(7)
    z1 = torch.randn(7, 5, generator=generator)
    z2 = z1 + 0.5 * torch.randn(7, 5, generator=generator)
    labels = None if labels is None else torch.tensor(labels)
    got = Triplet(margin=margin, miner=miner, k=3)(z1, z2, labels)
    expected = _naive_triplet(z1, z2, labels, margin, miner, k=3)
    assert float(got) == pytest.approx(expected, rel=1e-4, abs=1e-5)


@pytest.mark.parametrize("miner", ["batch_hard", "semi_hard", "topk"])
def test_triplet_gradients_finite_and_training_separates_views(miner):
    from tscl.losses import Triplet

    torch.manual_seed(0)
    z1 = torch.randn(16, 8, requires_grad=True)
    z2 = torch.randn(16, 8, requires_grad=True)
    loss_fn = Triplet(margin=0.5, miner=miner)
    optimizer = torch.optim.SGD([z1, z2], lr=0.5)
    values = []
    for _ in range(30):
        loss = loss_fn(z1, z2)
        values.append(loss.item())
        optimizer.zero_grad()
        loss.backward()
        assert torch.isfinite(z1.grad).all()
        optimizer.step()
    assert values[-1] < values[0]


def test_triplet_with_one_class_has_no_negatives_and_gives_zero_with_a_graph():
    from tscl.losses import Triplet

    z1 = torch.randn(4, 3, requires_grad=True)
    loss = Triplet()(z1, torch.randn(4, 3), torch.zeros(4, dtype=torch.long))
    assert float(loss.detach()) == 0.0
    loss.backward()  # still differentiable


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"margin": -0.1}, ValueError, "'margin' parameter of Triplet"),
        ({"miner": "hardest"}, ValueError, "'batch_hard', 'semi_hard', 'topk'"),
        ({"k": 0}, ValueError, "'k' parameter of Triplet"),
        ({"k": 2.5}, TypeError, "'k' parameter of Triplet"),
    ],
)
def test_triplet_rejects_bad_parameters(kwargs, error, match):
    from tscl.losses import Triplet

    with pytest.raises(error, match=match):
        Triplet(**kwargs)


# ---------------------------------------------------------------- hierarchical


def _naive_nce(vectors_a, vectors_b) -> float:
    """Mean over 2n anchors of -log softmax of the counterpart among the others."""
    rows = list(vectors_a) + list(vectors_b)
    n, total = len(vectors_a), 0.0
    for i, anchor in enumerate(rows):
        positive = (i + n) % (2 * n)
        logits = [float(anchor @ other) for j, other in enumerate(rows) if j != i]
        kept = [j for j in range(2 * n) if j != i]
        top = max(logits)
        log_sum = top + math.log(sum(math.exp(v - top) for v in logits))
        total += log_sum - logits[kept.index(positive)]
    return total / (2 * n)


def _naive_hierarchical(z1, z2, alpha, temporal_unit) -> float:
    """TS2Vec's loss with explicit loops; z of shape (batch, dim, time)."""
    a, b = z1.double(), z2.double()
    total, scales = 0.0, 0
    while True:
        batch, _, time = a.shape
        if alpha > 0:  # per timestep, across the batch
            inst = sum(_naive_nce(a[:, :, t], b[:, :, t]) for t in range(time))
            total += alpha * inst / time
        if alpha < 1 and scales >= temporal_unit and time > 1:  # per series
            temp = sum(_naive_nce(a[i].T, b[i].T) for i in range(batch))
            total += (1 - alpha) * temp / batch
        scales += 1
        if time == 1:
            return total / scales
        a, b = F.max_pool1d(a, 2), F.max_pool1d(b, 2)


@pytest.mark.parametrize(
    ("alpha", "temporal_unit", "time"),
    [(0.5, 0, 8), (0.5, 0, 7), (1.0, 0, 5), (0.0, 0, 6), (0.3, 1, 9)],
)
def test_hierarchical_matches_naive_loop(alpha, temporal_unit, time):
    from tscl.losses import Hierarchical

    torch.manual_seed(0)
    z1, z2 = torch.randn(4, 3, time), torch.randn(4, 3, time)
    got = Hierarchical(alpha, temporal_unit)(z1, z2)
    assert got.item() == pytest.approx(
        _naive_hierarchical(z1, z2, alpha, temporal_unit), rel=1e-5
    )


def test_hierarchical_prefers_consistent_contexts_and_trains():
    from tscl.losses import Hierarchical

    torch.manual_seed(0)
    loss = Hierarchical()
    z = torch.randn(6, 8, 16)
    assert loss(z, z + 0.01 * torch.randn_like(z)) < loss(z, torch.randn_like(z))
    free = torch.randn(6, 8, 16, requires_grad=True)
    other = torch.randn(6, 8, 16, requires_grad=True)
    optimizer = torch.optim.Adam([free, other], lr=0.1)
    first = loss(free, other).item()
    for _ in range(30):
        optimizer.zero_grad()
        value = loss(free, other)
        value.backward()
        optimizer.step()
    assert value.item() < 0.1 * first


@pytest.mark.parametrize(
    ("kwargs", "shapes", "match"),
    [
        ({}, [(4, 3, 5), (4, 3, 6)], "equal shape"),
        ({}, [(4, 3), (4, 3)], "equal shape"),
        ({}, [(1, 3, 5), (1, 3, 5)], "at least 2 samples"),
    ],
)
def test_hierarchical_rejects_bad_input(kwargs, shapes, match):
    from tscl.losses import Hierarchical

    with pytest.raises(ValueError, match=match):
        Hierarchical(**kwargs)(torch.zeros(shapes[0]), torch.zeros(shapes[1]))
    Hierarchical(alpha=0.0)(torch.randn(1, 3, 5), torch.randn(1, 3, 5))  # no instances


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"alpha": 1.5}, ValueError),
        ({"alpha": -0.1}, ValueError),
        ({"temporal_unit": -1}, ValueError),
        ({"temporal_unit": 1.5}, TypeError),
    ],
)
def test_hierarchical_rejects_bad_parameters(kwargs, error):
    from tscl.losses import Hierarchical

    with pytest.raises(error):
        Hierarchical(**kwargs)


def _halves(n: int = 8, dim: int = 5) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(n)
    return torch.randn(n, dim, generator=generator), torch.randn(
        n, dim, generator=generator
    )


def test_supcon_split_with_labelled_negatives_equals_the_whole_batch():
    """What distributed training relies on: each half contrasted with the other."""
    from tscl.losses import SupCon

    z1, z2 = _halves()
    labels = torch.tensor([0, 1, 2, -1, 1, 0, -1, 2])
    loss = SupCon(0.2)
    whole = loss(z1, z2, labels)
    parts = []
    for mine, other in ((slice(0, 4), slice(4, 8)), (slice(4, 8), slice(0, 4))):
        negatives = torch.cat([z1[other], z2[other]])
        parts.append(
            loss(z1[mine], z2[mine], labels[mine], negatives, labels[other].repeat(2))
        )
    torch.testing.assert_close((parts[0] + parts[1]) / 2, whole)
    without_labels = loss(z1[:4], z2[:4], labels[:4], torch.cat([z1[4:], z2[4:]]))
    assert not torch.allclose(without_labels, parts[0])  # same-class extras count


def test_clip_split_with_negatives_equals_the_whole_batch():
    from tscl.losses import CLIP

    a, b = _halves()
    loss = CLIP(0.1)
    parts = [
        loss(a[:4], b[:4], a[4:], b[4:]),
        loss(a[4:], b[4:], a[:4], b[:4]),
    ]
    torch.testing.assert_close((parts[0] + parts[1]) / 2, loss(a, b))


def test_extra_negatives_arguments_are_checked():
    from tscl.losses import CLIP, SupCon

    z1, z2 = _halves()
    labels = torch.zeros(8, dtype=torch.long)
    with pytest.raises(ValueError, match="without negatives"):
        SupCon()(z1, z2, labels, negative_labels=labels)
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        SupCon()(z1, z2, labels, z1[:3], labels)
    with pytest.raises(ValueError, match="both negatives_a and negatives_b"):
        CLIP()(z1, z2, negatives_a=z1)
    with pytest.raises(ValueError, match="negatives_b"):
        CLIP()(z1, z2, z1, z2[:, :3])


# ------------------------------------------------------ every registered loss


def _call(loss, z1: torch.Tensor, z2: torch.Tensor) -> torch.Tensor:
    """``loss(z1, z2)``; a loss that requires labels gets one class per sample."""
    labels = inspect.signature(loss.forward).parameters.get("labels")
    if labels is not None and labels.default is inspect.Parameter.empty:
        return loss(z1, z2, torch.arange(len(z1)))
    return loss(z1, z2)


def _inputs(cls, n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    shape = (n, 8, 6) if getattr(cls, "per_timestep", False) else (n, 8)
    return torch.randn(shape, generator=generator), torch.randn(
        shape, generator=generator
    )


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_every_loss_has_finite_gradients_at_batch_size_two(name):
    cls = LOSSES[name]
    z1, z2 = (z.requires_grad_() for z in _inputs(cls, 2))
    loss = _call(cls(), z1, z2)
    assert loss.shape == ()
    loss.backward()
    assert torch.isfinite(z1.grad).all()
    assert torch.isfinite(z2.grad).all()


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_every_loss_prefers_matching_views(name):
    cls = LOSSES[name]
    z1, z2 = _inputs(cls, 8)
    close = z1 + 0.01 * torch.randn(
        z1.shape, generator=torch.Generator().manual_seed(1)
    )
    assert _call(cls(), z1, close) < _call(cls(), z1, z2)


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_every_loss_falls_under_a_few_steps(name):
    cls = LOSSES[name]
    a, b = (z.requires_grad_() for z in _inputs(cls, 8))
    loss = cls()
    optimizer = torch.optim.SGD([a, b], lr=0.5)
    first = _call(loss, a, b).item()
    for _ in range(20):
        optimizer.zero_grad()
        _call(loss, a, b).backward()
        optimizer.step()
    assert _call(loss, a, b).item() < first


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_every_loss_returns_float32_for_float64_input(name):
    cls = LOSSES[name]
    z1, z2 = _inputs(cls, 4)
    assert _call(cls(), z1.double(), z2.double()).dtype == torch.float32


def _naive_batch_hard(z1: torch.Tensor, z2: torch.Tensor, margin: float):
    """Batch-hard triplet loss of the other view, with distances from differences."""
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    n2, n = len(z), len(z) // 2
    losses = []
    for i in range(n2):
        positive = (i + n) % n2
        d_ap = (z[i] - z[positive]).norm()
        d_an = min((z[i] - z[k]).norm() for k in range(n2) if k not in (i, positive))
        losses.append(F.relu(d_ap - d_an + margin))
    return torch.stack(losses).mean()


@pytest.mark.parametrize("gap", [1e-3, 1e-4])
def test_triplet_gradients_of_near_duplicates_match_float64(gap):
    # sqrt(2 - 2 cos) in float32 inflated these gradients up to 500x.
    for seed in range(3):
        generator = torch.Generator().manual_seed(seed)
        z1 = torch.randn(4, 16, generator=generator)
        z2 = z1 + gap * torch.randn(4, 16, generator=generator)
        a, b = z1.clone().requires_grad_(), z2.clone().requires_grad_()
        Triplet(margin=1.5)(a, b).backward()
        a64, b64 = z1.double().requires_grad_(), z2.double().requires_grad_()
        _naive_batch_hard(a64, b64, 1.5).backward()
        error = (a.grad.double() - a64.grad).norm() / a64.grad.norm()
        assert error < 1e-2, f"relative gradient error {float(error):.3g}"


@pytest.mark.parametrize("soft", [False, True])
@pytest.mark.parametrize("block", [1, 7, 64])
def test_hierarchical_in_blocks_equals_it_whole(monkeypatch, soft, block):
    """Long crops: the temporal logits in blocks of anchors, the same loss."""
    from tscl import losses

    torch.manual_seed(0)
    z1 = torch.randn(3, 5, 37, requires_grad=True)
    z2 = torch.randn(3, 5, 37, requires_grad=True)
    weights = torch.rand(3, 3).fill_diagonal_(1.0)
    loss = losses.Hierarchical(tau_temporal=1.0 if soft else 0.0)
    extra = (weights,) if soft else ()
    whole = loss(z1, z2, *extra)
    grads = torch.autograd.grad(whole, (z1, z2))
    monkeypatch.setattr(losses, "LOSS_BLOCK_VALUES", block)
    blocked = loss(z1, z2, *extra)
    blocked_grads = torch.autograd.grad(blocked, (z1, z2))
    torch.testing.assert_close(blocked, whole)
    for mine, theirs in zip(blocked_grads, grads, strict=True):
        torch.testing.assert_close(mine, theirs)


def _naive_pairwise_nce(z1, z2, weights=None):
    """The contrast of Hierarchical written with autograd over whole logits."""
    import torch.nn.functional as F

    n = z1.shape[1]
    z = torch.cat([z1, z2], dim=1)
    logits = z @ z.transpose(1, 2)
    eye = torch.eye(2 * n, dtype=torch.bool)
    logits = logits.masked_fill(eye, float("-inf"))
    if weights is None:
        target = torch.arange(2 * n).roll(n)
        return F.cross_entropy(logits.flatten(0, 1), target.repeat(z.shape[0]))
    log_p = F.log_softmax(logits, dim=-1).masked_fill(eye, 0.0)
    return -(weights.repeat(2, 2) * log_p).sum(dim=-1).mean()


@pytest.mark.parametrize("soft", [False, True])
@pytest.mark.parametrize("block", [1, 5, 1 << 22])
def test_the_blocked_contrast_equals_autograd_through_whole_logits(
    monkeypatch, soft, block
):
    from tscl import losses

    monkeypatch.setattr(losses, "LOSS_BLOCK_VALUES", block)
    torch.manual_seed(0)
    z1 = torch.randn(4, 6, 9, dtype=torch.float64, requires_grad=True)
    z2 = torch.randn(4, 6, 9, dtype=torch.float64, requires_grad=True)
    weights = None
    if soft:
        weights = torch.rand(6, 6, dtype=torch.float64).fill_diagonal_(1.0)
    mine = losses._pairwise_nce(z1, z2, weights)
    theirs = _naive_pairwise_nce(z1, z2, weights)
    torch.testing.assert_close(mine, theirs)
    for a, b in zip(
        torch.autograd.grad(mine, (z1, z2)),
        torch.autograd.grad(theirs, (z1, z2)),
        strict=True,
    ):
        torch.testing.assert_close(a, b)
    assert torch.autograd.gradcheck(
        lambda a, b: losses._pairwise_nce(a, b, weights), (z1, z2)
    )
