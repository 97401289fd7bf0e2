"""Build the Kazakhstan sample week: articles.yaml -> site/ (pages, feeds, listings) and labels.json.

Run ``python samples/kazakhstan/build.py`` after editing articles.yaml; the output is
committed, so `make demo COUNTRY=kazakhstan` and `make eval` need nothing but the files.
Every URL starts with ``__BASE__/<outlet>/``, which osint/demo.py replaces with the port
it serves that outlet on. Each outlet has its own markup, boilerplate and feed format,
as real sites do, so extraction has something to strip.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from datetime import date, datetime
from email.utils import format_datetime
from html import escape
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
SITE = HERE / "site"
WEEK = (date(2024, 10, 28), date(2024, 11, 3))
NOTICE = (
    "<!-- Sample page written for the osint project's Kazakhstan sample week (samples/kazakhstan)."
    " It was not published by the outlet named on it. -->"
)


@dataclass(frozen=True)
class Outlet:
    name: str
    language: str
    article_dir: str
    """Where an article's page lives under the outlet, before its slug."""


OUTLETS = {
    "kazinform": Outlet("Kazinform", "en", "en/article"),
    "astanatimes": Outlet("The Astana Times", "en", ""),
    "akorda": Outlet("Akorda - Official website of the President", "en", "en"),
    "steppewire": Outlet("Steppe Regional Wire", "en", "news"),
    "ubpost": Outlet("The UB Post", "en", ""),
    "balkhash": Outlet("Вечерний Балхаш", "ru", ""),
}


def article_path(a: dict[str, Any]) -> str:
    """The article's path under site/ (its URL is __BASE__/ + this)."""
    outlet = OUTLETS[a["outlet"]]
    slug = a["slug"]
    if a["outlet"] == "kazinform" and slug.startswith("kz/"):
        return f"kazinform/{slug}.html"
    if a["outlet"] == "steppewire":
        lang, _, rest = slug.rpartition("/")
        return f"steppewire/{lang or 'en'}/news/{rest}.html"
    parts = [a["outlet"], outlet.article_dir, slug]
    return "/".join(p for p in parts if p) + ".html"


def url(a: dict[str, Any]) -> str:
    return f"__BASE__/{article_path(a)}"


def paragraphs(a: dict[str, Any]) -> list[str]:
    return [p.strip() for p in a["text"].strip().split("\n\n") if p.strip()]


def words(a: dict[str, Any]) -> int:
    return len(re.findall(r"\w+", a["title"] + " " + a["text"]))


def stamp(a: dict[str, Any]) -> datetime:
    value = a["published"]
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def head(a: dict[str, Any], site_name: str, extra: str = "") -> str:
    t = escape(a["title"])
    d = escape(a["summary"])
    return f"""<!DOCTYPE html>
{NOTICE}
<html lang="{a['lang']}">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{t} | {escape(site_name)}</title>
  <meta name="description" content="{d}">
  <meta property="og:type" content="article">
  <meta property="og:title" content="{t}">
  <meta property="og:description" content="{d}">
  <meta property="og:site_name" content="{escape(site_name)}">
  <meta property="og:url" content="{url(a)}">
  <meta property="article:published_time" content="{stamp(a).isoformat()}">
  <link rel="canonical" href="{url(a)}">{extra}
</head>"""


def body_paragraphs(a: dict[str, Any], indent: str = "          ") -> str:
    return "\n".join(f"{indent}<p>{escape(p)}</p>" for p in paragraphs(a))


def related(items: list[dict[str, Any]], a: dict[str, Any]) -> str:
    others = [o for o in items if o["outlet"] == a["outlet"] and o["id"] != a["id"]][:3]
    return "\n".join(f'        <li><a href="{url(o)}">{escape(o["title"])}</a></li>' for o in others)


