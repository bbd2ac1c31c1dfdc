"""docs/augmentations.md shows every registered augmentation, with its pictures."""

from pathlib import Path

import pytest

from tscl.augment import AUGMENTATIONS

ROOT = Path(__file__).resolve().parents[1]
PAGE = (ROOT / "docs" / "augmentations.md").read_text()
IMAGES = ROOT / "docs" / "images" / "augment"


@pytest.mark.parametrize("name", sorted(AUGMENTATIONS))
def test_every_augmentation_is_documented_and_drawn(name):
    cls = AUGMENTATIONS[name]
    assert f"`{cls.__name__}`" in PAGE
    assert f"| `{name}` |" in PAGE  # its row in the tables of registered names
    signals = ["ecg"] if "fs" in cls().get_params() else ["ecg", "price"]
    for signal in signals:
        picture = f"images/augment/{name}_{signal}.png"
        assert picture in PAGE, f"docs/augmentations.md does not show {picture}"
        assert (IMAGES / f"{name}_{signal}.png").stat().st_size > 0


def test_methods_page_describes_every_method_and_loss():
    from tscl import losses, methods

    page = (ROOT / "docs" / "methods.md").read_text()
    for name, cls in methods.METHODS.items():
        assert f'`"{name}"`' in page, f"docs/methods.md does not list {name}"
        assert f"`{cls.__name__}`" in page
    for cls in losses.LOSSES.values():
        assert f"`{cls.__name__}(" in page, f"docs/methods.md does not show {cls}"
