"""Quickstart: pretrain a contrastive encoder on ECG200 and probe it linearly.

Run from anywhere: ``python examples/quickstart.py``. It uses the UCR ECG200
dataset shipped in ``datasets/ucr`` (100 train + 100 test heartbeats of 96
samples, two classes) and takes well under a minute on a 2-core CPU.
"""

import time
from pathlib import Path

import tscl
import tscl.datasets
from tscl.evaluation import linear_probe

ROOT = Path(__file__).resolve().parents[1] / "datasets" / "ucr"


def main() -> None:
    X_train, y_train, X_test, y_test = tscl.datasets.load_ucr("ECG200", root=ROOT)
    print(f"ECG200: train {X_train.shape}, test {X_test.shape}")

    # 1. Self-supervised pretraining: the labels are not used here.
    start = time.perf_counter()
    encoder = tscl.ContrastiveEncoder(
        "simclr",  # a small, fast SimCLR CNN; ContrastiveEncoder() trains SoftCLT
        "cnn",
        n_epochs=20,
        encoder_params={"hidden_dim": 16, "depth": 4},
        random_state=0,
    )
    encoder.fit(X_train)
    print(
        f"pretrained in {time.perf_counter() - start:.1f} s, "
        f"final loss {encoder.history_['loss'][-1]:.3f}"
    )

    # 2. Linear probe on the frozen representations.
    Z_train, Z_test = encoder.transform(X_train), encoder.transform(X_test)
    pretrained = linear_probe(Z_train, y_train, Z_test, y_test)

    # 3. Baseline: the same logistic regression on the raw series.
    raw = linear_probe(X_train, y_train, X_test, y_test)

    print(
        f"linear probe on pretrained representations: accuracy "
        f"{pretrained['accuracy']:.3f}, macro-F1 {pretrained['macro_f1']:.3f}"
    )
    print(
        f"logistic regression on raw series:          accuracy "
        f"{raw['accuracy']:.3f}, macro-F1 {raw['macro_f1']:.3f}"
    )


if __name__ == "__main__":
    main()
