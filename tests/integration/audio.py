"""What a phone heard: baresip's sndfile module writes every decoded stream to
`<phone>/rec/dump-<call>-dec.wav`; a Goertzel filter tells whether a tone is in it."""

from __future__ import annotations

import math
import struct
import time
import wave
from pathlib import Path

CALLER_HZ = 330  # the caller side's tone (the music on hold file of the sandbox)
PHONE_HZ = 440  # what every baresip phone sends


def decoded(phone_home: Path) -> list[Path]:
    return sorted((phone_home / "rec").glob("dump-*-dec.wav"))


def tone_level(path: Path, hz: float) -> float:
    """The tone's amplitude relative to full scale (0..1) over the whole file."""
    deadline = time.monotonic() + 3
    while True:  # baresip finishes the file just after the call has closed
        try:
            with wave.open(str(path)) as w:
                rate, n = w.getframerate(), w.getnframes()
                samples = struct.unpack(f"<{n * w.getnchannels()}h", w.readframes(n))
            break
        except (wave.Error, EOFError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    if not samples:
        return 0.0
    k = 2 * math.cos(2 * math.pi * hz / rate)
    s1 = s2 = 0.0
    for x in samples:
        s1, s2 = x + k * s1 - s2, s1
    power = s1 * s1 + s2 * s2 - k * s1 * s2
    return 2 * math.sqrt(max(power, 0.0)) / len(samples) / 32768
