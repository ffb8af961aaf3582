"""Shared by the benchmark scripts: where results go and how the README table is kept."""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE.parent / "tests"))  # the test recordings and conversation builders


def arguments(doc: str, **extra: int):
    """--runs (default 3) and any other integer options given as name=default."""
    import argparse

    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    for name, default in extra.items():
        parser.add_argument(f"--{name}", type=int, default=default)
    return parser.parse_args()


def meta(runs: int, **extra) -> dict:
    return {"runs": runs, "cpus": os.cpu_count(), "python": platform.python_version(),
            "date": time.strftime("%Y-%m-%d"), **extra}


def save(name: str, data: dict, section: str, body: str) -> None:
    """Write bench/NAME.json and replace the README section between <!-- SECTION --> markers."""
    (HERE / f"{name}.json").write_text(json.dumps(data, indent=2))
    readme = HERE / "README.md"
    text = readme.read_text()
    start, end = f"<!-- {section} -->", f"<!-- /{section} -->"
    if start not in text:
        text += f"\n{start}\n{end}\n"
    before, rest = text.split(start)
    readme.write_text(f"{before}{start}\n{body}\n{end}{rest.split(end)[1]}")
