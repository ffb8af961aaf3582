"""`doppel doctor`: every model (origin, size, load time), library versions, devices, and fixes."""

from __future__ import annotations

import os
import platform
import time
from importlib import metadata
from pathlib import Path
from typing import Callable

from rich.console import Console
from rich.table import Table

from assistant import models
from assistant.config import Config
from assistant.errors import DoppelError

LIBRARIES = ["faster-whisper", "ctranslate2", "llama-cpp-python", "langchain-core", "langchain-community",
             "piper-tts", "onnxruntime", "mediapipe", "opencv-contrib-python", "numpy", "pygame",
             "sounddevice", "imageio-ffmpeg", "torch", "torchaudio", "speechbrain", "sentence-transformers",
             "pydantic", "typer"]


def _load_asr(path: Path) -> None:
    from faster_whisper import WhisperModel

    WhisperModel(str(path), device="cpu", compute_type="int8")


def _load_vad(path: Path) -> None:
    import numpy as np

    from assistant.vad import BLOCK, SileroVad

    SileroVad(path)(np.zeros(BLOCK, np.float32))


def _load_llm(path: Path) -> None:
    from llama_cpp import Llama

    Llama(model_path=str(path), n_ctx=256, verbose=False)


def _load_voice(path: Path) -> None:
    from piper import PiperVoice

    PiperVoice.load(path)


def _load_embeddings(path: Path) -> None:
    from sentence_transformers import SentenceTransformer

    SentenceTransformer(str(path), device="cpu").encode(["hello"])


def _load_speaker(path: Path) -> None:
    import torch
    from speechbrain.lobes.models.ECAPA_TDNN import ECAPA_TDNN

    model = ECAPA_TDNN(input_size=80, channels=[1024, 1024, 1024, 1024, 3072], kernel_sizes=[5, 3, 3, 3, 1],
                       dilations=[1, 2, 3, 4, 1], attention_channels=128, lin_neurons=192)
    model.load_state_dict(torch.load(path / "embedding_model.ckpt", map_location="cpu"))


def _load_face(path: Path) -> None:
    import numpy as np

    from renderers.landmarks import FaceMesh

    with FaceMesh() as mesh:
        mesh.find(np.zeros((64, 64, 3), np.uint8))


LOADERS: dict[str, Callable[[Path], None]] = {
    "asr": _load_asr, "vad": _load_vad, "llm": _load_llm, "tts_voice": _load_voice, "embeddings": _load_embeddings,
    "speaker": _load_speaker, "face_mesh": _load_face,
}


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _check_model(config: Config, key: str, name: str) -> dict:
    entry = {"key": f"models.{key}", "name": name, "in_use": getattr(config.models, key) == name}
    try:
        resolved = models.resolve(config.model_copy(update={"models": config.models.model_copy(update={key: name})}), key)
        entry.update(origin=resolved.origin, path=str(resolved.path), size_mb=round(_size(resolved.path) / 1e6, 1))
        if resolved.bundled:
            entry["licence"] = resolved.bundled.licence
        began = time.perf_counter()
        LOADERS[key](resolved.path)
        entry["load_seconds"] = round(time.perf_counter() - began, 2)
    except DoppelError as exc:
        entry["problem"] = str(exc)
    except Exception as exc:  # a library that will not load: report it, keep checking the rest
        entry["problem"] = f"models.{key}: {name} would not load ({type(exc).__name__}: {exc}); run `make venv`"
    return entry


def _audio() -> dict:
    try:
        import sounddevice as sd

        devices = sd.query_devices()
    except OSError:
        return {"problem": "PortAudio is missing: install the Debian package libportaudio2"}
    inputs = [d["name"] for d in devices if d["max_input_channels"] > 0]
    outputs = [d["name"] for d in devices if d["max_output_channels"] > 0]
    entry = {"inputs": inputs, "outputs": outputs}
    if not outputs:
        entry["note"] = "no sound output found: replies play silently (the video files still have sound)"
    return entry


def _display() -> dict:
    from renderers.window import display_available

    found = display_available()
    name = os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or os.environ.get("SDL_VIDEODRIVER")
    return {"available": found, "name": name,
            "note": "" if found else "no display: the window is skipped; use --out FILE.mp4"}


def examine(config: Config, report: Callable[[str, int, int], None]) -> dict:
    import imageio_ffmpeg

    checks = [(m.key, m.name) for m in models.BUNDLED]
    checks += [(key, value) for key, value in config.models.model_dump().items() if not models.bundled(value)]
    found = []
    for i, (key, name) in enumerate(checks):
        report("loading each model", i, len(checks))
        found.append(_check_model(config, key, name))
    report("loading each model", len(checks), len(checks))
    versions = {}
    for lib in LIBRARIES:
        try:
            versions[lib] = metadata.version(lib)
        except metadata.PackageNotFoundError:
            versions[lib] = None
    result = {
        "python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count(),
        "data_dir": str(config.home), "models": found, "libraries": versions,
        "ffmpeg": imageio_ffmpeg.get_ffmpeg_version(), "audio": _audio(), "display": _display(),
    }
    problems = [m["problem"] for m in found if "problem" in m]
    problems += [f"library {lib} is not installed; run `make venv`" for lib, v in versions.items() if v is None]
    if "problem" in result["audio"]:
        problems.append(result["audio"]["problem"])
    result["problems"] = problems
    return result


def print_report(report: dict, console: Console) -> None:
    console.print(f"Python {report['python']} on {report['platform']}, {report['cpus']} CPUs; "
                  f"data in {report['data_dir']}")
    table = Table(title="Models", show_lines=False)
    for column in ("key", "name", "in use", "size MB", "load s", "origin / problem"):
        table.add_column(column)
    for m in report["models"]:
        table.add_row(m["key"], m["name"], "yes" if m["in_use"] else "", str(m.get("size_mb", "")),
                      str(m.get("load_seconds", "")), m.get("problem") or m.get("origin", ""))
    console.print(table)
    libs = ", ".join(f"{k} {v or 'MISSING'}" for k, v in report["libraries"].items())
    console.print(f"[bold]Libraries:[/] {libs}; ffmpeg {report['ffmpeg']}")
    audio = report["audio"]
    console.print(f"[bold]Audio:[/] inputs {audio.get('inputs', [])}, outputs {audio.get('outputs', [])} "
                  f"{audio.get('note', '') or audio.get('problem', '')}")
    display = report["display"]
    console.print(f"[bold]Display:[/] {display['name'] or 'none'} {display['note']}")
    if report["problems"]:
        console.print("[bold red]To fix:[/]")
        for problem in report["problems"]:
            console.print(f"  - {problem}")
    else:
        console.print("[bold green]Everything Doppel needs is here.[/]")
