"""Loaders for real time series: UCR/UEA archives, WFDB ECG records, PTB-XL, prices.

Every loader returns float32 arrays in the package's layout, ``(n_samples,
n_timesteps)`` or ``(n_samples, n_channels, n_timesteps)``. The small records shipped
in the repository's ``datasets/`` folder (see its README for sources and licences)
are found with :func:`shipped_data_dir`; larger public datasets are read from a
folder the user downloads, by default :func:`data_home` (the ``root`` argument,
else ``$TSCL_DATA``, else ``~/tscl_data``; see the dataset cards in
``datasets/cards/``). WFDB loaders need the optional extra ``pip install tscl[ecg]``.

What lives where:

- ``_common``: data_home, shipped_data_dir, resample, bandpass, preprocess_ecg,
  sliding_windows.
- ``_missing``: fill_missing, the NaN and variable-length policy of the archives.
- ``ucr``: load_ucr, load_ucr_file (UCR archive 2018 ``.tsv`` files), and the
  named tuples they and the ``uea`` loaders return: Split, LabelledSeries.
- ``uea``: load_uea, load_uea_file (UEA multivariate ``.ts`` and ``.arff`` files).
- ``ecg``: load_wfdb_windows, load_mitdb_windows, load_challenge2017.
- ``beats``: segment_beats, load_mitdb_beats, the AAMI classes, record-wise and
  inter-patient (DS1/DS2) splits.
- ``ptbxl``: load_ptbxl (the PTB-XL folder layout and its ``strat_fold``).
- ``finance``: load_prices, log_returns, align_prices, return_windows,
  chronological_split.
- ``corpus``: write_corpus, load_corpus (memory-mapped corpora larger than memory).

To add a loader: put it in the submodule for its format and export it here.
"""

from tscl.datasets._common import (
    bandpass,
    data_home,
    preprocess_ecg,
    resample,
    shipped_data_dir,
    sliding_windows,
)
from tscl.datasets._missing import fill_missing
from tscl.datasets.beats import (
    AAMI_CLASSES,
    AAMI_LABELS,
    MITDB_DS1,
    MITDB_DS2,
    Beats,
    aami_class,
    inter_patient_split,
    load_mitdb_beats,
    record_split,
    segment_beats,
)
from tscl.datasets.corpus import load_corpus, write_corpus
from tscl.datasets.ecg import load_challenge2017, load_mitdb_windows, load_wfdb_windows
from tscl.datasets.finance import (
    ReturnWindows,
    align_prices,
    chronological_split,
    load_prices,
    log_returns,
    return_windows,
)
from tscl.datasets.ptbxl import PTBXL, PTBXL_SUPERCLASSES, load_ptbxl
from tscl.datasets.ucr import LabelledSeries, Split, load_ucr, load_ucr_file
from tscl.datasets.uea import load_uea, load_uea_file

__all__ = [
    "AAMI_CLASSES",
    "AAMI_LABELS",
    "MITDB_DS1",
    "MITDB_DS2",
    "PTBXL",
    "PTBXL_SUPERCLASSES",
    "Beats",
    "LabelledSeries",
    "ReturnWindows",
    "Split",
    "aami_class",
    "align_prices",
    "bandpass",
    "chronological_split",
    "data_home",
    "fill_missing",
    "inter_patient_split",
    "load_challenge2017",
    "load_corpus",
    "load_mitdb_beats",
    "load_mitdb_windows",
    "load_prices",
    "load_ptbxl",
    "load_ucr",
    "load_ucr_file",
    "load_uea",
    "load_uea_file",
    "load_wfdb_windows",
    "log_returns",
    "preprocess_ecg",
    "record_split",
    "resample",
    "return_windows",
    "segment_beats",
    "shipped_data_dir",
    "sliding_windows",
    "write_corpus",
]
