"""Country profiles: every profile in countries/ loads, and a profile can share another's taxonomy."""

from __future__ import annotations

from pathlib import Path

import pytest

from osint.classify import Classifier
from osint.errors import ConfigError
from osint.settings import PROJECT_ROOT, load_profile

COUNTRIES = PROJECT_ROOT / "countries"


@pytest.mark.parametrize("path", sorted(COUNTRIES.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_profile_loads_with_four_buckets(path: Path) -> None:
    profile = load_profile(path)
    assert profile.slug == path.stem
    assert set(profile.taxonomy) == {"security", "economy", "diplomacy", "defense"}


def test_kazakhstan_shares_the_mongolian_taxonomy_and_adds_its_own() -> None:
    shared = load_profile(COUNTRIES / "mongolia.yaml").taxonomy
    own = load_profile(COUNTRIES / "kazakhstan.yaml").taxonomy
    for bucket, spec in shared.items():
        for language, terms in spec.terms.items():
            assert terms.items() <= own[bucket].terms[language].items(), (bucket, language)
        assert own[bucket].label == spec.label
    assert own["economy"].terms["en"]["tenge"] == 3
    assert "tenge" not in shared["economy"].terms["en"]
    assert own["defense"].terms["kk"]["әскери жаттығу*"] == 5


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


BASE = """\
code: AA
name: Aland
slug: aland
report_title: Aland report
names: {en: [Aland]}
taxonomy:
  security: {label: Security, terms: {en: {crime: 3, theft: 3}}}
  economy: {label: Economy, terms: {en: {trade: 2}}, negative: {en: {trade union: 2}}}
  diplomacy: {label: Diplomacy, terms: {en: {visit: 1}}}
  defense: {label: Defense, terms: {en: {army: 3}}}
"""


def test_own_terms_override_and_null_drops_a_shared_term(tmp_path: Path) -> None:
    _write(tmp_path / "base.yaml", BASE)
    profile = load_profile(
        _write(
            tmp_path / "b.yaml",
            "code: BB\nname: Bland\nslug: b\nreport_title: B\nnames: {en: [Bland]}\n"
            "taxonomy_from: base.yaml\n"
            "taxonomy:\n"
            "  security: {terms: {en: {theft: null, smuggling: 4}}}\n"
            "  economy: {description: Trade and money, terms: {en: {trade: 4}, fr: {commerce: 3}}}\n",
        )
    )
    assert profile.taxonomy_from == "base.yaml"
    assert profile.taxonomy["security"].terms["en"] == {"crime": 3, "smuggling": 4}
    assert profile.taxonomy["economy"].terms == {"en": {"trade": 4}, "fr": {"commerce": 3}}
    assert profile.taxonomy["economy"].negative == {"en": {"trade union": 2}}
    assert profile.taxonomy["economy"].description == "Trade and money"
    assert profile.taxonomy["defense"].label == "Defense"


def test_a_shared_taxonomy_must_exist_and_be_one_level_deep(tmp_path: Path) -> None:
    head = "code: CC\nname: C\nslug: c\nreport_title: C\nnames: {en: [C]}\n"
    with pytest.raises(ConfigError, match="cannot read"):
        load_profile(_write(tmp_path / "c.yaml", head + "taxonomy_from: missing.yaml\ntaxonomy: {}\n"))
    _write(tmp_path / "mid.yaml", head + "taxonomy_from: c.yaml\ntaxonomy: {}\n")
    with pytest.raises(ConfigError, match="only one level"):
        load_profile(_write(tmp_path / "d.yaml", head + "taxonomy_from: mid.yaml\ntaxonomy: {}\n"))
    _write(tmp_path / "plain.yaml", "names: {en: [X]}\n")
    with pytest.raises(ConfigError, match="no taxonomy to share"):
        load_profile(_write(tmp_path / "e.yaml", head + "taxonomy_from: plain.yaml\ntaxonomy: {}\n"))


@pytest.fixture(scope="module")
def kazakhstan() -> Classifier:
    return Classifier(load_profile(COUNTRIES / "kazakhstan.yaml"))


@pytest.mark.parametrize(
    ("title", "text"),
    [
        ("Қазақстан мен Моңғолия стратегиялық серіктестік орнатты", "Екі ел арасындағы сауда өсті."),
        ("Казахстан увеличит добычу нефти", "Министерство энергетики сообщило о планах на год."),
        ("哈萨克斯坦总统托卡耶夫访问蒙古国", "双方签署了战略伙伴关系联合声明。"),
    ],
)
def test_the_country_is_found_in_kazakh_russian_and_chinese(
    kazakhstan: Classifier, title: str, text: str
) -> None:
    assert kazakhstan.classify(title, text).relevant


def test_mongolias_kazakhs_are_not_kazakhstan(kazakhstan: Classifier) -> None:
    decision = kazakhstan.classify(
        "Eagle hunters gather in Ölgii",
        "Ethnic Kazakh eagle hunters of Bayan-Ölgii province met for the annual festival. "
        "The Kazakh minority of western Mongolia keeps the tradition alive.",
    )
    assert not decision.relevant