def page_kazinform(a: dict[str, Any], items: list[dict[str, Any]]) -> str:
    kk = a["lang"] == "kk"
    home = "__BASE__/kazinform/kz/" if kk else "__BASE__/kazinform/en/"
    return f"""{head(a, "Kazinform International News Agency")}
<body class="article-page">
  <div class="cookie-bar" role="dialog"><p>{'Сайт cookie файлдарын пайдаланады.' if kk else 'We use cookies to make the site work better.'}</p><button>OK</button></div>
  <header class="header">
    <a class="header__logo" href="{home}">KAZINFORM</a>
    <ul class="header__langs"><li><a href="__BASE__/kazinform/kz/">Қаз</a></li><li><a href="__BASE__/kazinform/ru/">Рус</a></li><li><a href="__BASE__/kazinform/en/">Eng</a></li><li><a href="__BASE__/kazinform/cn/">中文</a></li></ul>
    <nav class="header__menu"><a href="{home}politics">{'Саясат' if kk else 'Politics'}</a> <a href="{home}economy">{'Экономика' if kk else 'Economy'}</a> <a href="{home}society">{'Қоғам' if kk else 'Society'}</a> <a href="{home}world">{'Әлем' if kk else 'World'}</a> <a href="{home}incidents">{'Оқиға' if kk else 'Incidents'}</a></nav>
  </header>
  <main class="layout">
    <article class="article">
      <div class="article__meta"><time datetime="{stamp(a).isoformat()}">{stamp(a).strftime('%H:%M, %d %B %Y')}</time></div>
      <h1 class="article__title">{escape(a['title'])}</h1>
      <div class="article__body">
{body_paragraphs(a, "        ")}
      </div>
      <div class="article__share">{'Бөлісу' if kk else 'Share'}: <a href="#">Telegram</a> <a href="#">WhatsApp</a> <a href="#">Facebook</a></div>
      <div class="article__tags"><a href="{home}tags/">{'Тегтер' if kk else 'Tags'}</a></div>
    </article>
    <aside class="sidebar">
      <h3>{'Тақырып бойынша' if kk else 'Read also'}</h3>
      <ul>
{related(items, a)}
      </ul>
    </aside>
  </main>
  <footer class="footer"><p>{'Материалдарды пайдаланғанда сілтеме міндетті.' if kk else 'When using materials, a hyperlink to Kazinform is required.'}</p><p>© 1997-2024 Kazinform</p></footer>
</body>
</html>
"""


def page_astanatimes(a: dict[str, Any], items: list[dict[str, Any]]) -> str:
    return f"""{head(a, "The Astana Times")}
<body class="single single-post">
  <div id="top-bar"><span>KZT/USD 495.1</span> <a href="__BASE__/astanatimes/subscribe/">Subscribe</a></div>
  <header id="masthead"><a class="site-title" href="__BASE__/astanatimes/">The Astana Times</a>
    <nav id="site-navigation"><ul><li><a href="__BASE__/astanatimes/category/nation/">Nation</a></li><li><a href="__BASE__/astanatimes/category/business/">Business</a></li><li><a href="__BASE__/astanatimes/category/opinion/">Opinion</a></li><li><a href="__BASE__/astanatimes/category/world/">World</a></li></ul></nav>
  </header>
  <div id="content">
    <article class="post">
      <header class="entry-header"><h1 class="entry-title">{escape(a['title'])}</h1>
        <div class="entry-meta">By Staff report in <a href="__BASE__/astanatimes/category/nation/">Nation</a> on <time class="entry-date" datetime="{stamp(a).isoformat()}">{stamp(a).strftime('%d %B %Y')}</time></div>
      </header>
      <div class="entry-content">
{body_paragraphs(a, "        ")}
      </div>
      <div class="sharedaddy"><h3>Share this:</h3><a href="{url(a)}?share=twitter">X</a> <a href="{url(a)}?share=facebook">Facebook</a></div>
    </article>
    <aside id="secondary"><h2 class="widget-title">Latest news</h2><ul>
{related(items, a)}
    </ul></aside>
  </div>
  <footer id="colophon"><p>The Astana Times provides news and information from Kazakhstan and around the world.</p></footer>
</body>
</html>
"""


def page_akorda(a: dict[str, Any], items: list[dict[str, Any]]) -> str:
    return f"""{head(a, "Official website of the President of the Republic of Kazakhstan")}
<body>
  <header class="akorda-header"><a href="__BASE__/akorda/en/">Akorda</a>
    <nav><a href="__BASE__/akorda/en/events">Events</a> | <a href="__BASE__/akorda/en/speeches">Speeches</a> | <a href="__BASE__/akorda/en/decrees">Decrees</a> | <a href="__BASE__/akorda/en/addresses">Addresses</a></nav>
    <div class="lang"><a href="__BASE__/akorda/kz/">ҚАЗ</a> <a href="__BASE__/akorda/ru/">РУС</a> <a href="__BASE__/akorda/en/">ENG</a></div>
  </header>
  <section class="content">
    <div class="breadcrumbs"><a href="__BASE__/akorda/en/">Main</a> / <a href="__BASE__/akorda/en/events">Events</a></div>
    <h1>{escape(a['title'])}</h1>
    <h5>{stamp(a).strftime('%d %B %Y, %H:%M')}</h5>
    <div class="event-text">
{body_paragraphs(a, "      ")}
    </div>
    <div class="print-version"><a href="#">Print version</a></div>
  </section>
  <footer><p>Press service of the President of the Republic of Kazakhstan</p></footer>
</body>
</html>
"""


