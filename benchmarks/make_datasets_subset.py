"""Rebuild the small real-data subset shipped in ``datasets/``.

* ``datasets/challenge2017/``: the PhysioNet/CinC Challenge 2017 validation set
  (300 records), copied unchanged.
* ``datasets/mitdb/``: the first 10 minutes (216000 samples at 360 Hz, both leads)
  of the 10 MIT-BIH Arrhythmia records in the source, rewritten in format 212 with
  the original gains, baselines, ADC zero and resolution, units, signal names and
  header comments, so the digital samples are unchanged; plus record 100's reference
  annotations truncated to that span.

Every record is read back and compared with the original before the script ends.
``datasets/README.md`` and the ``LICENSE.txt`` files are written by hand; the script
leaves them alone.

Usage::

    python benchmarks/make_datasets_subset.py --source ../shared/data/ecg --out datasets
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import numpy as np
import wfdb

MITDB_RECORDS = ["100", "104", "106", "108", "113", "121", "202", "223", "231", "232"]
SAMPTO = 216000  # 10 minutes at 360 Hz
ANNOTATED = ["100"]


def copy_challenge(source: Path, out: Path) -> int:
    src, dst = source / "challenge2017", out / "challenge2017"
    dst.mkdir(parents=True, exist_ok=True)
    files = sorted(p for p in src.iterdir() if p.is_file())
    for path in files:
        shutil.copy2(path, dst / path.name)
    return len(files)


def write_mitdb_record(name: str, src: Path, dst: Path) -> None:
    orig = wfdb.rdrecord(str(src / name), sampto=SAMPTO, physical=False)
    # Same steps as wfdb.wrsamp, but keeping the original ADC resolution and zero,
    # which wfdb.wrsamp would otherwise reset to their defaults.
    record = wfdb.Record(
        record_name=name,
        fs=orig.fs,
        d_signal=orig.d_signal,
        fmt=orig.fmt,
        adc_gain=orig.adc_gain,
        baseline=orig.baseline,
        units=orig.units,
        sig_name=orig.sig_name,
        comments=orig.comments,
        adc_res=orig.adc_res,
        adc_zero=orig.adc_zero,
    )
    record.set_d_features()
    record.set_defaults()
    record.wrsamp(write_dir=str(dst))
    check_record(name, src, dst)


def check_record(name: str, src: Path, dst: Path) -> None:
    a = wfdb.rdrecord(str(src / name), sampto=SAMPTO, physical=False)
    b = wfdb.rdrecord(str(dst / name), physical=False)
    if not np.array_equal(a.d_signal, b.d_signal):
        raise RuntimeError(f"digital samples of {name} differ after rewriting")
    for field in ("fs", "fmt", "adc_gain", "baseline", "units", "sig_name"):
        if getattr(a, field) != getattr(b, field):
            raise RuntimeError(f"header field {field!r} of {name} differs")
    pa = wfdb.rdrecord(str(src / name), sampto=SAMPTO).p_signal
    if not np.array_equal(pa, wfdb.rdrecord(str(dst / name)).p_signal):
        raise RuntimeError(f"physical samples of {name} differ after rewriting")


def write_annotations(name: str, src: Path, dst: Path) -> int:
    ann = wfdb.rdann(str(src / name), "atr", sampto=SAMPTO)
    wfdb.wrann(
        name,
        "atr",
        ann.sample,
        symbol=ann.symbol,
        subtype=ann.subtype,
        chan=ann.chan,
        num=ann.num,
        aux_note=ann.aux_note,
        fs=ann.fs,
        write_dir=str(dst),
    )
    back = wfdb.rdann(str(dst / name), "atr")
    same = (
        np.array_equal(ann.sample, back.sample)
        and ann.symbol == back.symbol
        and np.array_equal(ann.subtype, back.subtype)
        and np.array_equal(ann.chan, back.chan)
        and np.array_equal(ann.num, back.num)
        and ann.aux_note == back.aux_note
    )
    if not same:
        raise RuntimeError(f"annotations of {name} differ after rewriting")
    return len(ann.sample)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=Path("../shared/data/ecg"))
    parser.add_argument("--out", type=Path, default=Path("datasets"))
    args = parser.parse_args(argv)
    n_files = copy_challenge(args.source, args.out)
    print(f"challenge2017: copied {n_files} files")
    src, dst = args.source / "mitdb", args.out / "mitdb"
    dst.mkdir(parents=True, exist_ok=True)
    for name in MITDB_RECORDS:
        write_mitdb_record(name, src, dst)
        print(f"mitdb/{name}: {SAMPTO} samples x 2 leads, digital samples identical")
    for name in ANNOTATED:
        n_ann = write_annotations(name, src, dst)
        print(f"mitdb/{name}.atr: {n_ann} annotations, identical on read-back")


if __name__ == "__main__":
    main()
