r"""UEA multivariate archive loaders: sktime/aeon ``.ts`` and WEKA ``.arff`` files.

Both formats are parsed here (sktime, aeon and liac-arff are not dependencies;
:func:`scipy.io.arff.loadarff` cannot read the relational attribute the archive
uses for multivariate series).

``.ts`` (sktime/aeon)::

    @problemName BasicMotions
    @timeStamps false
    @missing false
    @univariate false
    @dimensions 6
    @equalLength true
    @seriesLength 100
    @classLabel true Standing Running Walking Badminton
    @data
    0.07,0.07,-0.90,...:0.39,0.39,...:...:Standing

One case per line, dimensions separated by ``:``, values by ``,``, ``?`` for a
missing value, the class label last; ``#`` starts a comment.

``.arff`` (WEKA), multivariate through one relational attribute::

    @relation BasicMotions
    @attribute relationalAtt relational
    @attribute t1 numeric
    ...
    @end relationalAtt
    @attribute activity {Standing,Running,Walking,Badminton}
    @data
    '0.07,0.07,...\n0.39,0.39,...',Standing

Inside the quoted value, dimensions are separated by the two characters ``\n``
(or by real line breaks). A univariate ``.arff`` has one numeric attribute per
time step and the class last, e.g. ``0.5,0.7,?,1``; ``%`` starts a comment.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tscl._validation import short_repr
from tscl.datasets._common import data_home
from tscl.datasets._missing import check_policy, fill_missing
from tscl.datasets.ucr import LabelledSeries, Split, _convert_labels

__all__ = ["load_uea", "load_uea_file"]

UEA_URL = "https://www.timeseriesclassification.com/"
UEA_ARCHIVE_URL = (
    "https://www.timeseriesclassification.com/aeon-toolkit/Archives/"
    "Multivariate2018_ts.zip"
)
_BOOLEAN_TAGS = (
    "timestamps",
    "missing",
    "univariate",
    "equallength",
    "classlabel",
    "targetlabel",
)
_UNSUPPORTED = {
    "timestamps": "@timeStamps true (values written as '(t, v)') is not supported: "
    "load_uea reads series sampled at regular steps.",
    "targetlabel": "@targetLabel true marks a regression file; load_uea reads "
    "classification files ('@classLabel true <labels>').",
}
_NUMERIC_TYPES = ("numeric", "real", "integer")
_ARFF_ATTRIBUTE = re.compile(
    r"@attribute\s+('[^']*'|\"[^\"]*\"|\S+)\s*(.*)$", re.IGNORECASE
)
_DIMENSION_BREAK = re.compile(r"\\n|\r?\n")  # the two characters \n, or a newline

#: A parsed split: one (n_channels, n_timesteps_i) float32 array per case, labels.
_Split = tuple[list[np.ndarray], list[str]]


class _Malformed(ValueError):
    """A malformed archive file; the message names the file and the line."""

    def __init__(self, path: Path, line: int | None, what: str) -> None:
        where = f"{path}, line {line}" if line is not None else f"{path}"
        super().__init__(f"{where}: {what}")


def _read_text(path: Path) -> str:
    """Decode the file as UTF-8, else Latin-1 (archive comments hold stray bytes)."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _unquote(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


def _parse_values(text: str, path: Path, line: int, dimension: int) -> np.ndarray:
    """Comma-separated numbers, ``?`` for missing, as a float64 vector."""
    tokens = text.split(",")
    try:
        return np.array(
            [np.nan if t.strip() == "?" else float(t) for t in tokens], np.float64
        )
    except ValueError:
        bad = next(t for t in tokens if t.strip() != "?" and not _is_number(t))
        hint = " Time stamps '(t, v)' are not supported." if "(" in text else ""
        raise _Malformed(
            path,
            line,
            f"dimension {dimension}: could not read {short_repr(bad)} as a number; "
            "expected "
            f"numbers separated by ',' with '?' for a missing value.{hint}",
        ) from None


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def _case(values: list[np.ndarray]) -> np.ndarray:
    """Stack the dimensions of one case, right-padding shorter ones with NaN."""
    case = np.full((len(values), max(len(v) for v in values)), np.nan, np.float32)
    for row, vector in zip(case, values, strict=True):
        row[: len(vector)] = vector
    return case


