"""How long refusing a quote that is not in its source takes: the nearest-passage
search (sources/anchoring.py), which runs whenever the words are not found.

    .venv/bin/python benchmarks/anchoring.py

Prints one line per case: the search is bounded by the caps in
sources/anchoring.py, so every case should take milliseconds, including the
worst one the caps allow. The tests check what the search finds; this shows
how fast (timings are not assertions: they depend on the machine).
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from sources import anchoring  # noqa: E402 - after the path is set

SEEDS = sorted((BASE_DIR / "seeds").glob("*.txt"))
REPEAT = 3


def _vocabulary() -> list[str]:
    return [word.strip(".,") for path in SEEDS for word in path.read_text().split()]


def _words(rng: random.Random, vocabulary: list[str], count: int) -> str:
    return " ".join(rng.choice(vocabulary) for _ in range(count))


def _snapshot(rng: random.Random, vocabulary: list[str], chars: int) -> str:
    text = _words(rng, vocabulary, chars // 5)
    while len(text) < chars:
        text += " " + _words(rng, vocabulary, 100)
    return text[:chars]


def _time(snapshot: str, quote: str) -> tuple[float, str]:
    """The median time of refusing `quote`, and how the refusal begins."""
    times = []
    message = ""
    for _ in range(REPEAT):
        started = time.perf_counter()
        try:
            anchoring.locate(snapshot, quote)
        except anchoring.AnchorError as error:
            message = str(error)
        else:
            raise SystemExit(f"the quote was found, so nothing was measured: {quote[:60]!r}")
        times.append(time.perf_counter() - started)
    return statistics.median(times), message


def main() -> None:
    rng = random.Random(7)
    vocabulary = _vocabulary()
    cap_words = anchoring.NEAREST_MAX_WORDS
    cases = [
        ("60 words vs a 1,100-word article", " ".join([_words(rng, vocabulary, 1100)]), 60),
        ("50 words vs a 5,000-word source", _words(rng, vocabulary, 5000), 50),
        ("50 words vs a 100,000-character snapshot", _snapshot(rng, vocabulary, 100_000), 50),
        (
            f"{cap_words} words (the cap) vs a {anchoring.NEAREST_MAX_SNAPSHOT_CHARS:,}-character "
            "snapshot",
            _snapshot(rng, vocabulary, anchoring.NEAREST_MAX_SNAPSHOT_CHARS),
            cap_words,
        ),
        (
            f"{cap_words} words vs a 1,000,000-character snapshot (searched up to the cap)",
            _snapshot(rng, vocabulary, 1_000_000),
            cap_words,
        ),
        (
            f"{cap_words + 50} words (over the cap: refused unsearched)",
            _snapshot(rng, vocabulary, 100_000),
            cap_words + 50,
        ),
    ]
    print(
        f"caps: {anchoring.NEAREST_MAX_SNAPSHOT_CHARS:,} snapshot characters, "
        f"{anchoring.NEAREST_MAX_WORDS} words, {anchoring.NEAREST_MAX_CHARS:,} quote characters"
    )
    for label, snapshot, quote_words in cases:
        quote = _words(rng, vocabulary, quote_words)
        # A quote no longer than the character cap, as long as the words allow.
        while (
            len(anchoring.normalize(quote)) > anchoring.NEAREST_MAX_CHARS
            and quote_words <= cap_words
        ):
            quote = " ".join(quote.split()[:-1])
        seconds, message = _time(snapshot, quote)
        print(f"{label}: {seconds * 1000:.1f} ms  ({message[message.find('. ') + 2 :][:50]}...)")
    # The worst inputs for an alignment: one repeated word, a quote of the same word.
    repeated = ("aaaa " * (anchoring.NEAREST_MAX_SNAPSHOT_CHARS // 5)).strip()
    seconds, _ = _time(repeated, "aaaa " * 150 + "b")
    print(f"one word repeated (snapshot and quote at the caps): {seconds * 1000:.1f} ms")


if __name__ == "__main__":
    main()