def page_steppewire(a: dict[str, Any], items: list[dict[str, Any]]) -> str:
    ru = a["lang"] == "ru"
    return f"""{head(a, "Steppe Regional Wire")}
<body>
  <div class="wire-top"><a href="__BASE__/steppewire/">STEPPE REGIONAL WIRE</a> <span>{'Новости Центральной Азии' if ru else 'News from Central Asia'}</span></div>
  <nav class="wire-nav"><a href="__BASE__/steppewire/kazakhstan/">Kazakhstan</a> <a href="__BASE__/steppewire/kyrgyzstan/">Kyrgyzstan</a> <a href="__BASE__/steppewire/uzbekistan/">Uzbekistan</a> <a href="__BASE__/steppewire/tajikistan/">Tajikistan</a> <a href="__BASE__/steppewire/turkmenistan/">Turkmenistan</a> <a href="__BASE__/steppewire/mongolia/">Mongolia</a></nav>
  <main>
    <div class="article">
      <h1 class="article__headline">{escape(a['title'])}</h1>
      <p class="article__date">{stamp(a).strftime('%d.%m.%Y %H:%M')}</p>
      <div class="article__body">
{body_paragraphs(a, "        ")}
      </div>
    </div>
    <aside class="more"><h4>{'Читайте также' if ru else 'More from the region'}</h4><ul>
{related(items, a)}
    </ul></aside>
  </main>
  <footer><p>© Steppe Regional Wire. {'Перепечатка с указанием источника.' if ru else 'Republication with attribution.'}</p></footer>
</body>
</html>
"""


def page_ubpost(a: dict[str, Any], items: list[dict[str, Any]]) -> str:
    return f"""{head(a, "The UB Post")}
<body class="post-template">
  <header class="site-header"><a class="brand" href="__BASE__/ubpost/">The UB Post</a>
    <nav><a href="__BASE__/ubpost/news/politics/">Politics</a> <a href="__BASE__/ubpost/news/business/">Business</a> <a href="__BASE__/ubpost/news/society/">Society</a> <a href="__BASE__/ubpost/news/culture/">Culture</a></nav>
  </header>
  <main class="site-main">
    <article class="post">
      <h1 class="post-title">{escape(a['title'])}</h1>
      <div class="post-meta">By UB Post Staff · <time datetime="{stamp(a).isoformat()}">{stamp(a).strftime('%Y-%m-%d')}</time></div>
      <section class="entry-content">
{body_paragraphs(a, "        ")}
      </section>
      <div class="share"><a href="{url(a)}?share=facebook">Share</a></div>
    </article>
    <aside class="most-read"><h3>Most Read</h3><ul>
{related(items, a)}
    </ul></aside>
  </main>
  <footer class="site-footer"><p>© The UB Post, Mongol News Group</p></footer>
</body>
</html>
"""


def page_balkhash(a: dict[str, Any], items: list[dict[str, Any]]) -> str:
    return f"""{head(a, "Вечерний Балхаш")}
<body>
  <table class="layout" width="100%"><tr><td class="logo"><a href="__BASE__/balkhash/">Вечерний Балхаш</a><br><small>региональная газета</small></td>
  <td class="menu"><a href="__BASE__/balkhash/">Главная</a> | <a href="__BASE__/balkhash/news/">Новости</a> | <a href="__BASE__/balkhash/archive/">Архив</a> | <a href="__BASE__/balkhash/contacts/">Контакты</a></td></tr></table>
  <div id="news-item">
    <h2 class="title">{escape(a['title'])}</h2>
    <div class="date">Опубликовано: {stamp(a).strftime('%d.%m.%Y %H:%M')}</div>
    <div class="text">
{body_paragraphs(a, "      ")}
    </div>
  </div>
  <div class="counter">Просмотров: 214</div>
  <div id="footer">© «Вечерний Балхаш». При перепечатке ссылка обязательна.</div>
</body>
</html>
"""


PAGES = {
    "kazinform": page_kazinform,
    "astanatimes": page_astanatimes,
    "akorda": page_akorda,
    "steppewire": page_steppewire,
    "ubpost": page_ubpost,
    "balkhash": page_balkhash,
}


def rss(title: str, link: str, entries: list[dict[str, Any]], lang: str) -> str:
    items = "\n".join(
        f"""    <item>
      <title>{escape(a['title'])}</title>
      <link>{url(a)}</link>
      <guid isPermaLink="true">{url(a)}</guid>
      <pubDate>{format_datetime(stamp(a))}</pubDate>
      <description>{escape(a['summary'])}</description>
    </item>"""
        for a in sorted(entries, key=stamp, reverse=True)
    )
    return f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0">
  <channel>
    <title>{escape(title)}</title>
    <link>{link}</link>
    <description>{escape(title)}</description>
    <language>{lang}</language>
{items}
  </channel>