# --------------------------------------------------------------------- .ts
@dataclass
class _TsHeader:
    dimensions: int | None = None
    univariate: bool | None = None
    equal_length: bool | None = None
    series_length: int | None = None
    class_labels: list[str] | None = None


def _ts_tag(header: _TsHeader, tag: str, values: list[str], path: Path, n: int) -> None:
    """Apply the header line ``@tag values`` (line ``n``) to ``header``."""
    if tag in ("dimension", "dimensions", "serieslength"):
        if len(values) != 1 or not values[0].isdigit() or int(values[0]) < 1:
            raise _Malformed(path, n, f"@{tag} needs an integer >= 1; got {values}.")
        name = "series_length" if tag == "serieslength" else "dimensions"
        setattr(header, name, int(values[0]))
        return
    if tag not in _BOOLEAN_TAGS:
        return  # @problemName and unknown tags carry nothing load_uea needs
    flag = values[0].lower() if values else ""
    if flag not in ("true", "false"):
        raise _Malformed(path, n, f"@{tag} needs true or false; got {values}.")
    if flag == "true" and tag in _UNSUPPORTED:
        raise _Malformed(path, n, _UNSUPPORTED[tag])
    if tag == "classlabel":
        if flag == "false" or len(values) < 2:
            raise _Malformed(
                path,
                n,
                "load_uea needs labelled cases: '@classLabel true <label> <label> "
                f"...'; got '@classLabel {' '.join(values)}'.",
            )
        header.class_labels = values[1:]
    elif tag == "univariate":
        header.univariate = flag == "true"
    elif tag == "equallength":
        header.equal_length = flag == "true"


def _ts_header(lines: list[str], path: Path) -> tuple[_TsHeader, int]:
    """Parse the header; return it and the index of the first line after @data."""
    header = _TsHeader()
    for index, raw in enumerate(lines):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if not line.startswith("@"):
            raise _Malformed(
                path,
                index + 1,
                "expected a header line ('@tag value') or a comment ('#') before "
                f"@data; got {line[:40]!r}.",
            )
        tag, *values = line.split()
        if tag.lower() == "@data":
            if values:
                raise _Malformed(path, index + 1, "@data must stand alone on its line.")
            return header, index + 1
        _ts_tag(header, tag[1:].lower(), values, path, index + 1)
    raise _Malformed(path, None, "no '@data' line, so this is not a .ts file.")


def _ts_case(
    line: str, header: _TsHeader, path: Path, n: int
) -> tuple[np.ndarray, str]:
    """Parse the data line ``dim0:dim1:...:label`` (line ``n``)."""
    *dims, label = line.split(":")
    label = label.strip()
    if not dims or not label:
        raise _Malformed(
            path,
            n,
            "expected the values of each dimension separated by ':', then the class "
            f"label; got {line[:60]!r}.",
        )
    expected = header.dimensions or (1 if header.univariate else None)
    if expected is not None and len(dims) != expected:
        raise _Malformed(
            path,
            n,
            f"expected {expected} dimension(s) (from @dimensions or @univariate) "
            f"separated by ':', then the label; found {len(dims)}.",
        )
    if header.class_labels is not None and label not in header.class_labels:
        raise _Malformed(
            path,
            n,
            f"class label {short_repr(label)} is not one of those declared by "
            "@classLabel: "
            f"{' '.join(header.class_labels)}.",
        )
    values = [_parse_values(d, path, n, k) for k, d in enumerate(dims)]
    lengths = sorted({len(v) for v in values})
    if header.equal_length and (
        len(lengths) > 1 or header.series_length not in (None, lengths[0])
    ):
        raise _Malformed(
            path,
            n,
            f"@equalLength true (@seriesLength {header.series_length}) but the "
            f"dimensions of this case have lengths {lengths}.",
        )
    return _case(values), label


def _read_ts(path: Path) -> _Split:
    """Read a ``.ts`` file: one (n_channels, n_timesteps_i) array per case."""
    lines = _read_text(path).splitlines()
    header, start = _ts_header(lines, path)
    cases: list[np.ndarray] = []
    labels: list[str] = []
    for index in range(start, len(lines)):
        line = lines[index].strip()
        if not line or line.startswith("#"):
            continue
        case, label = _ts_case(line, header, path, index + 1)
        if cases and len(case) != len(cases[0]):
            raise _Malformed(
                path,
                index + 1,
                f"this case has {len(case)} dimension(s), the first case "
                f"{len(cases[0])}; every case needs the same number.",
            )
        if header.equal_length and cases and case.shape[1] != cases[0].shape[1]:
            raise _Malformed(
                path,
                index + 1,
                f"@equalLength true but this case has {case.shape[1]} steps, the "
                f"first case {cases[0].shape[1]}.",
            )
        cases.append(case)
        labels.append(label)
    return cases, labels


