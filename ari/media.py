"""What a prompt plays: its sound files."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from acd.service.prompts import NUMBER_SOUND

PromptMedia = Callable[[str, int | None], Sequence[str]]


def prompt_media_for(files: Mapping[str, str] | None = None) -> PromptMedia:
    """Media of a prompt: `sound:<file>` (the announcements config maps prompt names to
    files; without a mapping the name is the file), then, for a number, its recording
    `sound:acd117/numbers/<n>` (Asterisk has no Indonesian number rules; `make prompts`
    writes them). One playback, one PlaybackFinished: a multi-media playback sends
    PlaybackContinuing/PlaybackStarted between items [05]."""

    def media(prompt: str, number: int | None) -> list[str]:
        out = [f"sound:{(files or {}).get(prompt, prompt)}"]
        if number is not None:
            out.append("sound:" + NUMBER_SOUND.format(n=number))
        return out

    return media


default_prompt_media = prompt_media_for()
