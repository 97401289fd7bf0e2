"""``make llm-check``: the demo week written by a real model on a real server, measured.

Starts llama.cpp's own OpenAI-compatible server (``llama-server``, which ``make llm-server``
compiles from the llama.cpp sources that the ``llama-cpp-python`` source package vendors)
on 127.0.0.1 at a free port with the small GGUF model that ``make llm-server`` assembled,
collects the demo corpus (``samples/demo``, served on loopback as ``make demo`` does)
into a fresh store, writes the demo week with the LLM engine in every format, stops the
server, and prints what the model did, a few kept and dropped sentences, and as its last
three lines::

    LLM_SECTIONS <sections written wholly by the model>/<sections asked>
    LLM_KEPT <sentences kept by verification>/<sentences the model proposed>
    LLM_SECONDS <wall time of the report, from evidence to files written>

The store is new each run, so no answer comes from the cache. Nothing here reaches
beyond 127.0.0.1. Exit 0 when the figures were measured, whatever they are; 1 when the
server could not be started or the report not written.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

MODEL_ALIAS = "gemma3-270m"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def llama_server(binary: str, model: Path, *, context: int, threads: int, log: Path) -> Iterator[str]:
    """llama.cpp's ``llama-server`` on 127.0.0.1 until the block ends; yields its base URL.

    One slot (``-np 1``) holding the whole context, so consecutive calls share the KV cache
    of their common prefix (the system prompt); no web UI; the chat template is the one in
    the model file (Jinja).
    """
    port = free_port()
    args = [
        binary, "--model", str(model), "--alias", MODEL_ALIAS, "--host", "127.0.0.1",
        "--port", str(port), "--ctx-size", str(context), "--parallel", "1",
        "--threads", str(threads), "--threads-batch", str(threads), "--no-webui", "--jinja",
    ]  # fmt: skip
    with log.open("wb") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    root = f"http://127.0.0.1:{port}"
    try:
        ready_by = time.monotonic() + 180
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the model server exited ({proc.returncode}):\n{_tail(log)}")
            try:
                if httpx.get(f"{root}/health", timeout=2.0).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > ready_by:
                raise RuntimeError(f"the model server did not answer within 180 s:\n{_tail(log)}")
            time.sleep(0.5)
        yield f"{root}/v1"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _call_log(path: Path) -> logging.Handler:
    """The engine's progress line per call, on stderr and in ``path`` (for reading afterwards)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, mode="w", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
    engine_log = logging.getLogger("osint.analyse.llm")
    engine_log.setLevel(logging.DEBUG)  # the file also gets the text of unusable answers
    engine_log.addHandler(handler)
    if not logging.getLogger().handlers:
        logging.basicConfig(format="%(message)s")
    for shown in logging.getLogger().handlers:
        shown.setLevel(logging.INFO)
    return handler


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", required=True, help="the llama-server binary")
    parser.add_argument("--model", required=True, type=Path, help="the GGUF model file")
    parser.add_argument("--context", type=int, default=4096, help="the server's context (n_ctx)")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="server threads; 1 because on a shared 2-core machine two spinning threads collapse "
        "throughput (measured: 3 tokens/s with 2 threads under load, 37 with 1)",
    )
    parser.add_argument("--budget", type=float, default=280.0, help="OSINT_LLM_BUDGET for the report")
    parser.add_argument("--timeout", type=float, default=60.0, help="OSINT_LLM_TIMEOUT (silence)")
    parser.add_argument("--out", type=Path, default=None, help="report directory (default reports/llm-check)")
    args = parser.parse_args(argv)

    from osint.analyse.llm import LLMEngine
    from osint.cli import app
    from osint.demo import DEMO_DIR, DEMO_PERIOD, feeds_for, serve_corpus
    from osint.jobs.context import RunContext
    from osint.jobs.report import build_report, write_report
    from osint.settings import PROJECT_ROOT, Settings

    out_dir = args.out or PROJECT_ROOT / "reports" / "llm-check"
    for key in [k for k in os.environ if k.startswith("OSINT_")]:
        del os.environ[key]
    with tempfile.TemporaryDirectory(prefix="llm-check-") as tmp_name:
        tmp = Path(tmp_name)
        db = tmp / "demo.db"
        try:
            with llama_server(
                args.server, args.model, context=args.context, threads=args.threads, log=tmp / "server.log"
            ) as base:
                with serve_corpus(DEMO_DIR / "site") as site:
                    feeds = feeds_for(site, DEMO_DIR / "feeds.yaml", tmp / "feeds.yaml")
                    os.environ["OSINT_ALLOW_PRIVATE_NETWORKS"] = "127.0.0.1/32"
                    os.environ["OSINT_POLITENESS_DELAY"] = "0"
                    code = app(["collect", "--feeds", str(feeds), "--db", str(db)], standalone_mode=False)
                    if isinstance(code, int) and code:
                        print(f"llm-check: collecting the demo corpus failed ({code})", file=sys.stderr)
                        return 1
                settings = Settings(
                    feeds=feeds,
                    db=db,
                    out=out_dir,
                    llm_base_url=base,
                    llm_model=MODEL_ALIAS,
                    llm_context=args.context,
                    llm_budget=args.budget,
                    llm_timeout=args.timeout,
                    llm_concurrency=1,
                )
                calls = _call_log(out_dir / "llm-check.log")  # a line per call, on stderr and kept
                load_before = os.getloadavg()
                started = time.monotonic()
                with RunContext(settings) as ctx:
                    # The engine `--engine llm` builds, but with the cache off: every answer is asked.
                    engine = LLMEngine.from_settings(settings, cache=None, stats=ctx.stats)
                    report = build_report(ctx, *DEMO_PERIOD, engine=engine)
                    paths = write_report(ctx, report, ["html", "pdf", "md", "json"])
                seconds = time.monotonic() - started
                load_after = os.getloadavg()
                logging.getLogger("osint.analyse.llm").removeHandler(calls)
                calls.close()
        except RuntimeError as exc:
            print(f"llm-check: {exc}", file=sys.stderr)
            return 1
        finally:
            if (tmp / "server.log").exists():
                out_dir.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(tmp / "server.log", out_dir / "server.log")
    st = engine.stats
    print()
    for path in paths:
        print(f"wrote {path}")
    for note in report.notes:
        print(f"note: {note}")
    kept = [s for s in _sentences(report) if s.author and s.author.startswith("llm:")]
    print(
        f"\nrequests {st.requests}, parts {st.parts_from_model}/{st.parts} from the model ({st.chosen} "
        f"chose among the developments' facts), {st.assessments} assessment(s) kept"
    )
    print("\nkept (a few):")
    distinct = list({s.text: s for s in kept}.values())
    for s in [*(s for s in distinct if s.kind == "fact")][:4] + [s for s in distinct if s.kind != "fact"][:3]:
        print(f"  [{s.kind}] {s.text} {json.dumps(s.citations)}")
    print("dropped (a few):")
    for reason in st.dropped_reasons[:6]:
        print(f"  {reason}")
    print(f"\nthe calls: {out_dir / 'llm-check.log'}; the server: {out_dir / 'server.log'}")
    before, after = (" ".join(f"{x:.2f}" for x in load) for load in (load_before, load_after))
    print(f"load average (1, 5, 15 min) before {before}, after {after}, on {os.cpu_count()} cores")
    print(f"LLM_SECTIONS {st.sections_from_model}/{st.sections_asked}")
    print(f"LLM_KEPT {st.kept}/{st.proposed}")
    print(f"LLM_SECONDS {seconds:.0f}")
    return 0


def _sentences(report: object) -> list:  # type: ignore[type-arg]
    from osint.models import Report

    assert isinstance(report, Report)
    out = [*report.executive_summary_sentences]
    for d in report.developments:
        out += [d.title, *d.sentences]
    for b in (*report.sections.geopolitical_blocks, *report.sections.military_blocks):
        out += b.sentences
    out += [*report.sections.outlook.flashpoints, *report.sections.outlook.recommendations]
    return out


if __name__ == "__main__":
    sys.exit(main())
