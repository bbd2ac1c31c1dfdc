"""Draw every registered augmentation on a real ECG and a real price series.

Regenerates the pictures of docs/augmentations.md, one PNG per augmentation and
signal, <name>_ecg.png and <name>_price.png:

    python examples/augmentation_gallery.py                 # all of them
    python examples/augmentation_gallery.py --only jitter crop --out /tmp/gallery

The ECG is MIT-BIH record 100 (datasets/mitdb, 360 Hz, leads MLII and V5), 3 s
from 10 s on; the prices are the S&P 500 of 2008 (datasets/finance/sp500.csv).
Needs matplotlib, wfdb and pandas (pip install 'tscl[plot,ecg]' pandas).
"""

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import wfdb

import tscl.augment
from tscl import plot

ROOT = Path(__file__).resolve().parents[1]
ECG_RECORD = ROOT / "datasets" / "mitdb" / "100"
PRICES = ROOT / "datasets" / "finance" / "sp500.csv"
FS = 360  # MIT-BIH sampling rate, Hz
ECG_START, ECG_SECONDS = 10, 3  # the window shown, in seconds
YEAR, DAYS = "2008", 250  # the price window: the first 250 trading days of 2008

# Parameters that make an effect visible at the pictures' size; the other
# augmentations use their defaults. Values are in units of the standardised
# series (of mV for the ECG noise models, which take fs and work in physical units).
DISPLAY_PARAMS: dict[str, dict] = {
    "jitter": {"sigma": 0.1},  # the default 0.03 is thinner than the line
    "scaling": {"sigma": 0.3},  # +-10 % is hard to see
    "drift": {"max_drift": 1.0},  # 0.5 standard deviations hides under the noise
    "rotation": {"max_angle": 90.0},  # 30 degrees barely mixes two channels
    "channel_dropout": {"rate": 0.5},  # 0.25 of two leads often drops none
    "mixup": {"max_weight": 0.5},  # up to half of the partner
}
# Augmentations that mix each sample with others of its batch. The batch the plot
# makes holds copies of one series, so mixing them would change nothing: these get
# other windows of the same signal as partners (not drawn).
MIXES_BATCH = {"mixup"}

FIGSIZE, DPI, N_VIEWS = (7.0, 4.5), 80, 2
MAX_SEED = 50  # seeds tried to find views that all differ from the original


class WithPartners:
    """Apply ``aug`` to the views stacked on other series, keep the views."""

    def __init__(self, aug, partners):
        self.aug = aug
        self.partners = torch.as_tensor(partners, dtype=torch.float32)

    def __call__(self, x, generator):
        batch = torch.cat([x, self.partners.to(x)])
        return self.aug(batch, generator)[: len(x)]

    def __repr__(self):
        return f"{self.aug!r} with {len(self.partners)} other windows"


def standardise(x, ref):
    """Standardise each channel of x with the mean and std of ref (channels, time)."""
    mean = ref.mean(axis=-1, keepdims=True)
    std = ref.std(axis=-1, keepdims=True)
    return ((x - mean) / np.where(std > 0, std, 1.0)).astype(np.float32)


def load_ecg():
    """Return ECG windows (n, 2, 3 s) in mV; the first is the one drawn."""
    starts = [ECG_START] + list(range(60, 540, 60))  # partners: 1 window a minute
    size = ECG_SECONDS * FS
    signal = wfdb.rdrecord(str(ECG_RECORD), sampto=(max(starts) + ECG_SECONDS) * FS)
    assert signal.sig_name == ["MLII", "V5"]
    assert signal.fs == FS
    mv = signal.p_signal.T.astype(np.float32)  # (2, time) in mV
    return np.stack([mv[:, s * FS : s * FS + size] for s in starts])