# --------------------------------------------------------------------- .arff
@dataclass
class _ArffHeader:
    relational: bool = False
    width: int = 0  # declared time steps per dimension
    class_labels: list[str] | None = None
    outer: list[tuple[int, str]] = field(default_factory=list)  # (line, type)


def _nominal(kind: str) -> list[str] | None:
    """Return the labels of a nominal type ``{a,b,'c d'}``; None for other types."""
    kind = kind.strip()
    if not (kind.startswith("{") and kind.endswith("}")):
        return None
    return [_unquote(label) for label in kind[1:-1].split(",")]


def _arff_attribute(
    header: _ArffHeader, line: str, inner: bool, path: Path, n: int
) -> bool:
    """Record one ``@attribute`` line; return whether a relational block opens."""
    match = _ARFF_ATTRIBUTE.match(line)
    if match is None:
        raise _Malformed(
            path,
            n,
            "expected '@relation', '@attribute <name> <type>', '@end <name>' or "
            f"'@data'; got {line[:40]!r}.",
        )
    kind = match.group(2).strip()
    if kind.lower() == "relational":
        if header.relational or header.outer:
            raise _Malformed(
                path, n, "only one relational attribute, declared first, is supported."
            )
        header.relational = True
        return True
    if inner:
        if kind.lower() not in _NUMERIC_TYPES:
            raise _Malformed(
                path, n, f"time steps must be numeric; got {short_repr(kind)}."
            )
        header.width += 1
    else:
        header.outer.append((n, kind))
    return False


def _arff_header(lines: list[str], path: Path) -> tuple[_ArffHeader, int]:
    """Parse the header; return it and the index of the first line after @data."""
    header, inner = _ArffHeader(), False
    for index, raw in enumerate(lines):
        line, n = raw.strip(), index + 1
        low = line.lower()
        if not line or line.startswith("%") or low.startswith("@relation"):
            continue
        if low.startswith("@data"):
            if inner:
                raise _Malformed(path, n, "@data inside the relational attribute.")
            return _arff_structure(header, path, n), n
        if low.startswith("@end"):
            if not inner:
                raise _Malformed(path, n, "@end without a relational attribute.")
            inner = False
        elif _arff_attribute(header, line, inner, path, n):
            inner = True
    raise _Malformed(path, None, "no '@data' line, so this is not an .arff file.")


def _arff_structure(header: _ArffHeader, path: Path, n: int) -> _ArffHeader:
    """Check the attribute layout (line ``n`` is @data); record the class labels."""
    outer = header.outer
    if not outer:
        raise _Malformed(path, n, "no class attribute is declared before @data.")
    if header.relational and len(outer) != 1:
        raise _Malformed(
            path,
            outer[1][0],
            "expected exactly one attribute, the class, after the relational "
            "attribute's @end.",
        )
    for line, kind in outer[:-1]:  # univariate: one numeric attribute per step
        if kind.lower() not in _NUMERIC_TYPES:
            raise _Malformed(
                path, line, f"time steps must be numeric; got {short_repr(kind)}."
            )
    if not header.relational:
        header.width = len(outer) - 1
    if header.width == 0:
        raise _Malformed(path, n, "no time-step attribute is declared.")
    header.class_labels = _nominal(outer[-1][1])
    return header


def _arff_label(text: str, header: _ArffHeader, path: Path, n: int) -> str:
    label = _unquote(text)
    if not label:
        raise _Malformed(path, n, "the class label (after the last ',') is empty.")
    if header.class_labels is not None and label not in header.class_labels:
        raise _Malformed(
            path,
            n,
            f"class label {short_repr(label)} is not one of those declared: "
            f"{', '.join(header.class_labels)}.",
        )
    return label


