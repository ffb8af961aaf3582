"""Benchmark the voice: speaker similarity by reference length and method (floor and ceiling side by
side), intelligibility, speed of TTS + conversion, enrollment time, and the consent threshold's EER.

Speakers: ALSA's (real speech, only ~6 s exist, so 4 and 5 clips) and two espeak-ng female voices
(synthetic, a 52 s reading, so the 3/10/30 s curve). Similarity is ECAPA cosine to *held-out* speech.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from common import arguments, meta, save  # (first: it puts the repo on sys.path)
from assistant import models  # noqa: E402
from assistant.asr import Transcriber  # noqa: E402
from assistant.config import load_config  # noqa: E402
from assistant.conversion import METHODS, Prosody, convert  # noqa: E402
from assistant.voices import make_voice  # noqa: E402
from conftest import wer  # noqa: E402
from persona.enroll import enroll_voice  # noqa: E402
from persona.persona import load_persona  # noqa: E402
from persona.speaker import SpeakerEncoder, cosine  # noqa: E402
from scipy.signal import resample_poly  # noqa: E402
from voice_data import ENROLL_CLIPS, HELD_OUT_CLIPS, RATE, alsa_clip, espeak, joined, write  # noqa: E402

READING = (Path(__file__).resolve().parent / "data" / "reading.txt")
HELD_TEXT = ("I would really like to see the mountains again before the summer ends. "
             "Could you please pass me the salt and the pepper? We will meet by the river at noon.")
TEST_SENTENCES = ["My brother fixed the broken bicycle on Thursday afternoon.",
                  "The museum opens at ten, but the best rooms are upstairs.",
                  "Do you think it will rain before we reach the station?",
                  "She baked a lemon cake for her grandmother's birthday."]
SHORT = "Hello, how are you today?"


def speakers(folder: Path) -> list[dict]:
    """(name, kind, reference files by length, held-out file)."""
    out = [{"name": "ALSA speaker", "kind": "real", "held": write(folder / "alsa_held.wav", joined(HELD_OUT_CLIPS)),
            "refs": {f"{n} clips": write(folder / f"alsa_{n}.wav", joined(ENROLL_CLIPS[:n])) for n in (4, 5)}}]
    for voice in ("en-us+f3", "en+f4"):
        reading = espeak(READING.read_text(), voice, folder / voice)
        held = write(folder / f"{voice}_held.wav", espeak(HELD_TEXT, voice, folder / f"{voice}_h"))
        refs = {f"{s} s": write(folder / f"{voice}_{s}.wav", reading[: s * RATE]) for s in (3, 10, 30)}
        out.append({"name": f"espeak {voice}", "kind": "synthetic", "held": held, "refs": refs})
    return out


def embed16(encoder: SpeakerEncoder, audio: np.ndarray, rate: int) -> np.ndarray:
    return encoder.embed(resample_poly(audio, 16000, rate).astype(np.float32))


def evaluate(voice, vmap, encoder, asr, held_vector, takes) -> dict:
    """Similarity to held-out speech and WER over the test sentences (the same piper takes for all)."""
    sims, errors = [], []
    for text, clip in takes:
        audio = clip.samples if vmap is None else convert(clip.samples, vmap, Prosody(), clip.sample_rate,
                                                          vmap.frame_ms, vmap.source_ceiling)
        sims.append(cosine(embed16(encoder, audio, clip.sample_rate), held_vector))
        errors.append(wer(text, asr.decode(resample_poly(audio, 16000, clip.sample_rate).astype(np.float32)).text))
    return {"similarity": float(np.mean(sims)), "wer": float(np.mean(errors))}


def similarity_table(folder: Path, config, encoder, asr) -> list[dict]:
    from assistant.sources import read_audio_file

    lenient = load_config(overrides=["voice.consent_words_min=0", "voice.min_speech_seconds=2"])
    plain = make_voice(load_config(overrides=["tts.backend=piper"]), load_persona(None))
    takes = [(t, plain.piper.speak(t)[0]) for t in TEST_SENTENCES]
    rows = []
    for speaker in speakers(folder):
        held_vector = encoder.embed(read_audio_file(speaker["held"]).samples)
        for label, reference in speaker["refs"].items():
            twin = folder / f"twin-{speaker['name']}-{label}".replace(" ", "_")
            started = time.perf_counter()
            voiceprint = enroll_voice(reference, twin, lenient, speaker["held"], lambda _: None)
            row = {"speaker": speaker["name"], "kind": speaker["kind"], "reference": label,
                   "speech_s": voiceprint.speech_seconds, "enroll_s": time.perf_counter() - started,
                   "ceiling": cosine(voiceprint.embedding, held_vector),
                   "piper": evaluate(plain, None, encoder, asr, held_vector, takes)}
            for method in METHODS:
                row[method] = evaluate(plain, replace(voiceprint.vmap, method=method, strength=1.0),
                                       encoder, asr, held_vector, takes)
            row["auto"] = {**evaluate(plain, voiceprint.vmap, encoder, asr, held_vector, takes),
                           "choice": f"{voiceprint.vmap.method} {voiceprint.vmap.strength:.0%}"}
            rows.append(row)
            print(row["speaker"], label, {k: row[k] for k in ("ceiling", "piper", *METHODS, "auto")})
    return rows


def consent_eer(folder: Path, encoder) -> dict:
    """Genuine pairs: two recordings of one voice (different words); impostors: different voices."""
    from assistant.sources import read_audio_file

    recordings = {"alsa": [write(folder / f"c_{n}.wav", alsa_clip(n)) for n in ENROLL_CLIPS + HELD_OUT_CLIPS]}
    lines = READING.read_text().splitlines()[:6]
    for voice in ("en-us+f3", "en+f4", "en-us+m3", "en+m1"):
        recordings[voice] = [write(folder / f"c_{voice}_{i}.wav", espeak(line, voice, folder / f"c_{voice}_{i}"))
                             for i, line in enumerate(lines)]
    piper = make_voice(load_config(overrides=["tts.backend=piper"]), load_persona(None)).piper
    recordings["piper joe"] = []
    for i, line in enumerate(lines):
        clip = piper.speak(line)[0]
        recordings["piper joe"].append(write(folder / f"c_joe_{i}.wav", clip.samples, clip.sample_rate))
    vectors = {k: [encoder.embed(read_audio_file(p).samples) for p in v] for k, v in recordings.items()}
    genuine, impostor = [], []
    names = list(vectors)
    for a in names:
        for i, va in enumerate(vectors[a]):
            genuine += [cosine(va, vb) for vb in vectors[a][i + 1:]]
            impostor += [cosine(va, vb) for b in names[names.index(a) + 1:] for vb in vectors[b]]
    genuine, impostor = np.array(genuine), np.array(impostor)
    best = min(np.linspace(-0.2, 0.9, 221), key=lambda t: abs(np.mean(genuine < t) - np.mean(impostor >= t)))
    return {"threshold_at_eer": float(best), "eer": float((np.mean(genuine < best) + np.mean(impostor >= best)) / 2),
            "genuine_median": float(np.median(genuine)), "impostor_median": float(np.median(impostor)),
            "impostor_max": float(impostor.max()), "pairs": [len(genuine), len(impostor)]}


def speed(twin: Path, runs: int) -> dict:
    voice = make_voice(load_config(), load_persona(twin))
    voice.speak(SHORT)  # warm
    rtf, first = [], []
    for _ in range(runs):
        for text in TEST_SENTENCES:
            started = time.perf_counter()
            clip, _ = voice.speak(text)
            rtf.append((time.perf_counter() - started) / clip.duration)
        started = time.perf_counter()
        voice.speak(SHORT)
        first.append(time.perf_counter() - started)
    return {"method": voice.vmap.method, "rtf": statistics.median(rtf), "first_audio_short_s": statistics.median(first)}


def table(r: dict) -> str:
    lines = ["Speaker similarity (ECAPA cosine to held-out speech of the speaker; mean over 4 sentences) and "
             "WER (Whisper base) of the converted sentences. *piper* is the floor (unconverted), *ceiling* the "
             "reference itself against the held-out speech; methods at full strength, *auto* is what enrollment "
             "chose (method and strength) after its clarity check.", "",
             "| speaker | reference | speech (s) | piper | " + " | ".join(METHODS) + " | auto (choice) | ceiling | "
             "enroll (s) |", "|---" * (len(METHODS) + 7) + "|"]
    for row in r["similarity"]:
        cells = [f"{row[m]['similarity']:.2f} / {row[m]['wer']:.2f}" for m in ("piper", *METHODS)]
        auto = row["auto"]
        lines.append(f"| {row['speaker']} ({row['kind']}) | {row['reference']} | {row['speech_s']:.1f} | "
                     + " | ".join(cells) + f" | {auto['similarity']:.2f} / {auto['wer']:.2f} ({auto['choice']}) | "
                     f"{row['ceiling']:.2f} | {row['enroll_s']:.1f} |")
    s, c = r["speed"], r["consent"]
    lines += ["", "Cells: similarity / WER.", "",
              f"Speed ({s['method']}, medians): TTS + conversion real-time factor **{s['rtf']:.3f}**; "
              f"a short sentence's audio ready after **{s['first_audio_short_s'] * 1000:.0f} ms**.", "",
              f"Consent threshold: equal-error rate **{c['eer']:.3f}** at cosine **{c['threshold_at_eer']:.2f}** "
              f"({c['pairs'][0]} same-voice pairs, median {c['genuine_median']:.2f}; {c['pairs'][1]} different-voice "
              f"pairs, median {c['impostor_median']:.2f}, max {c['impostor_max']:.2f})."]
    return "\n".join(lines)


def main() -> None:
    args = arguments(__doc__)
    config = load_config()
    encoder = SpeakerEncoder(models.resolve(config, "speaker").path)
    settings = config.model_copy(update={"models": config.models.model_copy(update={"asr": "base"})})
    asr = Transcriber(models.resolve(settings, "asr").path, config.asr, "en")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        results = {"similarity": similarity_table(folder, config, encoder, asr)}
        results["speed"] = speed(folder / "twin-espeak_en-us+f3-30_s", args.runs)
        results["consent"] = consent_eer(folder, encoder)
    save("voice", {"meta": meta(args.runs), **results}, "VOICE", table(results))
    print(table(results))


if __name__ == "__main__":
    main()
