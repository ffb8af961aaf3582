"""Commands for the twin's voice: `enroll` (learn a voice once) and `serve` (speak for other programs)."""

from __future__ import annotations

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