def _arff_values(
    text: str, header: _ArffHeader, path: Path, n: int, k: int
) -> np.ndarray:
    values = _parse_values(text, path, n, k)
    if len(values) != header.width:
        raise _Malformed(
            path,
            n,
            f"dimension {k} has {len(values)} values, but the header declares "
            f"{header.width} time-step attributes (pad shorter series with '?').",
        )
    return values


def _arff_relational_row(
    data: str, i: int, header: _ArffHeader, path: Path, n: int
) -> tuple[np.ndarray, str, int]:
    r"""Parse the row ``'dim\ndim...',label`` that starts at ``data[i]``.

    Returns the case, its label and the index just after the row.
    """
    quote = data[i]
    close = data.find(quote, i + 1) if quote in "'\"" else -1
    if close < 0:
        raise _Malformed(
            path,
            n,
            "expected a quoted relational value and its closing quote, e.g. "
            "'1,2,3\\n4,5,6',label.",
        )
    end = data.find("\n", close)
    end = len(data) if end < 0 else end
    rest = data[close + 1 : end].strip()
    if not rest.startswith(","):
        raise _Malformed(
            path, n, "expected ',' and the class label after the quoted value."
        )
    dims = _DIMENSION_BREAK.split(data[i + 1 : close])
    case = _case([_arff_values(d, header, path, n, k) for k, d in enumerate(dims)])
    return case, _arff_label(rest[1:], header, path, n), end


def _read_arff(path: Path) -> _Split:
    """Read an ``.arff`` file: one (n_channels, n_timesteps) array per case."""
    lines = _read_text(path).splitlines()
    header, start = _arff_header(lines, path)
    data = "\n".join(lines[start:])  # a quoted relational value may span lines
    cases: list[np.ndarray] = []
    labels: list[str] = []
    i, n, counted = 0, start + 1, 0  # n: the line number of data[i]
    while i < len(data):
        if data[i].isspace():
            i += 1
            continue
        n += data.count("\n", counted, i)
        counted = i
        end = data.find("\n", i)
        end = len(data) if end < 0 else end
        if data[i] == "%":  # a comment line
            i = end
            continue
        if data[i] == "{":
            raise _Malformed(path, n, "sparse ARFF rows '{...}' are not supported.")
        if header.relational:
            case, label, end = _arff_relational_row(data, i, header, path, n)
        else:
            values, _, text = data[i:end].strip().rpartition(",")
            case = _arff_values(values, header, path, n, 0)[np.newaxis]
            label = _arff_label(text, header, path, n)
        if cases and len(case) != len(cases[0]):
            raise _Malformed(
                path,
                n,
                f"this case has {len(case)} dimension(s), the first case "
                f"{len(cases[0])}; every case needs the same number.",
            )
        cases.append(case)
        labels.append(label)
        i = end
    return cases, labels


# --------------------------------------------------------------------- loaders
def _read_split(path: Path) -> _Split:
    """Read one ``.ts`` or ``.arff`` split file; it must hold at least one case."""
    if path.suffix.lower() not in (".ts", ".arff"):
        raise ValueError(
            f"{path} is neither a .ts nor an .arff file; load_uea reads the UEA "
            "archive's <name>_TRAIN.ts or <name>_TRAIN.arff files."
        )
    if not path.is_file():
        raise FileNotFoundError(f"UEA file {path} does not exist.")
    cases, labels = (_read_ts if path.suffix.lower() == ".ts" else _read_arff)(path)
    if not cases:
        raise _Malformed(path, None, "the @data section holds no case.")
    return cases, labels


def _stack(cases: list[np.ndarray], length: int) -> np.ndarray:
    """Stack cases into (n, c, length) float32, right-padding with NaN."""
    X = np.full((len(cases), len(cases[0]), length), np.nan, dtype=np.float32)
    for out, case in zip(X, cases, strict=True):
        out[:, : case.shape[1]] = case
    return X


def _find_splits(name: str, root: str | os.PathLike[str] | None) -> tuple[Path, Path]:
    """Return the train and test files of ``name``, preferring ``.ts``."""
    folder = data_home(root)
    tried = [
        place / f"{name}_TRAIN{ext}"
        for place in (folder / name, folder)
        for ext in (".ts", ".arff")
    ]
    train = next((p for p in tried if p.is_file()), None)
    if train is None:
        raise FileNotFoundError(
            f"UEA dataset {short_repr(name)} not found; tried "
            f"{', '.join(map(str, tried))}. "
            f"Download the UEA archive ({UEA_ARCHIVE_URL}, or one dataset from "
            f"{UEA_URL}), unpack it and pass root= (or set TSCL_DATA) to the folder "
            "that holds the dataset folders."
        )
    test = train.with_name(f"{name}_TEST{train.suffix}")
    if not test.is_file():
        raise FileNotFoundError(f"Found {train} but not the test split {test}.")
    return train, test


