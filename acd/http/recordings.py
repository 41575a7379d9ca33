"""`/api/recordings`: search recordings by caller number, date range, agent and centre;
play or download a file from the recordings directory (`ACD117_RECORDINGS_DIR`).

Supervisors and admins only (401 without a session, 403 for agents). Every access, refused
ones included, is written to the audit log: searches with their criteria, each play and
download with the file.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web

from acd.domain.callers import parse_caller
from acd.http.auth import audit, daemon_of, database_of, json_error, require
from acd.http.inputs import attachment, clean, in_range, query_text, time_zone
from acd.http.openapi import (
    EXTRA_PATHS,
    LOCAL_TIME,
    QUERY_TEXT,
    TIME_ZONE_REF,
    _err,
    _json,
    _op,
    _query,
)
from acd.service.users import Session
from acd.vocabulary.localtime import WIB, zone_of

MAX_ROWS = 500
AUDIO_TYPES = {"wav": "audio/wav", "mp3": "audio/mpeg"}


def recording_id(path: str) -> str:
    return base64.urlsafe_b64encode(path.encode()).decode().rstrip("=")


def _path_of(rec_id: str) -> str:
    try:
        path = base64.urlsafe_b64decode(rec_id + "=" * (-len(rec_id) % 4)).decode()
    except (binascii.Error, ValueError):  # not base64 (a non-ASCII id) or not UTF-8
        raise json_error(404, "no such recording") from None
    if not clean(path):
        raise json_error(404, "no such recording")
    return path


async def _guard(request: web.Request, action: str, target: str | None = None) -> Session:
    """Supervisors and admins; a refused attempt is audited too."""
    try:
        return await require(request, "supervisor", "admin")
    except web.HTTPUnauthorized:
        await audit(request, None, action, "denied", target=target)
        raise


def _day(text: str, tz: str, end: bool) -> datetime:
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone_of(tz))
    if end and len(text) == 10:  # a date: the whole day is included
        value += timedelta(days=1)
    return value


async def search(request: web.Request) -> web.Response:
    q = request.query
    criteria = {k: q[k] for k in ("number", "from", "to", "agent", "centre", "class")
                if q.get(k)}
    session = await _guard(request, "recording.search")
    for k in criteria:
        query_text(request, k)
    tz = time_zone(request, WIB)
    where: list[str] = []
    args: list[object] = []
    try:
        if "from" in criteria:
            args.append(_day(criteria["from"], tz, end=False))
            where.append(f"started_at >= ${len(args)}")
        if "to" in criteria:
            args.append(_day(criteria["to"], tz, end=True))
            where.append(f"started_at < ${len(args)}")
    except (ValueError, OverflowError):
        raise json_error(400, "'from' and 'to' are dates or date-times") from None
    in_range(*(a for a in args if isinstance(a, datetime)))
    if "number" in criteria:
        number = criteria["number"]
        e164 = parse_caller(number).e164
        args.append(number)
        clause = f"(caller = ${len(args)}"
        if e164:
            args.append(e164)
            clause += f" OR caller_e164 = ${len(args)}"
        where.append(clause + ")")
    if "agent" in criteria:
        args.append(criteria["agent"])
        where.append(f"agent_id = ${len(args)}")
    if "centre" in criteria:
        args.append(criteria["centre"])
        where.append(f"centre_id = ${len(args)}")
    if "class" in criteria:  # how the call taker classified the call (sql/012)
        args.append(criteria["class"])
        where.append(f"call_id IN (SELECT call_id FROM call_classes WHERE code = ${len(args)})")
    sql = ("SELECT path, call_id, agent_id, centre_id, format, started_at, duration_s, "
           "size_bytes, sha256, caller, caller_e164, service, region_code FROM "
           "recording_search" + (" WHERE " + " AND ".join(where) if where else "") +
           f" ORDER BY started_at DESC LIMIT {MAX_ROWS}")
    pool = await database_of(request).pool()
    rows = await pool.fetch(sql, *args)
    await audit(request, session.user, "recording.search", "ok",
                detail={**criteria, "results": len(rows)})
    out = []
    for r in rows:
        rid = recording_id(r["path"])
        out.append({
            "id": rid, "call_id": r["call_id"], "caller": r["caller"],
            "caller_e164": r["caller_e164"], "agent_id": r["agent_id"],
            "centre_id": r["centre_id"], "service": r["service"], "format": r["format"],
            "started_at": r["started_at"].isoformat(), "duration_s": r["duration_s"],
            "size_bytes": r["size_bytes"], "sha256": r["sha256"],
            "play_url": f"/api/recordings/{rid}/audio",
            "download_url": f"/api/recordings/{rid}/download"})
    return web.json_response({"recordings": out, "truncated": len(rows) == MAX_ROWS})


async def _file(request: web.Request, download: bool) -> web.StreamResponse:
    action = "recording.download" if download else "recording.play"
    rel = _path_of(request.match_info["rec_id"])
    session = await _guard(request, action, rel)
    pool = await database_of(request).pool()
    row = await pool.fetchrow("SELECT path, format, call_id FROM recordings WHERE path = $1",
                              rel)
    root = Path(daemon_of(request).settings.recordings_dir).resolve()
    file = (root / rel).resolve() if row is not None else None
    if file is None or not file.is_relative_to(root) or not file.is_file():
        await audit(request, session.user, action, "missing", target=rel)
        raise json_error(404, "no such recording")
    await audit(request, session.user, action, "ok", target=rel,
                detail={"call_id": row["call_id"] if row else None})
    headers = {"Content-Type": AUDIO_TYPES.get(row["format"] if row else "",
                                               "application/octet-stream"),
               "Cache-Control": "no-store"}
    disposition = "attachment" if download else "inline"
    headers["Content-Disposition"] = attachment(disposition, file.name)
    return web.FileResponse(file, headers=headers)


async def play(request: web.Request) -> web.StreamResponse:
    return await _file(request, download=False)


async def download(request: web.Request) -> web.StreamResponse:
    return await _file(request, download=True)


_ID = {"name": "rec_id", "in": "path", "required": True, "schema": {"type": "string"},
       "description": "the `id` from a search"}
_AUDIO: dict[str, Any] = {"description": "the audio file (Range requests supported)",
                          "content": {"audio/wav": {}, "audio/mpeg": {}}}
EXTRA_PATHS.update({
    "/api/recordings": {"get": _op(
        "search recordings (supervisor, admin; audited)", "recordings",
        {"200": _json({"type": "object", "properties": {"recordings": {"type": "array"},
                                                        "truncated": {"type": "boolean"}}}),
         "400": _err("bad dates")}, auth=True,
        params=[_query("number", "caller number, any format", QUERY_TEXT),
                _query("from", "date or date-time (local)", LOCAL_TIME),
                _query("to", "date or date-time (local; a date includes the day)", LOCAL_TIME),
                _query("agent", "agent id", QUERY_TEXT),
                _query("centre", "centre id", QUERY_TEXT),
                _query("class", "the call's wrap-up class (e.g. emergency, prank)", QUERY_TEXT),
                _query("tz", "time zone of dates (default Asia/Jakarta)", TIME_ZONE_REF)])},
    "/api/recordings/{rec_id}/audio": {"get": _op(
        "play a recording (supervisor, admin; audited)", "recordings",
        {"200": _AUDIO, "404": _err("no such recording")}, auth=True, params=[_ID])},
    "/api/recordings/{rec_id}/download": {"get": _op(
        "download a recording (supervisor, admin; audited)", "recordings",
        {"200": _AUDIO, "404": _err("no such recording")}, auth=True, params=[_ID])},
})


def setup(app: web.Application) -> None:
    app.router.add_get("/api/recordings", search)
    app.router.add_get("/api/recordings/{rec_id}/audio", play)
    app.router.add_get("/api/recordings/{rec_id}/download", download)
