"""Sphinx configuration of the tscl documentation site (``make docs``).

The user guide is the markdown in this folder (read with MyST); the API
reference is generated from the numpydoc docstrings: :func:`write_reference`
writes one page per public module listing every name of its ``__all__``, and
autosummary writes a page per object from those lists.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import tscl  # noqa: E402

project = "tscl"
author = "the tscl developers"
copyright = "2026, the tscl developers"  # noqa: A001
release = version = tscl.__version__

extensions = [
    "myst_parser",
    "numpydoc",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
]
# The source folder is the repository root (``sphinx-build -c docs . OUT``), so
# that the guides' links to the README and the dataset cards resolve as pages.
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
root_doc = "docs/index"
include_patterns = [
    "README.md",
    "docs/**",
    "datasets/README.md",
    "datasets/cards/*.md",
]
exclude_patterns = ["docs/_build/**", "docs/_templates/**"]
myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence"]

templates_path = [str(HERE / "_templates")]  # classes: their own members, not sklearn's
autosummary_generate = True
autosummary_imported_members = True
autodoc_default_options = {"members": False}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

html_theme = "pydata_sphinx_theme"
html_title = f"tscl {version}"
html_static_path: list[str] = []
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
}


def public_modules() -> list[str]:
    """``tscl`` and every submodule without an underscore in its dotted name."""
    names = ["tscl"]
    for info in pkgutil.walk_packages(tscl.__path__, "tscl."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            names.append(info.name)
    return sorted(names, key=lambda n: (n != "tscl", n))


def reference_entries() -> dict[str, list[tuple[str, str | None]]]:
    """Per module, each ``__all__`` name and where it is documented (None: here).

    A name exported by several modules (``tscl.ContrastiveEncoder`` and
    ``tscl.estimator.ContrastiveEncoder``) gets its page once, under the first
    module that lists it; the others link to it.
    """
    owner: dict[int, str] = {}
    entries: dict[str, list[tuple[str, str | None]]] = {}
    for module_name in public_modules():
        module = importlib.import_module(module_name)
        rows = []
        for name in getattr(module, "__all__", []):
            value = getattr(module, name)
            key = id(value)
            documented = callable(value) or isinstance(value, type)
            if documented and key in owner:
                rows.append((name, owner[key]))
            else:
                if documented:
                    owner[key] = f"{module_name}.{name}"
                rows.append((name, None))
        entries[module_name] = rows
    return entries


def write_reference(app: object | None = None) -> None:
    """Write ``reference/<module>.rst`` for every public module, and the index."""
    folder = HERE / "reference"
    folder.mkdir(exist_ok=True)
    entries = reference_entries()
    pages = []
    for module_name, rows in entries.items():
        title = f"``{module_name}``"
        lines = [
            title,
            "=" * len(title),
            "",
            f".. automodule:: {module_name}",
            "   :no-members:",
            "   :no-index:",
            "",
            f".. currentmodule:: {module_name}",
            "",
        ]
        own = [name for name, elsewhere in rows if elsewhere is None]
        if own:
            lines += [".. autosummary::", "   :toctree: generated", ""]
            lines += [f"   {name}" for name in own]
            lines.append("")
        shared = [(name, where) for name, elsewhere in rows if (where := elsewhere)]
        if shared:
            lines += ["Also exported here, documented where first listed:", ""]
            lines += [f"- ``{name}``: :obj:`{where}`" for name, where in shared]
            lines.append("")
        text = "\n".join(lines)
        page = folder / f"{module_name}.rst"
        if not page.is_file() or page.read_text() != text:  # keep builds incremental
            page.write_text(text)
        pages.append(module_name)
    index = [
        "API reference",
        "=============",
        "",
        "Every public module of tscl, and every name of its ``__all__``, from the",
        "numpydoc docstrings. The :doc:`guide pages <../api>` give the overview.",
        "",
        ".. toctree::",
        "   :maxdepth: 1",
        "",
        *[f"   {name}" for name in pages],
        "",
    ]
    (folder / "index.rst").write_text("\n".join(index))


def setup(app: object) -> None:
    """Generate the reference pages before Sphinx reads the sources."""
    write_reference()