def load_uea(
    name: str,
    root: str | os.PathLike[str] | None = None,
    *,
    missing: str = "keep",
) -> Split:
    r"""Load a dataset of the UEA multivariate archive with its official split.

    Reads ``<name>_TRAIN.ts`` and ``<name>_TEST.ts`` (sktime/aeon format) or, when
    there is no ``.ts`` pair, ``<name>_TRAIN.arff`` and ``<name>_TEST.arff`` (WEKA
    format with a relational attribute); see the module docstring for both
    layouts. Univariate ``.ts``/``.arff`` files of the UCR archive are read too
    (one channel). Variable-length cases (e.g. JapaneseVowels) are right-padded
    with NaN to the longest case of either split, then ``missing`` applies.

    Parameters
    ----------
    name : str
        Dataset name as in the archive, e.g. ``"BasicMotions"`` (case-sensitive).
    root : str or path, optional
        Folder holding ``<name>/<name>_TRAIN.ts`` (the archive's layout) or
        ``<name>_TRAIN.ts`` (or the ``.arff`` files). ``None`` means the
        environment variable ``TSCL_DATA``, else ``~/tscl_data``, as for
        :func:`tscl.datasets.load_ucr`.
    missing : {"keep", "pad", "resample"}, default="keep"
        The missing-value policy, applied to each split after the NaN padding
        (see :func:`tscl.datasets.fill_missing`): ``"keep"`` leaves NaN (``?`` in
        the file, and the padding of variable-length cases); ``"pad"``
        interpolates gaps and sets the padding after a case's last observed
        step to 0; ``"resample"`` interpolates gaps and stretches each case to
        the full length.

    Returns
    -------
    Split
        The named tuple ``(X_train, y_train, X_test, y_test)``, as from
        :func:`tscl.datasets.load_ucr`:

        X_train, X_test : ndarray of shape (n_train or n_test, n_channels, n_timesteps)
            The cases in file order, float32; both splits have the same
            ``n_timesteps``.
        y_train, y_test : ndarray of shape (n_train,) and (n_test,)
            int64 when all labels (train and test) are integral numbers, else str.

    Raises
    ------
    FileNotFoundError
        If no split file is found; the message lists the paths tried.
    ValueError
        If a file is malformed (the message names the file, the line and what
        was expected), uses time stamps (``@timeStamps true``) or regression
        targets, if the splits have different channel counts, if ``missing`` is
        unknown, or if ``missing`` is ``"pad"`` or ``"resample"`` and a case (or a
        channel of a case) holds no value at all.

    See Also
    --------
    load_uea_file : One file.
    tscl.datasets.fill_missing : The missing-value policies, and the masks.

    Notes
    -----
    Masks: to know which values the files held, load with ``missing="keep"``
    (NaN for ``?`` and for the padding of variable-length cases) and call
    ``fill_missing(X, policy, return_mask=True)`` on each split. It returns the
    array that ``missing=policy`` gives and the mask, True where the file held a
    value (not ``?``, not padding; all True for ``"resample"``).

    References
    ----------
    [1] Bagnall et al., The UEA multivariate time series classification archive,
    2018, arXiv:1811.00075.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> root = Path(tempfile.mkdtemp())
    >>> header = "@problemName Toy\n@univariate false\n@dimensions 2\n"
    >>> header += "@equalLength false\n@classLabel true a b\n@data\n"
    >>> _ = (root / "Toy_TRAIN.ts").write_text(
    ...     header + "1,2,3:4,5,6:a\n1,?,3:4,5,6:b\n"
    ... )
    >>> _ = (root / "Toy_TEST.ts").write_text(header + "1,2:3,4:b\n")
    >>> X_train, y_train, X_test, y_test = load_uea("Toy", root)
    >>> X_train.shape, X_test.shape, y_train, y_test
    ((2, 2, 3), (1, 2, 3), array(['a', 'b'], dtype='<U1'), array(['b'], dtype='<U1'))
    >>> X_test[0]
    array([[ 1.,  2., nan],
           [ 3.,  4., nan]], dtype=float32)
    >>> load_uea("Toy", root, missing="pad")[0][1]
    array([[1., 2., 3.],
           [4., 5., 6.]], dtype=float32)
    >>> load_uea("Toy", root, missing="resample").X_test[0]
    array([[1. , 1.5, 2. ],
           [3. , 3.5, 4. ]], dtype=float32)

    The masks of observed values (the same for ``"keep"`` and ``"pad"``):

    >>> from tscl.datasets import fill_missing
    >>> split = load_uea("Toy", root, missing="keep")
    >>> X_test, mask_test = fill_missing(split.X_test, "pad", return_mask=True)
    >>> mask_test[0]
    array([[ True,  True, False],
           [ True,  True, False]])
    >>> int(fill_missing(split.X_train, "pad", return_mask=True)[1].sum())
    11
    """
    check_policy(missing, "missing", "load_uea")
    train, test = _find_splits(name, root)
    cases_train, labels_train = _read_split(train)
    cases_test, labels_test = _read_split(test)
    if len(cases_train[0]) != len(cases_test[0]):
        raise ValueError(
            f"{train} has {len(cases_train[0])} channel(s) but {test} has "
            f"{len(cases_test[0])}; both splits of a dataset need the same channels."
        )
    length = max(case.shape[1] for case in [*cases_train, *cases_test])
    X_train = fill_missing(_stack(cases_train, length), missing, source=train.name)
    X_test = fill_missing(_stack(cases_test, length), missing, source=test.name)
    y = _convert_labels(np.array([*labels_train, *labels_test]))
    n_train = len(labels_train)
    return Split(X_train, y[:n_train], X_test, y[n_train:])


