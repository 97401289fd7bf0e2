"""The code is country-free: a second country is configuration, not code (SPEC §1, issue 14).

Every name, place, person and institution (outlets among them) of every profile in
countries/ is looked for, with the classifier's own term matcher, in the code of osint/
(its string literals and identifiers) and in templates/ and prompts/. Comments and
docstrings may give examples; the documented default time zone is the one literal allowed.
Language facilities are not countries: stopword lists per language and the Cyrillic
letters of a transliteration table stay in the code.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from osint.settings import PROJECT_ROOT, load_profile
from osint.terms import TermMatcher

CODE = PROJECT_ROOT / "osint"
ALLOWED = {("settings.py", "Asia/Ulaanbaatar")}
"""(file, literal): OSINT_TIMEZONE's documented default (SPEC §3)."""


def _profile_terms() -> list[tuple[str, str, float]]:
    terms = []
    for path in sorted((PROJECT_ROOT / "countries").glob("*.yaml")):
        profile = load_profile(path)
        for kind, table in (
            ("name", profile.names),
            ("place", profile.places),
            ("person", profile.people),
            ("institution", profile.institutions),
        ):
            for words in table.values():
                terms += [(t, f"{path.stem} {kind}", 1.0) for t in words]
    return terms


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the string constants that are docstrings (a body's first expression)."""
    out = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            value = body[0].value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                out.add(id(value))
        # attribute docstrings: a string expression right after an assignment
        if isinstance(body, list):
            for stmt in body:
                if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
                    out.add(id(stmt.value))
    return out


def _code_texts(path: Path) -> Iterator[tuple[int, str]]:
    """(line, text) of every string literal and identifier that is not documentation."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _docstrings(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            yield node.lineno, node.value
        elif isinstance(node, ast.Name):
            yield node.lineno, node.id
        elif isinstance(node, ast.Attribute):
            yield node.lineno, node.attr
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            yield node.lineno, node.name
        elif isinstance(node, ast.arg):
            yield node.lineno, node.arg
        elif isinstance(node, ast.alias):
            yield node.lineno, node.asname or node.name


def _words_of_identifier(text: str) -> str:
    """MONTSAME_URL, montsameUrl -> "MONTSAME URL", "montsame Url" (so a name inside is a word)."""
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", text).replace("_", " ")


def country_terms_in_code(root: Path = CODE) -> list[str]:
    matcher = TermMatcher(_profile_terms())
    found = []
    for path in sorted(root.rglob("*.py")):
        for line, text in _code_texts(path):
            if (path.name, text) in ALLOWED:
                continue
            for hit in matcher.find(_words_of_identifier(text)):
                found.append(
                    f"{path.relative_to(root.parent)}:{line}: {hit.category} {hit.term!r} in {text[:60]!r}"
                )
    return found


def test_no_country_in_the_code() -> None:
    assert country_terms_in_code() == []


def test_no_country_in_the_templates_and_prompts() -> None:
    """What every desk's report and every model prompt share must not name one country."""
    matcher = TermMatcher(_profile_terms())
    found = [
        f"{path.relative_to(PROJECT_ROOT)}: {hit.term!r}"
        for folder in ("templates", "prompts")
        for path in sorted((PROJECT_ROOT / folder).iterdir())
        if path.is_file() and path.suffix != ".md"
        for hit in matcher.find(path.read_text(encoding="utf-8"))
    ]
    assert found == []


def test_the_scan_finds_a_country_where_there_is_one(tmp_path: Path) -> None:
    pkg = tmp_path / "osint"
    pkg.mkdir()
    (pkg / "leak.py").write_text(
        '"""A module about Ulaanbaatar may say so here."""\n'
        "# and Montsame in a comment\n"
        'AGENCY = "Kazinform"\n'
        "def parse_montsame_date(text: str) -> str:\n"
        '    """Montsame writes dates its own way."""\n'
        '    return text.replace("Улаанбаатар", "")\n',
        encoding="utf-8",
    )
    found = country_terms_in_code(pkg)
    assert len(found) == 3, found
    assert any("'Kazinform'" in f for f in found)
    assert any("montsame" in f.lower() and "parse_montsame_date" in f for f in found)
    assert any("Улаанбаатар" in f for f in found)


@pytest.mark.parametrize("profile", sorted((PROJECT_ROOT / "countries").glob("*.yaml")), ids=lambda p: p.stem)
def test_every_profile_contributes_terms(profile: Path) -> None:
    assert any(category.startswith(profile.stem) for _t, category, _w in _profile_terms())
