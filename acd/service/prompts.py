"""Placeholder recordings of every announcement, spoken in Indonesian by espeak-ng.

Asterisk plays `sound:<file>` from `sounds/<language>/<file>.wav`; with the channel's
language set to `id`, the files go to `<out>/id/`. Numbers (for "expected wait: N minutes")
are spoken from `acd117/numbers/<n>` files made here too, since Asterisk has no Indonesian
number rules of its own. Existing files are kept, so a studio recording dropped in place is
never overwritten (unless --force).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from config.models import CallFlows

NUMBER_SOUND = "acd117/numbers/{n}"  # the file the adapters play for a number
NUMBERS = range(1, 100)

_ONES = ["", "satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan", "sembilan"]


def say_number_id(n: int) -> str:
    """Indonesian words for 1..999: 11 is sebelas, 10 sepuluh, 100 seratus."""
    if not 0 < n < 1000:
        raise ValueError(f"{n} is outside 1..999")
    words: list[str] = []
    hundreds, rest = divmod(n, 100)
    if hundreds:
        words.append("seratus" if hundreds == 1 else f"{_ONES[hundreds]} ratus")
    tens, ones = divmod(rest, 10)
    if tens == 1:
        words.append({0: "sepuluh", 1: "sebelas"}.get(ones, f"{_ONES[ones]} belas"))
    else:
        if tens:
            words.append(f"{_ONES[tens]} puluh")
        if ones:
            words.append(_ONES[ones])
    return " ".join(words)


@dataclass(frozen=True)
class PromptFile:
    path: Path
    text: str


def prompt_files(flows: CallFlows, out: Path) -> list[PromptFile]:
    language = flows.announcements.language.split("-")[0]  # id-ID -> id
    base = out / language
    files = [PromptFile(base / f"{p.file}.wav", p.text)
             for p in flows.announcements.prompts.values()]
    files += [PromptFile(base / f"{NUMBER_SOUND.format(n=n)}.wav", say_number_id(n))
              for n in NUMBERS]
    return files


Synthesizer = Callable[[str, Path], None]


def espeak(text: str, path: Path) -> None:
    """Speak `text` into an 8 kHz mono 16-bit WAV, the format Asterisk plays without
    transcoding on ulaw/alaw calls."""
    for tool in ("espeak-ng", "sox"):
        if shutil.which(tool) is None:
            raise RuntimeError(f"{tool} is not installed (Debian: apt install espeak-ng sox)")
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw.wav"
        subprocess.run(["espeak-ng", "-v", "id", "-s", "145", "-w", str(raw), text],
                       check=True, capture_output=True)
        subprocess.run(["sox", str(raw), "-r", "8000", "-c", "1", "-b", "16", str(path)],
                       check=True, capture_output=True)


def make_prompts(flows: CallFlows, out: Path, synthesize: Synthesizer = espeak,
                 force: bool = False) -> tuple[int, int]:
    """Make the missing prompt files; return (made, kept)."""
    made = kept = 0
    for f in prompt_files(flows, out):
        if f.path.exists() and not force:
            kept += 1
            continue
        f.path.parent.mkdir(parents=True, exist_ok=True)
        synthesize(f.text, f.path)
        made += 1
    return made, kept