def load_uea_file(
    path: str | os.PathLike[str], *, missing: str = "keep"
) -> LabelledSeries:
    r"""Read one ``.ts`` or ``.arff`` file of the UEA (or UCR) archive.

    Parameters
    ----------
    path : str or path
        A file such as ``BasicMotions_TRAIN.ts`` or ``BasicMotions_TRAIN.arff``;
        the suffix picks the format (see the module docstring).
    missing : {"keep", "pad", "resample"}, default="keep"
        The missing-value policy, as in :func:`load_uea`. Variable-length cases
        are right-padded with NaN to the longest case of this file first.

    Returns
    -------
    LabelledSeries
        The named tuple ``(X, y)``, as from :func:`tscl.datasets.load_ucr_file`:

        X : ndarray of shape (n_samples, n_channels, n_timesteps), float32
            The cases in file order.
        y : ndarray of shape (n_samples,)
            int64 when every label is an integral number, else str.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the suffix is neither ``.ts`` nor ``.arff``, or as in :func:`load_uea`.

    See Also
    --------
    load_uea : Both splits of a dataset.
    tscl.datasets.fill_missing : The missing-value policies, and the masks.

    Notes
    -----
    Masks: to know which values the file held, load with ``missing="keep"`` and
    call ``fill_missing(X, policy, return_mask=True)``, as for :func:`load_uea`.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> path = Path(tempfile.mkdtemp()) / "Toy_TRAIN.arff"
    >>> _ = path.write_text(
    ...     "@relation Toy\n@attribute relationalAtt relational\n"
    ...     "@attribute t0 numeric\n@attribute t1 numeric\n@end relationalAtt\n"
    ...     "@attribute class {1,2}\n@data\n'1,2\\n3,?',1\n'5,6\\n7,8',2\n"
    ... )
    >>> X, y = load_uea_file(path)
    >>> X[0], y
    (array([[ 1.,  2.],
           [ 3., nan]], dtype=float32), array([1, 2]))
    >>> from tscl.datasets import fill_missing
    >>> X_pad, mask = fill_missing(X, "pad", return_mask=True)
    >>> X_pad[0], int(mask.sum())
    (array([[1., 2.],
           [3., 3.]], dtype=float32), 7)
    """
    check_policy(missing, "missing", "load_uea_file")
    path = Path(path)
    cases, labels = _read_split(path)
    X = fill_missing(
        _stack(cases, max(case.shape[1] for case in cases)),
        missing,
        source=path.name,
    )
    return LabelledSeries(X, _convert_labels(np.array(labels)))
