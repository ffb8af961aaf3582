"""Commands that hear: `devices`, `transcribe`, `listen`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

from assistant.cli import ConfigOpt, PersonaOpt, SetOpt, _Bars, _guarded, _setup, app, err
from assistant.messages import PartialTranscript, SpeechStarted, UserTurn


@app.command()
def devices(as_json: bool = typer.Option(False, "--json", help="Print the devices as JSON.")) -> None:
    """List sound input and output devices (for audio.input_device / audio.output_device)."""
    import sounddevice as sd

    from assistant.sources import list_devices

    with _guarded():
        found = list_devices()
        default_in, default_out = sd.default.device
        if as_json:
            print(json.dumps(found, indent=2))
            return
        table = Table(title="Sound devices")
        for column in ("index", "name", "in", "out", "rate", "default"):
            table.add_column(column)
        for d in found:
            mark = " ".join(k for k, i in (("input", default_in), ("output", default_out)) if i == d["index"])
            table.add_row(str(d["index"]), d["name"], str(d["inputs"]), str(d["outputs"]),
                          f"{d['default_rate']:.0f}", mark)
        Console().print(table if found else "no sound devices found")


@app.command()
def transcribe(
    file: Path = typer.Argument(..., help="A recording in any common format; long files stream."),
    model: Optional[str] = typer.Option(None, "--model", help="tiny.en, base, or a CTranslate2 Whisper folder."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON: language, text, segments with times."),
    persona: Optional[Path] = PersonaOpt, config: Optional[Path] = ConfigOpt, set_: Optional[List[str]] = SetOpt,
) -> None:
    """Print what is said in FILE, turn by turn (the same listener as the microphone uses)."""
    from assistant.listener import make_listener
    from assistant.sources import FileSource

    with _guarded():
        overrides = list(set_ or []) + ([f"models.asr={model}"] if model else [])
        cfg, who = _setup(config, overrides, persona)
        source = FileSource(file)
        turns: list[UserTurn] = []
        out = Console()
        with _Bars(enabled=not as_json) as bars:
            bars.step("loading Whisper")
            listener = make_listener(cfg, who.spec.language)
            total = source.duration()
            for event in listener.listen(source.blocks()):
                if isinstance(event, UserTurn):
                    turns.append(event)
                    if not as_json:
                        out.print(f"[{event.start:7.2f}s] {event.text}", highlight=False, soft_wrap=True)
                bars.report("transcribing", int(listener.clock), int(total) or None)
        language = turns[0].language if turns else (cfg.asr.language or who.spec.language)
        if as_json:
            segments = [{"start": round(s, 2), "end": round(e, 2), "text": t} for turn in turns for s, e, t in turn.segments]
            print(json.dumps({"language": language, "text": " ".join(t.text for t in turns),
                              "duration": round(listener.clock, 2), "segments": segments}))
        elif not turns:
            err.print("no speech found")


@app.command()
def listen(
    seconds: Optional[float] = typer.Option(None, "--seconds", help="Stop after this long (default: Ctrl-C)."),
    file: Optional[Path] = typer.Option(None, "--file", help="Listen to a file, paced in real time, instead of the microphone."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON line per event instead of the live view."),
    persona: Optional[Path] = PersonaOpt, config: Optional[Path] = ConfigOpt, set_: Optional[List[str]] = SetOpt,
) -> None:
    """Live: partial transcripts while you speak and the final one per turn."""
    from assistant.listener import make_listener
    from assistant.sources import FileSource, MicrophoneSource

    with _guarded():
        cfg, who = _setup(config, set_, persona)
        source = FileSource(file, realtime=True) if file else MicrophoneSource(cfg.audio)
        listener = make_listener(cfg, who.spec.language)
        err.print(f"listening on {source.name}; Ctrl-C to stop", highlight=False)
        try:
            _show(listener, source, seconds, as_json)
        finally:
            source.close()


def _show(listener, source, seconds: Optional[float], as_json: bool) -> None:
    def limited():
        for block in source.blocks():
            yield block
            if seconds is not None and listener.clock >= seconds:
                return

    line = Text()
    with Live(line, console=Console(), transient=True, auto_refresh=False, redirect_stdout=False) as live:
        for event in listener.listen(limited()):
            if as_json:
                print(json.dumps({"event": type(event).__name__, **_fields(event)}), flush=True)
            elif isinstance(event, SpeechStarted):
                live.update(Text("… listening", style="dim"), refresh=True)
            elif isinstance(event, PartialTranscript):
                live.update(Text.assemble((event.stable, "bold"), (event.text[len(event.stable):], "dim")), refresh=True)
            elif isinstance(event, UserTurn):
                live.console.print(f"[bold]you:[/] {event.text}  [dim]({event.end - event.start:.1f} s)[/]",
                                   highlight=False)
                live.update(Text(""), refresh=True)


def _fields(event) -> dict:
    if isinstance(event, UserTurn):
        return {"text": event.text, "start": round(event.start, 2), "end": round(event.end, 2),
                "language": event.language}
    if isinstance(event, PartialTranscript):
        return {"text": event.text, "stable": event.stable, "t": round(event.t, 2)}
    return {"t": round(event.t, 2)}


def run_live(cfg, who, mic_file: Optional[Path], replies: Optional[int], as_json: bool, user: str = "default",
             no_window: bool = False) -> None:
    """The live conversation loop, printing what is heard and said, with the face in a window."""
    from assistant.live import BargeIn, Conversation, ReplyDone
    from assistant.present import LiveFace
    from assistant.sources import FileSource, MicrophoneSource
    from renderers.window import display_available

    source = FileSource(mic_file, realtime=True) if mic_file else MicrophoneSource(cfg.audio)
    with _Bars(enabled=not as_json) as bars:
        bars.step("loading models")
        conversation = Conversation(cfg, who, source, user=user)
        face = LiveFace(cfg, who) if cfg.window.enabled and not no_window and display_available() else None
    out = Console()
    err.print(f"listening on {source.name}, speaking on {conversation.player.device}; Ctrl-C to stop",
              highlight=False)
    try:
        for event in conversation.run(max_replies=replies, on_block=face.tick if face else None):
            if as_json:
                print(json.dumps({"event": type(event).__name__, **_live_fields(event)}), flush=True)
            elif isinstance(event, UserTurn):
                out.print(f"[bold]you:[/] {event.text}", highlight=False)
            elif isinstance(event, ReplyDone):
                out.print(f"[bold]{who.name}:[/] {event.text}", highlight=False)
            elif isinstance(event, BargeIn):
                out.print(f"[bold]{who.name}[/] (interrupted): {event.heard}", highlight=False)
    finally:
        conversation.close()
        if face is not None:
            face.close()


def _live_fields(event) -> dict:
    from dataclasses import asdict

    if isinstance(event, (UserTurn, PartialTranscript, SpeechStarted)):
        return _fields(event)
    return {k: (round(v, 3) if isinstance(v, float) else v) for k, v in asdict(event).items()}
