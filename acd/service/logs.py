"""structlog setup: JSON lines in production, readable colours in a terminal.

Call and channel ids are bound as context (`bound_call`) so every line about a call can be
found by its id.
"""

from __future__ import annotations

import logging
import sys
from typing import Literal

import structlog


def configure_logging(fmt: Literal["console", "json"] = "console", level: str = "info") -> None:
    numeric = getattr(logging, level.upper(), logging.INFO)
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
    ]
    renderer: structlog.types.Processor
    if fmt == "json":
        shared.append(structlog.processors.format_exc_info)
        renderer = structlog.processors.JSONRenderer()
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    structlog.configure(
        processors=[*shared, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        # Look sys.stderr up whenever a logger is made, rather than pinning the stream that
        # was current at configuration (it may have been replaced and closed since).
        logger_factory=lambda *_args: structlog.PrintLogger(sys.stderr),
        cache_logger_on_first_use=False,
    )
    # The Asterisk adapters, panoramisk, aiohttp and asyncpg log through the standard
    # library: their lines go through the same processors, so every line has one format
    # (one JSON object per line with ACD117_LOG_FORMAT=json). acd117's own modules log at
    # the configured level; the libraries only their warnings.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.stdlib.add_logger_name, *shared],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer]))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(max(numeric, logging.WARNING))
    for ours in OWN_LOGGERS:
        logging.getLogger(ours).setLevel(numeric)


OWN_LOGGERS = ("acd", "ari", "escalation", "recording", "config")


def bound_call(call_id: str | None = None, channel: str | None = None) -> structlog.BoundLogger:
    """A logger with the call and channel ids bound (the adapters pass the channel)."""
    logger: structlog.BoundLogger = structlog.get_logger("acd117")
    return logger.bind(**{k: v for k, v in (("call_id", call_id), ("channel", channel)) if v})
