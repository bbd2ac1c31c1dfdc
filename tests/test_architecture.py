"""The package's shape: no import cycles, one writer, registries that tell the truth."""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "tscl"


def _modules() -> dict[str, Path]:
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """Every tscl module ``name`` imports, at the top or inside a function."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            for alias in node.names:
                full = f"{base}.{alias.name}"
                found.add(full if full in modules else base)
    return {m for m in found if m in modules and m != name}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A chain of imports that comes back to its start, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_module_imports_one_that_imports_it_back():
    modules = _modules()
    graph = {name: _imports(name, path, modules) for name, path in modules.items()}
    cycle = _cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_cycle_finder_finds_cycles():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


@pytest.mark.parametrize(
    ("lower", "upper"),
    [
        ("tscl.distributed", "tscl.training"),
        ("tscl.persistence", "tscl.estimator"),
        ("tscl.evaluation._finetune", "tscl.estimator"),
        ("tscl.encoders", "tscl.training"),
    ],
)
def test_lower_layers_do_not_import_upper_ones(lower, upper):
    modules = _modules()
    graph = {name: _imports(name, path, modules) for name, path in modules.items()}
    reached, todo = set(), [lower]
    while todo:
        for nxt in graph[todo.pop()] - reached:
            reached.add(nxt)
            todo.append(nxt)
    assert upper not in reached


def _grep(pattern: str) -> list[str]:
    """``path:line`` of every line of tscl's source that matches ``pattern``."""
    regex = re.compile(pattern)
    return [
        f"{path.relative_to(ROOT).as_posix()}:{number}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if regex.search(line)
    ]


def test_one_atomic_writer_one_optional_import_one_optimiser():
    assert {line.split(":")[0] for line in _grep(r"os\.replace\(")} == {
        "tscl/_files.py"
    }
    assert [line.split(":")[0] for line in _grep(r"mkstemp|NamedTemporaryFile")] == []
    assert {line.split(":")[0] for line in _grep(r"except ImportError")} == {
        "tscl/_validation.py"
    }
    assert {line.split(":")[0] for line in _grep(r"optim\.AdamW\(")} == {
        "tscl/training/_config.py"
    }
    assert {line.split(":")[0] for line in _grep(r"def resolve_device\(")} == {
        "tscl/distributed.py"
    }
