"""Benchmark thinking: memory recall and latency, LLM speed with and without KV reuse, routing, emotion.

    python bench/think.py [--runs 3] [--memories 100000]

Writes bench/think.json and the THINK section of bench/README.md.
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
from common import HERE, arguments, meta, save  # noqa: E402

import numpy as np  # noqa: E402

from assistant import models  # noqa: E402
from assistant.agent import ChatModel, json_completer  # noqa: E402
from assistant.config import load_config  # noqa: E402
from assistant.emotion import EmotionTagger  # noqa: E402
from assistant.tools import EmbeddingRouter, route  # noqa: E402
from memory.embeddings import MiniLm  # noqa: E402
from memory.store import MemoryStore  # noqa: E402
from persona.persona import load_persona  # noqa: E402

DATA = HERE.parent / "tests" / "data"
# (statement, key, question) — the question is a paraphrase, never the statement's words back
FACTS = [
    ("My sister is called {v}.", "sister's name", "What's the name of my sister?"),
    ("I work as a {v}.", "job", "What do I do for a living?"),
    ("My dog's name is {v}.", "dog's name", "What did I name my dog?"),
    ("I live in {v}.", "home city", "Which town is my home?"),
    ("My favourite food is {v}.", "favourite food", "What do I like to eat most?"),
    ("I was born in {v}.", "birthplace", "Where did I come into the world?"),
    ("My car is a {v}.", "car", "What vehicle do I drive?"),
    ("My best friend is {v}.", "best friend", "Who is my closest friend?"),
    ("I play the {v}.", "instrument", "Which musical instrument do I play?"),
    ("My favourite colour is {v}.", "favourite colour", "What colour do I like best?"),
]
VALUES = ["Alma", "Bruno", "Clara", "Dario", "Elena", "Farid", "Greta", "Hugo", "Ines", "Jonas", "Kira", "Leon",
          "Maya", "Nils", "Olga", "Pablo", "Quinn", "Rosa", "Sami", "Tara", "Umar", "Vera", "Wim", "Xenia", "Yuri",
          "Zora", "Amsterdam", "Bergen", "Cork", "Dresden", "Evora", "Faro", "Genoa", "Hamburg", "Izmir", "Jena",
          "Kassel", "Leeds", "Malmo", "Nantes", "nurse", "baker", "pilot", "teacher", "plumber", "violin", "drums",
          "cello", "flute", "harp"]


def memory_recall(embedder: MiniLm) -> dict:
    """500 facts (50 users × 10 kinds) told over 200 sessions, asked back with paraphrases."""
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        store = MemoryStore(Path(tmp) / "memory", embedder)
        truth = []
        start = time.time() - 200 * 86400
        for n in range(500):
            user, (statement, key, question) = f"user{n // 10}", FACTS[n % 10]
            value = VALUES[int(rng.integers(len(VALUES)))]
            when = start + (n * 200 // 500) * 86400  # 200 sessions, a day apart
            store.add_episode(user, "user", statement.format(v=value), when=when)
            store.remember_fact(user, key, value, when=when)
            truth.append((user, question, value))
        hits = sum(any(value in m.text for m in store.recall(user, question, k=5)) for user, question, value in truth)
        store.close()
    return {"facts": 500, "sessions": 200, "recall_at_5": hits / len(truth)}


def memory_scale(embedder: MiniLm, count: int) -> dict:
    """Insert throughput, and query latency with `count` memories stored."""
    texts = [f"On day {i % 365} I talked about {VALUES[i % len(VALUES)]} and the {FACTS[i % 10][1]} number {i}"
             for i in range(count)]
    with tempfile.TemporaryDirectory() as tmp:
        store = MemoryStore(Path(tmp) / "memory", embedder)
        began = time.perf_counter()
        per_user = count // 20
        for user in range(20):  # 20 people, batched, as an import does
            for i in range(0, per_user, 1000):
                batch = texts[user * per_user + i:user * per_user + i + 1000]
                store.add_records([{"id": f"ep-{user}-{i + j}", "kind": "episode", "user": f"user{user}", "text": t,
                                    "time": time.time(), "speaker": "user"} for j, t in enumerate(batch)])
        insert = count / (time.perf_counter() - began)
        single = []
        for i in range(50):
            t = time.perf_counter()
            store.add_episode("user0", "user", f"a new thing number {i}")
            single.append(time.perf_counter() - t)
        latencies = []
        for i in range(200):
            t = time.perf_counter()
            store.recall(f"user{i % 20}", f"what did I say about {VALUES[i % len(VALUES)]}?", k=5)
            latencies.append(time.perf_counter() - t)
        store.close()
    return {"memories": count, "insert_per_s_batched": insert, "insert_one_ms": 1000 * statistics.median(single),
            "query_p50_ms": 1000 * float(np.percentile(latencies, 50)),
            "query_p95_ms": 1000 * float(np.percentile(latencies, 95))}


def llm_speed(runs: int) -> dict:
    """Per bundled model: time to first token of a new turn after earlier turns (KV reuse) and from
    a cleared cache, tokens/s, time to the first complete sentence."""
    from assistant.agent import AgentStage
    from assistant.messages import ReplySentence, TextInput, Timings

    persona = load_persona(None)
    out = {}
    names = [m.name for m in models.BUNDLED if m.key == "llm" and m.installed()]  # the 1.5B if `make quality`
    for name in names:
        config = load_config(overrides=[f"models.llm={name}"])
        chat = ChatModel(models.resolve(config, "llm").path, config.llm, persona.spec.system_prompt)
        chat.load()
        history = (("human", "Hi, I'm planning a weekend trip."), ("ai", "That sounds lovely. Where to?"))
        warm, cold, rate, first_sentence = [], [], [], []
        for i in range(runs):
            for reuse in (False, True):
                if not reuse:
                    chat.llm.client.reset()  # forget the cached prompt
                else:
                    list(chat.stream("Any tips for packing light?", history))  # the same prefix is now cached
                timings = Timings()
                stage = AgentStage(chat, config.llm, timings, history)
                began = time.perf_counter()
                first = None
                for message in stage.handle(TextInput(f"What should I bring to the mountains, question {i}?")):
                    if first is None and isinstance(message, ReplySentence):
                        first = time.perf_counter() - began
                (warm if reuse else cold).append(timings.values["llm_first_token"])
                if reuse:
                    rate.append(timings.values.get("llm_tokens_per_s", 0.0))
                    first_sentence.append(first or 0.0)
        out[name] = {"ttft_kv_reuse_ms": 1000 * statistics.median(warm), "ttft_cold_ms": 1000 * statistics.median(cold),
                     "tokens_per_s": statistics.median(rate), "first_sentence_s": statistics.median(first_sentence)}
    return out


def _labelled(name: str) -> list[dict]:
    return [json.loads(line) for line in (DATA / name).read_text().splitlines()]


def accuracy(embedder: MiniLm) -> list[dict]:
    """Accuracy per labelled set and method. The `heldout` sets were written after the examples
    were last changed, so they show how far the examples generalize."""
    config = load_config()
    chat = ChatModel(models.resolve(config, "llm").path, config.llm, load_persona(None).spec.system_prompt)
    complete = json_completer(chat, 40)
    router = EmbeddingRouter(embedder.embed)
    routers = {"cues + embedding": router, "llm (grammar)": lambda text: route(complete, text)}
    taggers = {method: EmotionTagger(method, embedder.embed, complete) for method in ("prototypes", "vader", "llm")}
    rows = []
    for name in ("routing.jsonl", "routing_heldout.jsonl"):
        data = _labelled(name)
        rows += [{"set": name, "size": len(data), "method": method,
                  "accuracy": float(np.mean([pick(d["text"]).tool == d["tool"] for d in data]))}
                 for method, pick in routers.items()]
    for name in ("emotions.jsonl", "emotions_heldout.jsonl"):
        data = _labelled(name)
        rows += [{"set": name, "size": len(data), "method": method,
                  "accuracy": float(np.mean([tagger.tag(d["text"]).emotion == d["emotion"] for d in data]))}
                 for method, tagger in taggers.items()]
    return rows


def table(r: dict) -> str:
    m, s = r["recall"], r["scale"]
    lines = [f"Memory: recall@5 **{m['recall_at_5']:.3f}** over {m['facts']} facts told across {m['sessions']} sessions "
             f"(paraphrased questions). With {s['memories']:,} memories stored: query p50 {s['query_p50_ms']:.1f} ms, "
             f"**p95 {s['query_p95_ms']:.1f} ms**; insert {s['insert_per_s_batched']:.0f}/s batched "
             f"(embedding included), {s['insert_one_ms']:.1f} ms for one.", "",
             "| LLM | first token, KV reused (ms) | first token, cache cleared (ms) | tokens/s | first sentence (s) |",
             "|---|---|---|---|---|"]
    for name, v in r["llm"].items():
        lines.append(f"| {name} | {v['ttft_kv_reuse_ms']:.0f} | {v['ttft_cold_ms']:.0f} | {v['tokens_per_s']:.0f} | "
                     f"{v['first_sentence_s']:.2f} |")
    lines += ["", "| labelled set | size | method | accuracy |", "|---|---|---|---|"]
    lines += [f"| {a['set']} | {a['size']} | {a['method']} | {a['accuracy']:.2f} |" for a in r["accuracy"]]
    return "\n".join(lines)


def main() -> None:
    args = arguments(__doc__, memories=100_000)
    embedder = MiniLm(models.resolve(load_config(), "embeddings").path)
    results = {"recall": memory_recall(embedder), "scale": memory_scale(embedder, args.memories),
               "llm": llm_speed(args.runs), "accuracy": accuracy(embedder)}
    body = f"Medians over {args.runs} runs where timed, 2 cores.\n\n" + table(results)
    save("think", {"meta": meta(args.runs), **results}, "THINK", body)
    print(table(results))


if __name__ == "__main__":
    main()
