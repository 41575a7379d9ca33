"""Placeholder recordings: every prompt and number gets a file; studio recordings stay."""

from __future__ import annotations

import shutil
import wave
from pathlib import Path

import pytest

from acd.service.prompts import NUMBERS, espeak, make_prompts, prompt_files, say_number_id
from config.loader import load_flows

EXAMPLE = Path(__file__).resolve().parent.parent / "config" / "example"


@pytest.mark.parametrize(("n", "words"), [
    (1, "satu"), (10, "sepuluh"), (11, "sebelas"), (12, "dua belas"), (19, "sembilan belas"),
    (20, "dua puluh"), (21, "dua puluh satu"), (99, "sembilan puluh sembilan"),
    (100, "seratus"), (115, "seratus lima belas"), (310, "tiga ratus sepuluh"),
])
def test_numbers_are_said_the_indonesian_way(n: int, words: str):
    assert say_number_id(n) == words


def test_every_announcement_and_number_gets_a_file_under_the_language(tmp_path: Path):
    flows = load_flows(EXAMPLE)
    files = prompt_files(flows, tmp_path)
    assert tmp_path / "id" / "acd117" / "welcome.wav" in [f.path for f in files]
    assert tmp_path / "id" / "acd117" / "numbers" / "7.wav" in [f.path for f in files]
    assert len(files) == len(flows.announcements.prompts) + len(NUMBERS)


def test_existing_recordings_are_kept_unless_forced(tmp_path: Path):
    flows = load_flows(EXAMPLE)
    spoken: list[str] = []

    def fake_tts(text: str, path: Path) -> None:
        spoken.append(text)
        path.write_text(text)

    studio = tmp_path / "id" / "acd117" / "welcome.wav"
    studio.parent.mkdir(parents=True)
    studio.write_text("studio recording")
    made, kept = make_prompts(flows, tmp_path, fake_tts)
    assert (made, kept) == (len(flows.announcements.prompts) + len(NUMBERS) - 1, 1)
    assert studio.read_text() == "studio recording"
    assert "sembilan puluh sembilan" in spoken
    made, kept = make_prompts(flows, tmp_path, fake_tts, force=True)
    assert kept == 0 and studio.read_text().startswith("Layanan darurat")


@pytest.mark.skipif(not (shutil.which("espeak-ng") and shutil.which("sox")),
                    reason="espeak-ng and sox are not installed (apt install espeak-ng sox)")
def test_espeak_makes_an_8khz_mono_wav_asterisk_plays_as_is(tmp_path: Path):
    out = tmp_path / "x.wav"
    espeak("Layanan darurat bencana 117.", out)
    with wave.open(str(out)) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (8000, 1, 2)
        assert w.getnframes() > 8000  # more than a second of speech