</rss>
"""


def atom(title: str, base: str, entries: list[dict[str, Any]]) -> str:
    ordered = sorted(entries, key=stamp, reverse=True)
    items = "\n".join(
        f"""  <entry>
    <id>{url(a)}</id>
    <title type="text">{escape(a['title'])}</title>
    <link rel="alternate" type="text/html" href="{url(a)}"/>
    <published>{stamp(a).isoformat()}</published>
    <updated>{stamp(a).isoformat()}</updated>
    <summary type="text">{escape(a['summary'])}</summary>
  </entry>"""
        for a in ordered
    )
    return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">
  <id>{base}/</id>
  <title>{escape(title)}</title>
  <link rel="alternate" type="text/html" href="{base}/"/>
  <updated>{stamp(ordered[0]).isoformat()}</updated>
{items}
</feed>
"""


def listing(title: str, entries: list[dict[str, Any]], outlet: str, lang: str) -> str:
    rows = "\n".join(
        f'      <li class="card"><h3><a href="{url(a)}">{escape(a["title"])}</a></h3>'
        f'<time datetime="{stamp(a).isoformat()}">{stamp(a).strftime("%d.%m.%Y")}</time></li>'
        for a in sorted(entries, key=stamp, reverse=True)
    )
    return f"""<!DOCTYPE html>
{NOTICE}
<html lang="{lang}">
<head><meta charset="utf-8"><title>{escape(title)}</title></head>
<body>
  <nav><a href="__BASE__/{outlet}/">Home</a> <a href="__BASE__/{outlet}/about/">About</a> <a href="__BASE__/{outlet}/contacts/">Contacts</a></nav>
  <h1>{escape(title)}</h1>
  <ul class="list">
{rows}
  </ul>
  <div class="pager"><a href="?page=2">2</a> <a href="?page=3">3</a></div>
  <footer><a href="__BASE__/{outlet}/privacy/">Privacy</a></footer>
</body>
</html>
"""


def labels(items: list[dict[str, Any]], major: set[str]) -> list[dict[str, Any]]:
    out = []
    for a in items:
        day = stamp(a).date()
        out.append(
            {
                "id": a["id"],
                "file": f"site/{article_path(a)}",
                "url": url(a),
                "outlet": a["outlet"],
                "published": stamp(a).isoformat(),
                "language": a["lang"],
                "title": a["title"],
                "about_country": a["about"],
                "primary_bucket": a["buckets"][0] if a["buckets"] else None,
                "buckets": a["buckets"],
                "story": a["story"],
                "major": a["story"] in major,
                "syndicated_copy_of": a.get("copy_of"),
                "in_week": WEEK[0] <= day <= WEEK[1],
                "about_mongolia": a.get("mongolia"),
                "words": words(a),
                "note": a.get("note") or "",
            }
        )
    return out


def main() -> None:
    source = yaml.safe_load((HERE / "articles.yaml").read_text(encoding="utf-8"))
    items: list[dict[str, Any]] = source["articles"]
    major = set(source.get("major_stories") or [])
    assert major <= {a["story"] for a in items}, "a major story with no article"
    ids = [a["id"] for a in items]
    assert len(ids) == len(set(ids)), "duplicate ids"
    if SITE.exists():
        shutil.rmtree(SITE)
    for a in items:
        path = SITE / article_path(a)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(PAGES[a["outlet"]](a, items), encoding="utf-8")
    by = {name: [a for a in items if a["outlet"] == name] for name in OUTLETS}
    feeds = {
        "kazinform/rss.xml": rss(
            "Kazinform - English", "__BASE__/kazinform/en/", [a for a in by["kazinform"] if a["lang"] == "en"], "en"
        ),
        "kazinform/kz/rss.xml": rss(
            "Kazinform - Қазақша", "__BASE__/kazinform/kz/", [a for a in by["kazinform"] if a["lang"] == "kk"], "kk"
        ),
        "steppewire/feed.rss": rss("Steppe Regional Wire", "__BASE__/steppewire/", by["steppewire"], "en"),
        "astanatimes/atom.xml": atom("The Astana Times", "__BASE__/astanatimes", by["astanatimes"]),
        "ubpost/atom.xml": atom("The UB Post", "__BASE__/ubpost", by["ubpost"]),
        "akorda/en/events/index.html": listing("Events", by["akorda"], "akorda", "en"),
        "balkhash/index.html": listing("Вечерний Балхаш - новости", by["balkhash"], "balkhash", "ru"),
    }
    for rel, text in feeds.items():
        path = SITE / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (HERE / "labels.json").write_text(
        json.dumps(labels(items, major), ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    print(f"{len(items)} articles, {len(feeds)} feeds and listings written under {SITE}")


if __name__ == "__main__":
    main()
