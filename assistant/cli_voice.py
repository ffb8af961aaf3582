"""Commands for the twin's voice: `enroll` (learn a voice once) and `serve` (speak for other programs)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import List, Optional

import typer

from assistant.cli import ConfigOpt, SetOpt, _Bars, _guarded, app, err
from assistant.config import load_config
from assistant.errors import DoppelError


@app.command()
def enroll(
    voice: Path = typer.Argument(..., help="A recording of the person talking alone: 10-30 s is best."),
    persona: Path = typer.Option(..., "--persona", help="The persona folder to enroll into (created if new)."),
    consent: Optional[Path] = typer.Option(None, "--consent", help="The same person reading the consent sentence."),
    config: Optional[Path] = ConfigOpt, set_: Optional[List[str]] = SetOpt,
) -> None:
    """Learn a voice from VOICE once; from then on the persona speaks with it."""
    from persona.enroll import CONSENT_SENTENCE, enroll_voice

    with _guarded():
        cfg = load_config(config, set_)
        if persona.resolve() == (Path(__file__).resolve().parents[1] / "persona" / "default"):
            raise DoppelError("the bundled persona is shared; enroll into your own folder, e.g. --persona ~/my-twin")
        if consent is None:
            err.print(f'Consent: record the person saying "[bold]{CONSENT_SENTENCE}[/]" and pass it with --consent.')
        with _Bars() as bars:
            voiceprint = enroll_voice(voice, persona, cfg, consent, bars.step)
        err.print(f"enrolled {voiceprint.speech_seconds:.1f} s of speech into {persona}; "
                  f'it said: "{voiceprint.transcript[:80]}"')
        for method, check in voiceprint.checks.items():
            chosen = " (chosen)" if method == voiceprint.vmap.method else ""
            err.print(f"  {method} at {check['strength']:.0%}: similarity {check['similarity']:.2f}, "
                      f"check sentence WER {check['wer']:.2f}{chosen}")


@app.command()
def serve(
    persona: Optional[Path] = typer.Option(None, "--persona", help="Whose voice (default: the bundled persona)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (loopback: this computer only)."),
    port: int = typer.Option(8765, "--port", help="Port to listen on."),
    config: Optional[Path] = ConfigOpt, set_: Optional[List[str]] = SetOpt,
) -> None:
    """Serve the persona's voice as an OpenAI-compatible /v1/audio/speech API."""
    from assistant.cli import _setup
    from assistant.server import serve as run_server
    from assistant.voices import make_voice

    with _guarded():
        cfg, who = _setup(config, (set_ or []) + ["tts.backend=clone"], persona)
        voice = make_voice(cfg, who)
        err.print(f"serving {who.name}'s voice at http://{host}:{port}/v1/audio/speech (Ctrl+C stops)")
        run_server(voice, who.name, host, port)


RATE_STEP = 1.15  # /faster and /slower


def say_lines(cfg, who, no_window: bool) -> None:
    """Typing to speech: each line is spoken as soon as Enter is pressed; Ctrl-D ends."""
    import sys

    from assistant.cli import _present
    from assistant.messages import Timings
    from assistant.player import StreamPlayer
    from assistant.tts import VoiceStage
    from assistant.turn import run_turn, say_inputs
    from assistant.voices import make_voice
    from renderers.window import display_available

    with _Bars() as bars:
        bars.step("loading the voice")
        voice = make_voice(cfg, who)
    windowed = cfg.window.enabled and not no_window and display_available()
    player = None if windowed else StreamPlayer(voice.sample_rate, cfg.audio.output_device)
    err.print("type a line and press Enter to hear it; /rate 1.2, /faster, /slower; Ctrl-D ends")
    try:
        for line in sys.stdin:
            line = line.strip()
            if line.startswith("/"):
                voice.rate = _new_rate(line, voice.rate)
                err.print(f"speech rate {voice.rate:.2f}")
                continue
            if not line:
                continue
            timings = Timings()
            result = run_turn([VoiceStage(voice, timings)], say_inputs(line), timings)
            if windowed:
                with _Bars(enabled=False) as quiet:
                    _present(cfg, who, result, None, False, quiet)
            else:
                player.play(result.audio)
            err.print(f"spoken in {timings.values.get('first_audio', 0) * 1000:.0f} ms "
                      f"({result.audio.duration:.1f} s of speech)")
    finally:
        if player is not None:
            while player.playing:
                time.sleep(0.05)
            player.close()


def _new_rate(command: str, rate: float) -> float:
    name, _, value = command.partition(" ")
    if name == "/faster":
        return min(rate * RATE_STEP, 3.0)
    if name == "/slower":
        return max(rate / RATE_STEP, 0.4)
    if name == "/rate":
        try:
            return min(max(float(value), 0.4), 3.0)
        except ValueError:
            pass
    err.print("commands: /rate NUMBER (1.0 is normal), /faster, /slower")
    return rate
