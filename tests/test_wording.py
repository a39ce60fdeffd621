"""The project speaks of the project alone: documents, model cards, bench files and code name versions, dates and
commits, never the rounds of work that made them ("session 9", "stage 6", "this session's run").

A database session (SQLAlchemy) is not a round of work, so "session" alone is allowed; a number or a word of
time next to it is not.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Each pattern names a round of past work; the message says what to write instead.
ROUND_WORDING = [
    (re.compile(r"\bsessions?[- ]?#?\d+", re.I), "a numbered session"),
    (re.compile(r"\b(this|that|previous|earlier|later|next|last|work|working|past) sessions?\b", re.I),
     "a session of work"),
    (re.compile(r"\b(first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth|"
                r"\d+(st|nd|rd|th))[- ]sessions?\b", re.I), "a numbered session"),
    (re.compile(r"\bsessions? of work\b", re.I), "a session of work"),
    (re.compile(r"\b(work|working) rounds?\b|\brounds? of (past )?work\b|\bround [0-9]+\b", re.I), "a round of work"),
    (re.compile(r"\bstages? [1-9]\b(?![.,]\d)(?!\s*(ms|s\b|%))", re.I), "a numbered training stage"),
    (re.compile(r"\bstop [0-9]+\b", re.I), "a numbered stop"),
    (re.compile(r"-s[0-9]+(-|\.json|\.md)"), "a file named after a numbered session"),
]

# What is checked: every document, model card and bench file, and the comments and strings of code and config.
CHECKED = ["README.md", "CONTRIBUTING.md", "Makefile", "pyproject.toml"]
CHECKED_DIRS = ["docs", "bench", "models", "src", "tests", "configs", "scripts", "docker", "gallery"]
SUFFIXES = {".md", ".py", ".yml", ".yaml", ".toml", ".sh", ".txt", ".cfg", ".html", ".js", ".css", ".json"}
SKIPPED_PARTS = {"__pycache__", "trayscan.egg-info", "fixtures"}


def checked_files() -> list[Path]:
    files = [ROOT / name for name in CHECKED if (ROOT / name).is_file()]
    for folder in CHECKED_DIRS:
        for path in sorted((ROOT / folder).rglob("*")):
            if path.is_file() and path.suffix in SUFFIXES and not SKIPPED_PARTS & set(path.parts):
                files.append(path)
    return [path for path in files if path != Path(__file__).resolve()]


def round_wording(text: str) -> list[str]:
    """'line N: what: the matched words' for each place that names a round of work."""
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        for pattern, what in ROUND_WORDING:
            for match in pattern.finditer(line):
                found.append(f"line {number}: {what}: {match.group(0)!r}")
    return found


@pytest.mark.parametrize(
    "text",
    [
        "Session 9 (dedupe at 80 %)",
        "with the session-6 starter detector",
        "runs 2 and 3 this session's (box scorer)",
        "the shipped model stays stage 6",
        "--note 'session 8: sibling check on'",
        "build/bench-s8-http.json",
        "two rounds of work later",
        "as in the previous session",
        "fifth-session models (2026-12-01)",
    ],
)
def test_the_check_finds_round_wording(text: str) -> None:
    assert round_wording(text)


@pytest.mark.parametrize(
    "text",
    [
        "with Session(self.engine) as session:",
        "the session factory opens one database session per request",
        "the embed stage 35.9 ms; its stage 39.5 ms",
        "the model of commit 0e5bce9 (2026-11-24)",
        "detector step 3000",
    ],
)
def test_the_check_leaves_other_wording(text: str) -> None:
    assert not round_wording(text)


def test_no_file_names_rounds_of_work() -> None:
    offenders = {
        str(path.relative_to(ROOT)): found
        for path in checked_files()
        if (found := round_wording(path.read_text(errors="replace")))
    }
    assert not offenders, "name versions, dates and commits instead:\n" + "\n".join(
        f"{name}: {'; '.join(found[:5])}" + (f" (+{len(found) - 5} more)" if len(found) > 5 else "")
        for name, found in offenders.items()
    )
