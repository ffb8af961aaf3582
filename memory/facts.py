"""Durable facts about a person, pulled out of what they say by the LLM into a fixed JSON schema.

Small models cannot be trusted with free-form output, so the reply is constrained to the schema by
llama.cpp's grammar; `complete_json(messages, schema)` is whatever runs that (the agent's model).
"""

from __future__ import annotations

from typing import Callable

FACT_SCHEMA = {
    "type": "object",
    "properties": {"facts": {"type": "array", "maxItems": 4, "items": {
        "type": "object",
        "properties": {"key": {"type": "string", "maxLength": 40}, "value": {"type": "string", "maxLength": 80}},
        "required": ["key", "value"]}}},
    "required": ["facts"],
}

INSTRUCTIONS = (
    "You extract lasting personal facts that a user states about themselves or their life "
    "(names of people and pets, where they live, work, likes, dislikes, plans, birthdays). "
    "Ignore questions, greetings and anything about other users. Use short keys like \"dog's name\", "
    "\"home city\", \"favourite food\". If there is no such fact, return an empty list."
)
EXAMPLES = [
    ("My cat is called Luna and I live in Lyon.",
     '{"facts": [{"key": "cat\'s name", "value": "Luna"}, {"key": "home city", "value": "Lyon"}]}'),
    ("What's the weather like?", '{"facts": []}'),
]

CompleteJson = Callable[[list[dict], dict], dict]


_FIRST_PERSON = {"i", "i'm", "im", "i've", "i'd", "my", "mine", "we", "we're", "our", "ours"}


def extract_facts(complete_json: CompleteJson, text: str) -> list[tuple[str, str]]:
    """Facts the person states about themselves; questions and requests hold none."""
    words = {w.strip(".,!?\"'").lower() for w in text.split()}
    if text.rstrip().endswith("?") or not words & _FIRST_PERSON:
        return []
    messages = [{"role": "system", "content": INSTRUCTIONS}]
    for said, facts in EXAMPLES:
        messages += [{"role": "user", "content": said}, {"role": "assistant", "content": facts}]
    messages.append({"role": "user", "content": text[:1000]})
    result = complete_json(messages, FACT_SCHEMA)
    pairs = []
    for fact in result.get("facts", []):
        key, value = str(fact.get("key", "")).strip(), str(fact.get("value", "")).strip()
        # small models copy the examples: keep a fact only if its value was actually said
        if key and value and _said(value, text):
            pairs.append((key, value))
    return pairs


def _said(value: str, text: str) -> bool:
    words = [w.strip(".,!?\"'").lower() for w in value.split()]
    spoken = {w.strip(".,!?\"'").lower() for w in text.split()}
    return bool(words) and sum(w in spoken for w in words) >= max(1, len(words) // 2)
