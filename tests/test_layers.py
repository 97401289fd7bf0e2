"""The package's layers hold: no stage imports another stage, toolkits import no stage,
fronts reach stages only through jobs, nothing below a front imports one.

The layers are read from ``osint/__init__.py``'s docstring (so the table there cannot go
stale) and every import of every module is read with :mod:`ast`: module level, inside
functions and under ``TYPE_CHECKING`` alike.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import osint

PACKAGE = Path(osint.__file__).parent
LAYERS = ("toolkits", "stages", "jobs", "fronts")


def layer_table() -> dict[str, str]:
    """Top-level module or package name -> its layer, from the package docstring."""
    doc = osint.__doc__ or ""
    table: dict[str, str] = {}
    current = None
    for line in doc.splitlines():
        m = re.match(r"\s{4}(\w+):\s+(.*)", line)
        if m and m.group(1) in LAYERS:
            current = m.group(1)
            names = m.group(2)
        elif current and re.match(r"\s{10,}\S", line):
            names = line
        else:
            current = None
            continue
        for name in names.split():
            assert name not in table, f"{name} is listed twice"
            table[name] = current
    return table


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path, source: str | None = None) -> list[tuple[int, str]]:
    """(line, absolute ``osint...`` module name) for every import in the file."""
    tree = ast.parse(source if source is not None else path.read_text(encoding="utf-8"))
    here = module_name(path).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "osint"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "osint":
                continue
            if target == "osint":  # ``from .. import editorial``: the names are the modules
                out += [(node.lineno, f"osint.{a.name}") for a in node.names]
            else:
                out.append((node.lineno, target))
    return out


def unit(module: str) -> str:
    """The layer unit a module belongs to: its top-level module or package under osint."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def violations(path: Path, table: dict[str, str], source: str | None = None) -> list[str]:
    """Every import of the file that crosses the layer rules, described."""
    me = unit(module_name(path))
    mine = table.get(me)
    found = []
    for line, target in imported(path, source):
        other = unit(target)
        if not other or other == me:
            continue  # the package itself (its version), or a module of the same unit
        theirs = table.get(other)
        where = f"{path.relative_to(PACKAGE.parent)}:{line} imports {target}"
        if theirs is None:
            found.append(f"{where}, which is in no layer")
        elif mine == "toolkits" and theirs != "toolkits":
            found.append(f"{where}: a toolkit imports only toolkits, not {theirs}")
        elif mine == "stages" and theirs != "toolkits":
            found.append(f"{where}: a stage imports only toolkits, not {theirs[:-1]} {other}")
        elif mine == "jobs" and theirs == "fronts":
            found.append(f"{where}: a job imports no front")
        elif mine == "fronts" and theirs == "stages":
            found.append(f"{where}: a front imports toolkits, jobs and fronts, not stage {other}")
    return found


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_every_module_is_in_exactly_one_layer() -> None:
    table = layer_table()
    assert set(table.values()) == set(LAYERS)
    units = {unit(module_name(p)) for p in modules()} - {""}
    assert sorted(units - set(table)) == [], "add these to the table in osint/__init__.py"
    assert sorted(set(table) - units) == [], "the table names modules that do not exist"


@pytest.mark.parametrize("path", modules(), ids=lambda p: module_name(p))
def test_imports_keep_to_the_layers(path: Path) -> None:
    assert violations(path, layer_table()) == []


@pytest.mark.parametrize(
    ("file", "source", "expected"),
    [
        ("cluster.py", "from .render import render", "a stage imports only toolkits, not stage render"),
        ("editorial.py", "from .analyse.base import Draft", "not stage analyse"),
        ("text.py", "def f():\n    from . import store", "a toolkit imports only toolkits, not stages"),
        ("models.py", "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .jobs import x",
         "not jobs"),
        ("jobs/report.py", "from ..cli import app", "a job imports no front"),
        ("render.py", "import osint.nowhere", "in no layer"),
        ("desk/app.py", "from ..store import Store", "a front imports toolkits, jobs and fronts, not stage store"),
        ("desk/api.py", "def f():\n    from .. import review", "not stage review"),
        ("cli.py", "from .render import render", "not stage render"),
        ("urls.py", "from .desk import app", "a toolkit imports only toolkits, not fronts"),
        ("archive.py", "from .cli import app", "a stage imports only toolkits, not front cli"),
    ],
)  # fmt: skip
def test_the_check_sees_a_crossing(file: str, source: str, expected: str) -> None:
    """The check can fail: crossings written the ways imports are written are all caught."""
    found = violations(PACKAGE / file, layer_table(), source)
    assert len(found) == 1 and expected in found[0], found


@pytest.mark.parametrize(
    ("file", "source"),
    [
        ("analyse/llm.py", "from .extractive import ExtractiveEngine"),
        ("jobs/collect.py", "from ..store import Store\nfrom .gather import collect_sources"),
        ("jobs/desk.py", "from .. import editorial"),
        ("desk/context.py", "from ..jobs.desk import DeskService\nfrom ..models import Item"),
        ("cli.py", "from .desk.commands import serve"),
        ("urls.py", "from .text import clean_text"),
    ],
)
def test_what_the_layers_allow_passes(file: str, source: str) -> None:
    assert violations(PACKAGE / file, layer_table(), source) == []
