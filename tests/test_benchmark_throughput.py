"""benchmarks/throughput.py: its quick run, the TS2Vec reference
(ts2vec_reference.py) and the measures (_measures.py). The quick run of
throughput_accuracy.py is in test_benchmarks.py."""

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("wfdb")

ROOT = Path(__file__).resolve().parents[1]
PTB = ROOT.parent / "shared" / "data" / "ecg" / "ptbdb" / "s0010_re.hea"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(
        name, ROOT / "benchmarks" / f"{name}.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bench():
    return _load("throughput")  # puts benchmarks/ on sys.path for the others


@pytest.fixture(scope="module")
def reference(bench):
    return _load("ts2vec_reference")


@pytest.fixture(scope="module")
def measures(bench):
    return _load("_measures")


@pytest.mark.skipif(not PTB.is_file(), reason="needs ../shared/data/ecg/ptbdb")
def test_quick_run_writes_rows_and_a_table(bench, tmp_path):
    out = tmp_path / "throughput.jsonl"
    argv = ["--quick", "--threads", "1", "--no-memory", "--profile", "--out", str(out)]
    bench.main(argv)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    models = ["cnn", "transformer", "ts2vec", "softclt"]
    assert [(tuple(r["shape"]), r["encoder"]) for r in rows] == [
        (shape, model) for shape in [(16, 1, 128), (8, 12, 256)] for model in models
    ]
    for row in rows:
        assert row["samples_per_s"] > 0
        assert row["reference_samples_per_s"] > 0
        assert row["ratio"] == pytest.approx(
            row["samples_per_s"] / row["reference_samples_per_s"]
        )
        assert row["ratio_gap_to_target"] == pytest.approx(row["ratio"] - 3.0)
        if row["encoder"] in ("ts2vec", "softclt"):  # random crops: not counted
            assert row["encoder_flops_per_step"] is None
        else:
            assert row["encoder_flops_per_step"] > 0
            assert row["encoder_flops_per_s"] > 0
        assert 0 < row["busy_share"] <= 1  # the share of epoch 2 in torch ops
        assert 0 < row["reference_mean_crop"] <= 1
        assert row["errors"] == {}
        assert all(row[key] for key in ("git_sha", "torch", "tscl", "machine"))
    table = out.with_suffix(".md").read_text()
    assert "| (16, 1, 128) | cnn |" in table
    assert "| (8, 12, 256) | transformer |" in table
    assert "| (8, 12, 256) | softclt |" in table
    assert "gap to 3x" in table
    assert "in torch ops" in table


def test_peak_memory_runs_in_a_fresh_capped_process(bench):
    args = bench.parse_args(["--quick", "--threads", "1"])
    for model in ("cnn", "reference"):
        memory = bench.peak_memory(model, (16, 1, 128), args)
        assert "error" not in memory, memory
        assert 0 < memory["before_mib"] <= memory["peak_mib"]
    args.memory_limit_gib = 0.5  # below what torch alone maps: the cap bites
    assert "error" in bench.peak_memory("cnn", (16, 1, 128), args)


def test_reference_loss_equals_tscl_hierarchical(reference):
    from tscl.losses import Hierarchical

    generator = torch.Generator().manual_seed(0)
    for shape in [(4, 16, 8), (3, 7, 5), (2, 1, 4)]:  # (batch, time, dim)
        z1 = torch.randn(shape, generator=generator)
        z2 = torch.randn(shape, generator=generator)
        for unit in (0, 1):
            theirs = reference.hierarchical_contrastive_loss(z1, z2, temporal_unit=unit)
            ours = Hierarchical(temporal_unit=unit)(
                z1.transpose(1, 2), z2.transpose(1, 2)
            )
            assert float(theirs) == pytest.approx(float(ours), rel=1e-5)


def test_reference_crops_overlap_on_the_same_timesteps(reference, monkeypatch):
    model = reference.TS2VecReference(1, output_dims=4, hidden_dims=4, depth=1)
    seen = []
    forward = model._net.forward
    monkeypatch.setattr(
        model._net, "forward", lambda x, mask=None: seen.append(x.clone()) or forward(x)
    )
    x = torch.arange(50.0)[None, :, None].repeat(6, 1, 1)  # (batch, time, 1)
    reference.seed_everything(0)
    for _ in range(10):
        model.step(x)
        view1, view2 = seen[-2], seen[-1]
        crop_l = round(model.crop_fractions[-1] * 50)
        assert 2 <= crop_l <= 50
        assert torch.equal(view1[:, -crop_l:], view2[:, :crop_l])
        assert view1.min() >= 0
        assert view2.max() <= 49
    assert torch.equal(
        reference.take_per_row(x, np.array([0, 3, 5, 0, 1, 2]), 4)[1, :, 0],
        torch.tensor([3.0, 4.0, 5.0, 6.0]),
    )


def test_reference_encoder_is_ts2vecs(reference):
    net = reference.TSEncoder(input_dims=1)
    blocks = list(net.feature_extractor.net)
    assert len(blocks) == 11
    assert [b.conv1.conv.dilation[0] for b in blocks] == [2**i for i in range(11)]
    assert [b.projector is not None for b in blocks] == [False] * 10 + [True]
    assert sum(p.numel() for p in net.parameters()) == 637_248
    reference.seed_everything(0)
    model = reference.TS2VecReference(1)
    x = torch.randn(8, 40, 1)
    before = [p.detach().clone() for p in model._net.parameters()]
    assert np.isfinite(model.step(x))
    assert any(
        not torch.equal(a, b)
        for a, b in zip(before, model._net.parameters(), strict=True)
    )
    assert model.encode(x.numpy()).shape == (8, 320)


def test_reference_fit_follows_ts2vecs_budget_and_seeding(reference):
    def fit(X, **kwargs):
        reference.seed_everything(0)
        model = reference.TS2VecReference(
            2, output_dims=16, hidden_dims=8, depth=3, lr=1e-2, batch_size=4
        )
        return model, model.fit(X, **kwargs)

    X = np.random.default_rng(0).standard_normal((10, 24, 2))
    small, losses = fit(X, n_iters=3)  # two full batches a pass (drop_last)
    assert (small.n_iters, len(losses)) == (3, 1)
    assert small.optimizer.param_groups[0]["lr"] == 1e-2
    assert small.encode(X).shape == (10, 16)
    again, _ = fit(X, n_iters=3)
    np.testing.assert_array_equal(small.encode(X), again.encode(X))  # seeded
    default, _ = fit(X[:, :12])
    assert default.n_iters == 200  # at most 100,000 values
    gappy = X.copy()
    gappy[:3, 18:] = np.nan  # shorter series, NaN-padded: centred, then masked
    assert np.isfinite(fit(gappy, n_iters=2)[0].encode(gappy)).all()


def test_cpu_attention_flops_are_counted(measures):
    from torch.nn import functional as F
    from torch.utils import flop_counter

    q, k, v = (torch.randn(2, 4, 32, 16, requires_grad=True) for _ in range(3))
    counter = flop_counter.FlopCounterMode(
        display=False, custom_mapping=measures.CPU_ATTENTION
    )
    with counter:
        F.scaled_dot_product_attention(q, k, v).sum().backward()
    shape = (2, 4, 32, 16)
    expected = flop_counter.sdpa_flop_count(shape, shape, shape)
    expected += flop_counter.sdpa_backward_flop_count(shape, shape, shape, shape)
    assert counter.get_total_flops() == expected
    small = measures.encoder_flops("transformer", (2, 1, 64))
    assert measures.encoder_flops("transformer", (8, 1, 64)) == 4 * small


def test_measures_helpers(measures, monkeypatch):
    assert measures.union_length([(0, 2), (1, 3), (5, 6), (5.5, 5.7)]) == 4
    assert measures.union_length([]) == 0
    span = type("Span", (), {"start": 10, "end": 40})
    event = type("Event", (), {"name": "tscl.epoch.2", "time_range": span})
    other = type("Event", (), {"name": "tscl.epoch.1", "time_range": span})
    assert measures.epoch_window([other, event]) == (10, 40)
    assert measures.epoch_window([other]) is None
    assert measures.bf16_peak_tflops("cpu") is None
    for name, peak in [
        ("NVIDIA H100 80GB HBM3", 989.4),
        ("NVIDIA H100 PCIe", 756.0),
        ("NVIDIA H200", 989.4),
        ("NVIDIA A100-SXM4-80GB", None),
    ]:
        monkeypatch.setattr(torch.cuda, "get_device_name", lambda device, n=name: n)
        assert measures.bf16_peak_tflops("cuda") == peak


def test_precision_and_compile_reach_the_estimator(bench):
    args = bench.parse_args(["--precision", "bf16", "--compile"])
    assert args.estimator_params == {"precision": "bf16", "compile": True}
    assert bench.parse_args([]).estimator_params == {
        "precision": "fp32",
        "compile": False,
    }
    with pytest.raises(SystemExit):
        bench.parse_args(["--temporal-unit", "-1"])
    with pytest.raises(SystemExit):
        bench.parse_args(["--accuracy"])  # now throughput_accuracy.py


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.skipif(not PTB.is_file(), reason="needs ../shared/data/ecg/ptbdb")
def test_quick_run_on_the_gpu_reports_flops_and_busy_share(bench, tmp_path):
    out = tmp_path / "gpu.jsonl"
    bench.main(["--quick", "--device", "cuda", "--out", str(out)])
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    for row in rows:
        assert row["samples_per_s"] > 0
        assert 0 < row["busy_share"] <= 1
        assert row["gpu_peak_mib"] > 0
    assert "GPU busy" in out.with_suffix(".md").read_text()
