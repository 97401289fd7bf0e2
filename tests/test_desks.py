"""Several desks from one installation: a second country is a desks-file entry, not code.

Two desks over one store, against the Kazakhstan sample week served on 127.0.0.1: a
Mongolia desk reading the UB Post and the regional wire, a Kazakhstan desk reading the
national sources and the same wire. One ``osint run`` fetches the shared wire once and
writes two reports, each from its own sources, each in its own directory with its own
archive and feed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from osint.demo import CorpusSite, feeds_for, serve_corpus
from osint.settings import PROJECT_ROOT

from .conftest import invoke

SAMPLE = PROJECT_ROOT / "samples" / "kazakhstan"
WEEK = "2024-10-28_2024-11-03"


@pytest.fixture
def site(monkeypatch: pytest.MonkeyPatch) -> Iterator[CorpusSite]:
    monkeypatch.setenv("OSINT_ALLOW_PRIVATE_NETWORKS", "127.0.0.1/32")
    with serve_corpus(SAMPLE / "site") as served:
        yield served


def _desks(site: CorpusSite, tmp: Path, **extra: object) -> Path:
    """A desks file with two desks; the regional wire is in both feeds files."""
    served = yaml.safe_load(feeds_for(site, SAMPLE / "feeds.yaml", tmp / "served.yaml").read_text())
    by_name = {s["name"]: s for s in served["sources"]}
    kazakhstan = {
        "country": served["country"],
        "sources": [s for s in served["sources"] if s["name"] != "The UB Post"],
    }
    mongolia = {
        "country": str(PROJECT_ROOT / "countries" / "mongolia.yaml"),
        "sources": [by_name["The UB Post"], by_name["Steppe Regional Wire"]],
    }
    (tmp / "feeds-kazakhstan.yaml").write_text(yaml.safe_dump(kazakhstan, allow_unicode=True))
    (tmp / "feeds-mongolia.yaml").write_text(yaml.safe_dump(mongolia, allow_unicode=True))
    desks = {
        "desks": [
            {"name": "mongolia", "feeds": "feeds-mongolia.yaml", "out": "reports/mongolia", **extra},
            {
                "name": "kazakhstan",
                "feeds": "feeds-kazakhstan.yaml",
                "out": "reports/kazakhstan",
                "mail_to": ["kazakhstan-desk@example.org"],
                "schedule": "0 7 * * MON",
            },
        ]
    }
    path = tmp / "desks.yaml"
    path.write_text(yaml.safe_dump(desks))
    return path


def _report(tmp: Path, desk: str) -> dict[str, object]:
    data: dict[str, object] = json.loads((tmp / "reports" / desk / f"{desk}-{WEEK}.json").read_text())
    return data


def _titles(report: dict[str, object]) -> set[str]:
    return {str(i["title"]) for i in report["items"]}  # type: ignore[attr-defined]


def _sources(report: dict[str, object]) -> set[str]:
    return {str(i["source"]) for i in report["items"]}  # type: ignore[attr-defined]


def test_two_desks_two_reports_each_from_its_own_sources_a_shared_source_fetched_once(
    site: CorpusSite, tmp_path: Path
) -> None:
    desks = _desks(site, tmp_path)
    db = tmp_path / "osint.db"
    code, output = invoke(
        "run", "--desks", str(desks), "--db", str(db), "--week-of", "2024-10-30", "--no-email"
    )
    assert code == 0, output
    assert "desk mongolia: report for 2024-10-28 to 2024-11-03" in output
    assert "desk kazakhstan: report for 2024-10-28 to 2024-11-03" in output

    # the shared wire and its pages were fetched once for both desks
    assert site.requests["/steppewire/feed.rss"] == 1
    shared_page = (
        "/steppewire/en/news/60412-astana-and-ulaanbaatar-upgrade-relations-to-strategic-partnership.html"
    )
    assert site.requests[shared_page] == 1

    mongolia, kazakhstan = _report(tmp_path, "mongolia"), _report(tmp_path, "kazakhstan")
    assert (mongolia["region"], kazakhstan["region"]) == ("Mongolia", "Kazakhstan")
    # each from its own sources: the UB Post is the Mongolia desk's only
    assert _sources(mongolia) <= {"The UB Post", "Steppe Regional Wire"}
    assert "The UB Post" not in _sources(kazakhstan)
    assert "Kazinform (English)" in _sources(kazakhstan)
    # the shared state visit is kept by both desks, each through its own profile
    shared = "Astana and Ulaanbaatar upgrade relations to strategic partnership"
    assert shared in _titles(mongolia) and shared in _titles(kazakhstan)
    assert "Kazakh President's state visit lifts ties to 'strategic partnership'" in _titles(mongolia)
    assert "Coal trucks keep Gashuunsukhait border port busy" in _titles(mongolia)
    assert "Kambarata-1 hydropower project on the Naryn moves ahead" not in _titles(mongolia) | _titles(
        kazakhstan
    )
    # coverage shows each desk its own sources
    assert [f["name"] for f in mongolia["coverage"]["feeds"]] == ["The UB Post", "Steppe Regional Wire"]  # type: ignore[index]
    assert len(kazakhstan["coverage"]["feeds"]) == 6  # type: ignore[index, arg-type]
    # archive and Atom feed per desk
    for desk, title in (("mongolia", "Mongolia"), ("kazakhstan", "Kazakhstan")):
        feed = (tmp_path / "reports" / desk / "feed.xml").read_text()
        assert f"{title} Security Analysis Report" in feed
        assert (tmp_path / "reports" / desk / "index.html").is_file()
    assert "Kazakhstan Security Analysis Report" not in (tmp_path / "reports/mongolia/feed.xml").read_text()

    # osint feeds shows each desk its own sources, health as collected
    code, output = invoke("feeds", "--desks", str(desks), "--db", str(db), "--json")
    assert code == 0, output
    rows = json.loads(output)
    assert {(r["desk"], r["name"]) for r in rows if r["desk"] == "mongolia"} == {
        ("mongolia", "The UB Post"),
        ("mongolia", "Steppe Regional Wire"),
    }
    assert all(r["status"] == "ok" for r in rows)
    assert len([r for r in rows if r["desk"] == "kazakhstan"]) == 6

    # one desk alone: only its sources are asked again
    code, output = invoke(
        "run",
        "--desks",
        str(desks),
        "--db",
        str(db),
        "--week-of",
        "2024-10-30",
        "--no-email",
        "--desk",
        "kazakhstan",
    )
    assert code == 0, output
    assert "desk mongolia" not in output
    assert site.requests["/ubpost/atom.xml"] == 1
    assert site.requests["/steppewire/feed.rss"] == 2


def test_a_desk_takes_its_time_zone_recipients_and_schedule_from_the_desks_file(
    site: CorpusSite, tmp_path: Path
) -> None:
    from osint.jobs.desks import load_desk_list
    from osint.settings import Settings

    desks = load_desk_list(Settings(desks=_desks(site, tmp_path, timezone="Asia/Tokyo")))
    zones = {d.name: d.settings.timezone for d in desks}
    assert zones == {"mongolia": "Asia/Tokyo", "kazakhstan": "Asia/Almaty"}  # the profile's
    (kazakhstan,) = [d for d in desks if d.name == "kazakhstan"]
    assert kazakhstan.settings.recipients() == ["kazakhstan-desk@example.org"]
    assert kazakhstan.settings.schedule == "0 7 * * MON"
    assert kazakhstan.settings.out == tmp_path / "reports" / "kazakhstan"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("rename", "configured differently by two desks"),
        ("same-out", "duplicate output directories"),
        ("bad-zone", "desk mongolia"),
    ],
)
def test_a_bad_desks_file_is_refused_before_anything_runs(
    site: CorpusSite, tmp_path: Path, change: str, message: str
) -> None:
    desks = _desks(site, tmp_path, **({"timezone": "Mars/Olympus"} if change == "bad-zone" else {}))
    if change == "rename":
        feeds = tmp_path / "feeds-mongolia.yaml"
        feeds.write_text(feeds.read_text().replace("name: Steppe Regional Wire", "name: The Wire"))
    if change == "same-out":
        desks.write_text(desks.read_text().replace("reports/kazakhstan", "reports/mongolia"))
    code, output = invoke("run", "--desks", str(desks), "--db", str(tmp_path / "osint.db"), "--no-email")
    assert code == 2
    assert message in " ".join(output.split())  # the console wraps long lines
    assert sum(site.requests.values()) == 0


def test_feeds_and_out_belong_to_the_desks_file(site: CorpusSite, tmp_path: Path) -> None:
    code, output = invoke("run", "--desks", str(_desks(site, tmp_path)), "--out", str(tmp_path / "x"))
    assert code == 2 and "per desk" in output
    code, output = invoke("run", "--desks", str(_desks(site, tmp_path)), "--desk", "atlantis")
    assert code == 2 and "no desk 'atlantis'" in " ".join(output.split())


def test_the_shipped_desks_file_loads_and_shares_three_sources() -> None:
    from osint.jobs.desks import load_desk_list
    from osint.settings import Settings

    desks = load_desk_list(Settings(desks=PROJECT_ROOT / "desks.yaml"))
    assert [d.name for d in desks] == ["mongolia", "kazakhstan"]
    assert {d.settings.timezone for d in desks} == {"Asia/Ulaanbaatar", "Asia/Almaty"}
    urls = [{s.url for s in d.config.feeds.sources} for d in desks]
    assert len(urls[0] & urls[1]) == 3


def test_the_scheduled_job_runs_every_desk(site: CorpusSite, tmp_path: Path) -> None:
    from osint.schedule import weekly_job
    from osint.settings import Settings

    settings = Settings(desks=_desks(site, tmp_path), db=tmp_path / "osint.db")
    weekly_job(settings)()  # this week: the sample's items are out of period, the reports say so
    for desk in ("mongolia", "kazakhstan"):
        reports = list((tmp_path / "reports" / desk).glob(f"{desk}-*.json"))
        assert len(reports) == 1, desk
        assert (tmp_path / "reports" / desk / "feed.xml").is_file()
    assert site.requests["/steppewire/feed.rss"] == 1


def test_each_desk_mails_its_own_report_to_its_own_recipients(
    site: CorpusSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from . import mailserver

    handler = mailserver.Handler()
    with mailserver.smtp_server(handler) as port:
        mailserver.mail_env(monkeypatch, port, "everyone@example.org")  # the Mongolia desk names none
        desks = _desks(site, tmp_path)
        code, output = invoke(
            "run", "--desks", str(desks), "--db", str(tmp_path / "osint.db"), "--week-of", "2024-10-30"
        )
        assert code == 0, output
    by_subject = {r.message["Subject"]: sorted(r.rcpt_tos) for r in handler.received}
    assert by_subject == {
        "Mongolia Security Analysis Report: 28 October – 3 November 2024": ["everyone@example.org"],
        "Kazakhstan Security Analysis Report: 28 October – 3 November 2024": ["kazakhstan-desk@example.org"],
    }
