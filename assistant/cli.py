"""The `doppel` command line."""

from __future__ import annotations

import json
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, List, Optional

# Nothing is downloaded at run time, and native libraries keep their logs to themselves.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("GLOG_minloglevel", "3")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from assistant.config import Config, load_config
from assistant.errors import DoppelError
from persona.persona import Persona, load_persona

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Doppel: an offline talking, listening digital twin.")
err = Console(stderr=True)

PersonaOpt = typer.Option(None, "--persona", help="Persona folder (default: the bundled one).")
ConfigOpt = typer.Option(None, "--config", help="A YAML file merged over config.yaml.")
SetOpt = typer.Option(None, "--set", help="Override one setting: section.key=value (repeatable).")


@contextmanager
def _guarded() -> Iterator[None]:
    """Bad input ends in one line on stderr and exit code 2, never a traceback."""
    try:
        yield
    except DoppelError as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(exc.exit_code) from None
    except KeyboardInterrupt:
        err.print("interrupted")
        raise typer.Exit(130) from None


def _setup(config_file: Optional[Path], overrides: Optional[List[str]],
           persona_dir: Optional[Path]) -> tuple[Config, Persona]:
    config = load_config(config_file, overrides)
    return config, load_persona(persona_dir or config.persona)


class _Bars:
    """rich progress bars on stderr, one per task, fed by report(task, done, total)."""

    def __init__(self, enabled: bool = True) -> None:
        self.progress = Progress(TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(),
                                 TimeElapsedColumn(), console=err, transient=True, disable=not enabled)
        self.tasks: dict[str, int] = {}

    def __enter__(self) -> "_Bars":
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.__exit__(*exc)

    def report(self, task: str, done: int, total: int) -> None:
        if task not in self.tasks:
            self.tasks[task] = self.progress.add_task(task, total=total)
        self.progress.update(self.tasks[task], completed=done, total=total)

    def step(self, task: str) -> None:
        """An indeterminate step (model loading, thinking)."""
        self.report(task, 0, None)


def _present(config: Config, persona: Persona, result, out: Optional[Path], no_window: bool, bars: _Bars) -> None:
    from assistant.present import export_video, make_animator, show_window
    from renderers.window import display_available

    bars.step("preparing the face")
    animator = make_animator(config, persona, result, result.timings)
    if out is not None:
        export_video(animator, result, out, config, bars.report)
    if config.window.enabled and not no_window and display_available():
        show_window(animator, result, config).close()


@app.command()
def say(
    text: str = typer.Argument(..., help="What to say, in quotes; - to type line after line."),
    out: Optional[Path] = typer.Option(None, "--out", help="Write the talking face to this .mp4."),
    no_window: bool = typer.Option(False, "--no-window", help="Do not open a window."),
    persona: Optional[Path] = PersonaOpt, config: Optional[Path] = ConfigOpt, set_: Optional[List[str]] = SetOpt,
) -> None:
    """Speak TEXT with the persona's voice and face (no language model). With -: each line typed is
    spoken at once (/rate 1.2, /faster, /slower change the pace)."""
    from assistant.messages import Timings
    from assistant.turn import run_turn, say_inputs, voice_stage

    with _guarded():
        cfg, who = _setup(config, set_, persona)
        if text == "-":
            from assistant.cli_voice import say_lines

            return say_lines(cfg, who, no_window)
        inputs = say_inputs(text)
        timings = Timings()
        with _Bars() as bars:
            bars.step("loading the voice")
            result = run_turn([voice_stage(cfg, who, timings, bars.report)], inputs, timings)
            _present(cfg, who, result, out, no_window, bars)
        if out is not None:
            err.print(f"wrote {out} ({result.audio.duration:.1f} s)")


@app.command()
def chat(
    input_: Optional[Path] = typer.Option(None, "--input", help="A recorded question (WAV, FLAC, MP3, OGG): one turn."),
    out: Optional[Path] = typer.Option(None, "--out", help="Write the reply's talking face to this .mp4."),
    no_window: bool = typer.Option(False, "--no-window", help="Do not open a window."),
    as_json: bool = typer.Option(False, "--json", help="--input: one JSON object; live: one JSON line per event."),
    mic_file: Optional[Path] = typer.Option(None, "--mic-file", help="Live, but a file paced in real time is the microphone."),
    replies: Optional[int] = typer.Option(None, "--replies", help="Live: stop after this many replies."),
    text: bool = typer.Option(False, "--text", help="A typed conversation in the terminal, with memory."),
    user: str = typer.Option("default", "--user", help="Whose memories (--text and live)."),
    persona: Optional[Path] = PersonaOpt, config: Optional[Path] = ConfigOpt, set_: Optional[List[str]] = SetOpt,
) -> None:
    """Talk with Doppel. With --input: one turn from a recording, answered with voice and face.
    Without: a live spoken conversation on the microphone; speak over Doppel to interrupt it."""
    from assistant.messages import Timings
    from assistant.sources import read_audio_file
    from assistant.turn import chat_stages, run_turn

    with _guarded():
        cfg, who = _setup(config, set_, persona)
        if text:
            from assistant.cli_mind import run_text_chat

            run_text_chat(cfg, who, user)
            return
        if input_ is None:
            from assistant.cli_audio import run_live

            run_live(cfg, who, mic_file, replies, as_json, user, no_window)
            return
        clip = read_audio_file(input_)
        timings = Timings()
        with _Bars(enabled=not as_json) as bars:
            bars.step("loading models and thinking")
            result = run_turn(chat_stages(cfg, who, timings, bars.report), [clip], timings)
            _present(cfg, who, result, out, no_window, bars)
        if as_json:
            print(json.dumps({"transcript": result.transcript, "reply": result.reply, "timings": timings.values}))
        else:
            print(f"you: {result.transcript}\n{who.name}: {result.reply}")
            if out is not None:
                err.print(f"wrote {out} ({result.audio.duration:.1f} s)")


@app.command()
def doctor(
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    config: Optional[Path] = ConfigOpt, set_: Optional[List[str]] = SetOpt,
) -> None:
    """Check models, libraries, audio and display; say what is missing and how to fix it."""
    from assistant.doctor import examine, print_report

    with _guarded():
        cfg = load_config(config, set_)
        with _Bars(enabled=not as_json) as bars:
            report = examine(cfg, bars.report)
        if as_json:
            print(json.dumps(report, indent=2))
        else:
            print_report(report, Console())
        if report["problems"]:
            raise typer.Exit(1)


@app.command()
def prepare(config: Optional[Path] = ConfigOpt, set_: Optional[List[str]] = SetOpt) -> None:
    """Join, verify and cache every bundled model (make does this once)."""
    from assistant import models

    with _guarded():
        cfg = load_config(config, set_)
        with _Bars() as bars:
            for spec in [s for s in models.BUNDLED if s.installed() or not s.extra]:
                models.prepare(spec, cfg.home, lambda d, t, n=spec.name: bars.report(f"verifying {n}", d, t))
            bars.step("exporting MiniLM to ONNX (once)")
            from memory.embeddings import MiniLm

            MiniLm(models.resolve(cfg, "embeddings").path)
        err.print(f"models ready under {cfg.home / 'models'}")


def main() -> None:
    # the module proper, also when this file runs as __main__ (python -m assistant.cli)
    from assistant import cli as registered
    from assistant import cli_audio, cli_mind, cli_voice  # noqa: F401  (register their commands)

    registered.app(prog_name="doppel")


if __name__ == "__main__":
    main()
