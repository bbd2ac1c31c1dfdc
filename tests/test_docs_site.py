"""The documentation site's API reference lists every name of every ``__all__``."""

import importlib
import importlib.util
import pkgutil
import re
from pathlib import Path

import tscl

DOCS = Path(__file__).resolve().parents[1] / "docs"


def _conf():
    spec = importlib.util.spec_from_file_location("tscl_docs_conf", DOCS / "conf.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_public_module_has_a_reference_page_listing_its_all():
    conf = _conf()
    conf.write_reference()
    public = {"tscl"} | {
        info.name
        for info in pkgutil.walk_packages(tscl.__path__, "tscl.")
        if not any(part.startswith("_") for part in info.name.split("."))
    }
    assert set(conf.public_modules()) == public
    index = (DOCS / "reference" / "index.rst").read_text()
    for name in public:
        assert f"   {name}\n" in index
        page = (DOCS / "reference" / f"{name}.rst").read_text()
        listed = set(re.findall(r"^   (\w+)$", page, flags=re.M))
        listed |= set(re.findall(r"^- ``(\w+)``: :obj:", page, flags=re.M))
        exported = set(getattr(importlib.import_module(name), "__all__", []))
        assert exported <= listed, f"{name}: {sorted(exported - listed)} missing"


def test_a_name_exported_twice_gets_one_page_and_a_link():
    entries = _conf().reference_entries()
    assert ("ContrastiveEncoder", None) in entries["tscl"]
    assert ("ContrastiveEncoder", "tscl.ContrastiveEncoder") in entries[
        "tscl.estimator"
    ]


def test_every_guide_page_is_in_the_site():
    toctree = (DOCS / "index.md").read_text().split("```{toctree}")[1]
    pages = {p.stem for p in DOCS.glob("*.md")} - {"index"}
    assert pages <= set(toctree.split())