def load_prices():
    """Return price windows (n, 2, DAYS): daily log return and log volume."""
    df = pd.read_csv(
        PRICES, parse_dates=["Date"], date_format="%m/%d/%Y", index_col="Date"
    )
    features = pd.DataFrame(
        {"ret": np.log(df["Close"]).diff(), "vol": np.log(df["Volume"])}
    )
    years = [YEAR, "2000", "2002", "2005", "2010", "2011", "2015", "2018"]
    windows = [features.loc[y].to_numpy()[:DAYS].T for y in years]
    return np.stack(windows).astype(np.float32)


def signals():
    """The two signals: how to draw each and what to augment."""
    ecg, prices = load_ecg(), load_prices()
    return {
        "ecg": {
            "raw": ecg,
            "x": standardise(ecg, ecg[0]),
            "fs": FS,
            "names": ["MLII", "V5"],
            "label": f"MIT-BIH 100, {ECG_START}-{ECG_START + ECG_SECONDS} s",
            "xlabel": "time (s)",
        },
        "price": {
            "raw": None,
            "x": standardise(prices, prices[0]),
            "fs": None,
            "names": ["log return", "log volume"],
            "label": f"S&P 500, {YEAR}",
            "xlabel": f"trading day of {YEAR}",
        },
    }


def pick_seed(aug, x):
    """The first seed whose views all differ from x, as tscl.plot draws them.

    Some draws leave a view unchanged (ChannelShuffle keeps the order of two
    channels half of the time, Permutation may draw the identity), which makes
    a poor picture; the seed used is printed when it is not 0.
    """
    batch = torch.as_tensor(x).unsqueeze(0).repeat(N_VIEWS, 1, 1)
    for seed in range(MAX_SEED):
        views = aug(batch, torch.Generator().manual_seed(seed))
        if views.shape != batch.shape or not any(
            torch.allclose(v, batch[0], atol=1e-6) for v in views
        ):
            return seed
    return 0


def draw(name, cls, signal, kind, out):
    """Draw one augmentation on one signal; return the PNG's path or None."""
    params = dict(DISPLAY_PARAMS.get(name, {}))
    physical = "fs" in cls().get_params()
    if physical:
        if signal["raw"] is None:
            print(f"  skip {name}_{kind}: an ECG noise model (Hz and mV)")
            return None
        params["fs"] = signal["fs"]
    windows = signal["raw"] if physical else signal["x"]
    aug = cls(**params)
    shown = WithPartners(aug, windows[1:]) if name in MIXES_BATCH else aug
    seed = pick_seed(shown, windows[0])
    note = f", seed {seed}" if seed else ""
    title = f"{aug!r}: {signal['label']} ({'mV' if physical else 'standardised'})"
    fig = plot.augmentations(
        windows[0],
        shown,
        N_VIEWS,
        fs=signal["fs"],
        channel_names=signal["names"],
        title=title if len(title) <= 70 else title.replace(": ", "\n", 1),
        random_state=seed,
        figsize=FIGSIZE,
    )
    fig.axes[-1].set_xlabel(signal["xlabel"])
    path = out / f"{name}_{kind}.png"
    fig.savefig(path, dpi=DPI)
    print(f"  {path.name}: {path.stat().st_size / 1e3:.0f} kB{note}")
    return path


def main():
    registry = tscl.augment.AUGMENTATIONS  # read now: later additions are included
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", metavar="NAME", help="augmentations")
    parser.add_argument("--out", type=Path, default=ROOT / "docs/images/augment")
    args = parser.parse_args()
    unknown = sorted(set(args.only or []) - set(registry))
    if unknown:
        parser.error(f"unknown {unknown}; valid names: {', '.join(registry)}")
    names = args.only or list(registry)
    args.out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    data = signals()
    written = []
    for name in names:
        for kind, signal in data.items():
            path = draw(name, registry[name], signal, kind, args.out)
            if path is not None:
                written.append(path)
    size = sum(p.stat().st_size for p in written) / 1e6
    folder = sum(p.stat().st_size for p in args.out.glob("*.png")) / 1e6
    print(
        f"{len(written)} pictures ({size:.2f} MB) in {args.out} in "
        f"{time.perf_counter() - start:.1f} s; the folder holds {folder:.2f} MB"
    )


if __name__ == "__main__":
    main()
