"""Benchmarks: one harness (``make bench``) and one table, so every change is judged by the same numbers.

* :mod:`bench.prose` writes synthetic news articles (events covered by several outlets,
  syndicated copies, irrelevant items, English, Russian and Mongolian) from a seed;
* :mod:`bench.corpus` turns them into web sites with feeds and realistic pages;
* :mod:`bench.server` serves those sites on 127.0.0.1 with a per-request latency;
* :mod:`bench.steps` runs one measured step in its own process (sorting, the report);
* :mod:`bench.run` runs everything, compares with the peer and writes ``bench/results.md``.
"""
