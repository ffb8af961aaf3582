"""Commands that think and remember: `ask`, `memory list|search|forget|export|import`."""

from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console
from rich.table import Table

from assistant.cli import ConfigOpt, PersonaOpt, SetOpt, _Bars, _guarded, _setup, app, err
from assistant.config import load_config

UserOpt = typer.Option("default", "--user", help="Whose memories: each user's are kept apart.")
memory_app = typer.Typer(help="Inspect, search, forget, back up and restore what Doppel remembers.",
                         no_args_is_help=True)
app.add_typer(memory_app, name="memory")


@app.command()
def ask(
    message: str = typer.Argument(..., help="What to say, in quotes."),
    user: str = UserOpt,
    as_json: bool = typer.Option(False, "--json", help="Print JSON: reply, sentences, memories used, timings."),
    persona: Optional[Path] = PersonaOpt, config: Optional[Path] = ConfigOpt, set_: Optional[List[str]] = SetOpt,
) -> None:
    """One turn from text: Doppel answers, using and adding to its memory of USER."""
    from assistant.companion import Companion, clean_message

    with _guarded():
        cfg, who = _setup(config, set_, persona)
        clean_message(message)  # refuse an empty message before loading anything
        with _Bars(enabled=not as_json) as bars:
            bars.step("thinking")
            companion = Companion(cfg, who, user)
            try:
                result = companion.ask(message)
            finally:
                companion.close()
        if as_json:
            print(json.dumps({
                "reply": result.reply,
                "sentences": [{"text": s.text, "emotion": s.emotion, "intensity": s.intensity} for s in result.sentences],
                "memories": [{"text": m.text, "kind": m.kind, "score": m.score} for m in result.memories],
                "learned": [{"key": k, "value": v} for k, v in result.learned],
                "tool": result.tool,
                "user_emotion": {"emotion": result.user_emotion.emotion, "intensity": result.user_emotion.intensity},
                "timings": result.timings,
            }))
        else:
            print(result.reply)


@contextmanager
def _store(config: Optional[Path], set_: Optional[List[str]]):
    """The memory store, released (its lock too) however the command ends."""
    from assistant.companion import open_memory

    store = open_memory(load_config(config, set_))
    try:
        yield store
    finally:
        store.close()


@memory_app.command("list")
def memory_list(user: Optional[str] = typer.Option(None, "--user", help="Only this user's memories."),
                as_json: bool = typer.Option(False, "--json"),
                config: Optional[Path] = ConfigOpt, set_: Optional[List[str]] = SetOpt) -> None:
    """Everything remembered, oldest first."""
    with _guarded():
        with _store(config, set_) as store:
            _print(list(store.all(user)), as_json)


@memory_app.command("search")
def memory_search(query: str, user: str = UserOpt, as_json: bool = typer.Option(False, "--json"),
                  config: Optional[Path] = ConfigOpt, set_: Optional[List[str]] = SetOpt) -> None:
    """The memories of USER that best match QUERY."""
    with _guarded():
        with _store(config, set_) as store:
            _print(store.recall(user, query, k=10), as_json)


@memory_app.command("forget")
def memory_forget(about: Optional[str] = typer.Argument(None, help="Forget what is most about this."),
                  memory_id: Optional[str] = typer.Option(None, "--id", help="Forget exactly this memory."),
                  user: str = UserOpt, config: Optional[Path] = ConfigOpt, set_: Optional[List[str]] = SetOpt) -> None:
    """Forget one memory (--id) or what is most about a topic."""
    from assistant.errors import DoppelError

    with _guarded():
        if not about and not memory_id:
            raise DoppelError("say what to forget: doppel memory forget \"my dog\" or --id ID (see doppel memory list)")
        with _store(config, set_) as store:
            removed = store.forget(user, memory_id=memory_id, about=about)
        err.print(f"forgot {removed} memor{'y' if removed == 1 else 'ies'}")


@memory_app.command("export")
def memory_export(out: Path = typer.Argument(..., help="A .jsonl file to write."),
                  user: Optional[str] = typer.Option(None, "--user", help="Only this user's memories."),
                  config: Optional[Path] = ConfigOpt, set_: Optional[List[str]] = SetOpt) -> None:
    """Back up memories as JSON lines (one memory a line)."""
    with _guarded():
        with _store(config, set_) as store:
            records = [m.as_record() for m in store.all(user)]
        partial = out.with_suffix(out.suffix + ".partial")
        partial.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
        partial.replace(out)
        err.print(f"wrote {len(records)} memories to {out}")


@memory_app.command("import")
def memory_import(source: Path = typer.Argument(..., help="A .jsonl file from doppel memory export."),
                  user: Optional[str] = typer.Option(None, "--user", help="Import them as this user."),
                  config: Optional[Path] = ConfigOpt, set_: Optional[List[str]] = SetOpt) -> None:
    """Restore or move memories from an export (existing ones with the same id are replaced)."""
    from assistant.errors import DoppelError

    with _guarded():
        records = []
        try:
            for number, line in enumerate(source.read_text(encoding="utf-8").splitlines(), 1):
                if line.strip():
                    record = json.loads(line)
                    if not {"id", "kind", "user", "text", "time"} <= set(record):
                        raise ValueError("missing fields")
                    records.append({**record, "user": user or record["user"]})
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            where = f" line {number}" if "number" in locals() else ""
            raise DoppelError(f"cannot import {source}{where} ({exc}); use a file written by doppel memory export") from None
        with _store(config, set_) as store:
            store.add_records(records)
        err.print(f"imported {len(records)} memories")


def _print(memories, as_json: bool) -> None:
    if as_json:
        print(json.dumps([{**m.as_record(), "score": m.score} for m in memories], ensure_ascii=False))
        return
    table = Table()
    for column in ("id", "user", "kind", "text", "score"):
        table.add_column(column)
    for m in memories:
        table.add_row(m.id, m.user, m.kind, m.text, f"{m.score:.2f}" if m.score else "")
    Console().print(table if memories else "no memories")


def run_text_chat(cfg, who, user: str) -> None:
    """Type, read the answer; memory carries across sessions. Ctrl-D or an empty line ends it."""
    import sys

    from assistant.companion import Companion

    with _Bars() as bars:
        bars.step("loading")
        companion = Companion(cfg, who, user)
    out = Console()
    interactive = sys.stdin.isatty()
    try:
        while True:
            try:
                line = input("you: " if interactive else "")
            except EOFError:
                break
            if not line.strip():
                break
            result = companion.ask(line)
            out.print(f"[bold]{who.name}:[/] {result.reply}", highlight=False)
    finally:
        companion.close()
