"""``qa index build|info|clean``, and the --corpus/--index/--rebuild options every command shares.

Part of the ``qa`` command (``qa.cli``): its errors become one-line messages and exit codes
there. Index locations are checked by the library (``qa.index.place``): only a missing path,
an empty directory or a qa index is ever replaced.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from qa.errors import IndexError_, QAError

EXIT_OK, EXIT_ERROR = 0, 1

index_app = typer.Typer(help="Build, inspect or clean the search index.", no_args_is_help=True)

CorpusOpt = Annotated[
    Path | None,
    typer.Option(
        "--corpus",
        help="Corpus directory of documents: .txt, .md/.markdown, .rst, .html, .pdf, .docx (default: $QA_CORPUS, else ./corpus if it exists, else the article packaged with qa).",
    ),
]
IndexOpt = Annotated[
    Path | None,
    typer.Option(
        "--index",
        help="Index directory (default: $QA_INDEX, else ./index/default for ./corpus, else one per corpus under ~/.cache/qa/indexes). Only a missing path, an empty directory or a qa index is ever replaced.",
    ),
]
RebuildOpt = Annotated[
    bool,
    typer.Option("--rebuild", help="Build the index afresh first, even one built from another corpus (otherwise refused)."),
]


@index_app.command("build")
def index_build(
    corpus: CorpusOpt = None,
    index: IndexOpt = None,
    rebuild: RebuildOpt = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Name every file left out, and why.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress and no summary line on stderr.")] = False,
) -> int:
    """Build the index, with a progress bar (plain progress lines off a terminal). An index that
    is already up to date is left as it is, and said so (--rebuild builds it afresh anyway).
    Concurrent builds of one index wait for each other; one that finds the index built
    meanwhile keeps it. An index built from another corpus is replaced only with --rebuild."""
    from qa import index as store
    from qa.cli import _progress, stderr
    from qa.config import default_corpus_dir, default_index_dir

    corpus_dir = corpus or default_corpus_dir()
    index_dir = index or default_index_dir(corpus_dir)
    with _progress(always=True, quiet=quiet) as on_progress:
        seen: set[str] = set()

        def report(stage: str, done: int, total: int) -> None:
            seen.add(stage)
            if on_progress is not None:
                on_progress(stage, done, total)

        manifest = store.build(corpus_dir, index_dir, on_progress=report, force_rebuild=rebuild)
    counts = manifest["counts"]
    summary = f"{counts['documents']} documents, {counts['passages']} passages, {counts['sentences']} sentences"
    if quiet:
        return EXIT_OK
    if "up to date" in seen:
        line = f"{index_dir} is up to date ({summary}, built {manifest['built_at']}); nothing to do (--rebuild builds it afresh)"
    elif "built meanwhile" in seen:
        line = f"{index_dir} is up to date (built by another process meanwhile): {summary}"
    else:
        stats = manifest.get("build_stats", {})
        seconds = manifest["build_seconds"]
        parts = [f"{counts['passages'] / seconds:.0f} passages/s"] if seconds > 0 else []
        if stats.get("reused"):
            parts.append(f"embedded {stats['embedded']} passages, reused {stats['reused']} vectors")
        line = f"built {index_dir}: {summary} in {seconds:.1f} s" + (f" ({'; '.join(parts)})" if parts else "")
    stderr().print(line, soft_wrap=True, highlight=False)
    if verbose:
        for item in manifest.get("skipped", []):
            stderr().print(f"skipped {item['file']}: {item['reason']}", soft_wrap=True, markup=False)
    return EXIT_OK


@index_app.command("info")
def index_info(
    corpus: CorpusOpt = None,
    index: IndexOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the manifest and status as JSON.")] = False,
) -> int:
    """Show what the index was built from and whether it is up to date. Exit 1 if there is none."""
    from qa import index as store
    from qa.config import default_corpus_dir, default_index_dir

    corpus_dir = corpus or default_corpus_dir()
    index_dir = index or default_index_dir(corpus_dir)
    state = store.status(corpus_dir, index_dir, verify=True)
    try:
        manifest = store.read_manifest(index_dir)
    except QAError:
        manifest = None  # damaged: the status says so
    if as_json:
        info = {"corpus": str(corpus_dir.resolve()), "index": str(index_dir), "fresh": state.fresh, "status": state.reason, "manifest": manifest}
        sys.stdout.write(json.dumps(info, ensure_ascii=False) + "\n")
        return EXIT_OK if manifest else EXIT_ERROR
    if manifest is None:
        missing = state.reason.startswith("no index")
        raise IndexError_(f"{state.reason}; build one with `qa index build`" if missing else state.reason)
    from rich.table import Table

    from qa.cli import stdout

    table = Table(show_header=False, box=None)
    model = manifest["model"]
    rows = [
        ("index", str(index_dir)),
        ("status", state.reason),
        ("built", f"{manifest['built_at']} in {manifest['build_seconds']} s"),
        ("corpus", f"{manifest['corpus']['dir']}  sha256 {manifest['corpus']['hash'][:16]}…"),
        ("documents", ", ".join(f"{d['doc']} ({d.get('format', 'plain')})" for d in manifest["documents"])),
        ("skipped", ", ".join(f"{item['file']} ({item['reason']})" for item in manifest.get("skipped", [])) or "none"),
        ("passages", f"{manifest['counts']['passages']} ({manifest['counts']['sentences']} sentences)"),
        ("model", f"{model['name']} ({model['package']} {model['package_version']}, {model['backend']}, dim {model['dim']})"),
        ("chunking", json.dumps(manifest["settings"]["chunking"])),
        ("dense index", _describe_dense(manifest.get("dense", {}))),
        ("bm25", f"{manifest['settings']['bm25_method']} k1={manifest['settings']['bm25_k1']} b={manifest['settings']['bm25_b']}"),
        ("format", str(manifest["format_version"])),
    ]
    for key, value in rows:
        table.add_row(f"[bold]{key}[/]", value)
    stdout().print(table)
    return EXIT_OK


@index_app.command("clean")
def index_clean(
    everything: Annotated[bool, typer.Option("--all", help="Remove every index in the cache, not only stale ones.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List what would be removed; remove nothing.")] = False,
) -> int:
    """Remove stale indexes from qa's cache (~/.cache/qa/indexes): those whose corpus directory no
    longer exists, leftovers of killed builds and unused lock files. Only qa indexes are removed,
    never one being built; ./index/default and --index directories are left alone."""
    from qa.cli import _note
    from qa.config import index_cache_dir
    from qa.index.place import clean_cache

    cache = index_cache_dir()
    removals = clean_cache(cache, everything=everything, dry_run=dry_run)
    verb = "would remove" if dry_run else "removed"
    for removal in removals:
        sys.stdout.write(f"{verb} {removal.path} ({removal.reason})\n")
    size = sum(r.bytes for r in removals) / 1e6
    _note(f"{verb} {len(removals)} entries ({size:.1f} MB) from {cache}" if removals else f"nothing to clean in {cache}")
    return EXIT_OK


def _describe_dense(dense: dict[str, Any]) -> str:
    params = ", ".join(f"{k}={v}" for k, v in {**dense.get("build_params", {}), **dense.get("search_params", {})}.items())
    return f"FAISS {dense.get('factory', 'Flat')}" + (f" ({params})" if params else "") + ", inner product"
