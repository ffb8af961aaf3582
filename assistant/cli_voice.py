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
    voice: Optional[Path] = typer.Argument(None, help="A recording of the person talking alone: 10-30 s is best."),
    persona: Path = typer.Option(..., "--persona", help="The persona folder to enroll into (created if new)."),
    consent: Optional[Path] = typer.Option(None, "--consent", help="The same person reading the consent sentence."),
    face: Optional[Path] = typer.Option(None, "--face", help="A portrait photo (JPEG/PNG) for the persona's face."),
    config: Optional[Path] = ConfigOpt, set_: Optional[List[str]] = SetOpt,
) -> None:
    """Learn a voice from VOICE and/or a face from --face PHOTO, once; the persona then uses them."""
    with _guarded():
        cfg = load_config(config, set_)
        if persona.resolve() == (Path(__file__).resolve().parents[1] / "persona" / "default"):
            raise DoppelError("the bundled persona is shared; enroll into your own folder, e.g. --persona ~/my-twin")
        if voice is None and face is None:
            raise DoppelError("nothing to enroll: give a voice recording (VOICE) and/or --face PHOTO")
        if face is not None:
            _enroll_face(face, persona, cfg)
        if voice is not None:
            _enroll_voice(voice, persona, consent, cfg)


def _enroll_face(photo: Path, persona: Path, cfg) -> None:
    import shutil

    from persona.persona import load_persona, update_persona_file
    from renderers.rig import build_rig

    with _Bars() as bars:
        bars.step("preparing the face")
        suffix = photo.suffix.lower() if photo.suffix.lower() in (".jpg", ".jpeg", ".png") else ".jpg"
        rig = build_rig(photo, cfg.face)  # checks the photo before anything is copied
        persona.mkdir(parents=True, exist_ok=True)
        kept = persona / f"portrait{suffix}"
        if photo.resolve() != kept.resolve():
            shutil.copyfile(photo, kept)
        update_persona_file(persona, {"face": {"portrait": kept.name}})
        build_rig(kept, cfg.face, load_persona(persona).face_cache)  # cached for every later use
    for note in rig.notes:
        err.print(f"  {note}")
    preview = persona / "face" / "preview.png"
    _save_png(rig.image, preview)
    err.print(f"face enrolled into {persona} (preview: {preview})")


def _save_png(rgb, path: Path) -> None:
    import cv2

    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))


def _enroll_voice(voice: Path, persona: Path, consent: Optional[Path], cfg) -> None:
    from persona.enroll import CONSENT_SENTENCE, enroll_voice

    if consent is None:
        err.print(f'Consent: record the person saying "[bold]{CONSENT_SENTENCE}[/]" and pass it with --consent.')
    with _Bars() as bars:
        voiceprint = enroll_voice(voice, persona, cfg, consent, bars.step)
    err.print(f"enrolled {voiceprint.speech_seconds:.1f} s of speech into {persona}; "
              f'it said: "{voiceprint.transcript[:80]}"')
    for method, check in voiceprint.checks.items():
        chosen = " (chosen)" if method == voiceprint.vmap.method else ""
        confirmed = f", other sentences {check['confirm_wer']:.2f}" if "confirm_wer" in check else ""
        err.print(f"  {method} at {check['strength']:.0%}: similarity {check['similarity']:.2f}, "
                  f"check sentence WER {check['wer']:.2f}{confirmed}{chosen}")


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
