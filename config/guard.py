"""Refuse hostile or broken YAML before PyYAML builds anything from it.

PyYAML's composer is recursive and expands nothing itself, but the loader walks the node
graph it returns, so an alias bomb (a "billion laughs": anchors of anchors) is expanded to
billions of values, a recursive alias never ends, and a few thousand nested brackets
overflow Python's stack. The event stream (`yaml.parse`) is flat and lazy, so one pass over
it measures what the document would grow to, and how deep it goes, in memory proportional
to the number of anchors: nothing is built until the document is known to be reasonable.
"""

from __future__ import annotations

from dataclasses import dataclass

import yaml

# Generous for call flows (the national example is ~3,000 values and 6 levels deep), far
# below what makes a check or a reload slow or large.
MAX_BYTES = 8 * 1024 * 1024
MAX_DEPTH = 64
MAX_NODES = 500_000


@dataclass(frozen=True)
class Refusal:
    line: int  # 1-based
    column: int  # 1-based
    message: str


def _where(text: str, index: int) -> tuple[int, int]:
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def refuse(text: str) -> Refusal | None:
    """The first reason not to load `text`, with its place; None when it is safe to
    compose."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        return Refusal(1, 1, f"the file is larger than {MAX_BYTES // (1024 * 1024)} MiB; "
                             "a call-flow file is a few hundred kB at most")
    nul = text.find("\0")
    if nul >= 0:
        line, col = _where(text, nul)
        return Refusal(line, col, "a NUL character (\\0) is not allowed in YAML; "
                                  "the file may be binary or damaged")
    sizes: dict[str, int] = {}  # anchor -> how many values it expands to
    heights: dict[str, int] = {}  # anchor -> how many levels deep it is inside
    open_anchors: list[str | None] = []  # anchors of the collections being read
    counts: list[int] = [0]  # values so far per open collection (index 0: the document)
    deepest: list[int] = [0]  # the deepest level reached in each, aliases expanded
    total = 0
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            mark = event.start_mark
            line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
            if isinstance(event, yaml.AliasEvent):
                name = event.anchor or ""
                if name in open_anchors:
                    return Refusal(line, col,
                                   f"the alias *{name} refers to the block it is in "
                                   "(a recursive alias)")
                grown = sizes.get(name, 1)
                # An alias nests its anchor's levels here: depth multiplies like size.
                reach = len(open_anchors) + heights.get(name, 0)
                if reach > MAX_DEPTH:
                    return Refusal(line, col,
                                   f"blocks are nested more than {MAX_DEPTH} deep "
                                   f"once *{name} is expanded")
                deepest[-1] = max(deepest[-1], reach)
            elif isinstance(event, yaml.ScalarEvent):
                grown = 1
                if event.anchor:
                    sizes[event.anchor] = 1
            elif isinstance(event, yaml.CollectionStartEvent):
                if len(open_anchors) >= MAX_DEPTH:
                    return Refusal(line, col,
                                   f"blocks are nested more than {MAX_DEPTH} deep")
                open_anchors.append(event.anchor)
                counts.append(1)
                deepest.append(len(open_anchors))
                continue
            elif isinstance(event, yaml.CollectionEndEvent):
                level = len(open_anchors)
                anchor, grown, reach = open_anchors.pop(), counts.pop(), deepest.pop()
                if anchor:
                    sizes[anchor] = grown
                    heights[anchor] = reach - level + 1
                counts[-1] += grown
                deepest[-1] = max(deepest[-1], reach)
                continue
            else:
                continue
            counts[-1] += grown
            total += grown
            if total > MAX_NODES:
                return Refusal(line, col,
                               f"the file expands to more than {MAX_NODES:,} values "
                               "(aliases of aliases: an alias bomb?)")
    except yaml.MarkedYAMLError:
        return None  # composing reports it with its place, as for any broken YAML
    except yaml.YAMLError as e:  # ReaderError (a control character): no mark, a position
        position = getattr(e, "position", 0)
        line, col = _where(text, position)
        return Refusal(line, col, f"not valid YAML: {e}")
    return None
