"""Asterisk queue_log lines (epoch|uniqueid|queuename|agent|EVENT|data1|…) as call events.

Field meanings follow Asterisk's queue_log documentation; times in data fields are
seconds except RINGNOANSWER/RINGCANCELED, which report milliseconds.
"""

import hashlib
from datetime import UTC, datetime

from citizencenter.channels.phone.models import CallEventType as T
from citizencenter.channels.phone.schemas import caller_number

SOURCE = "asterisk"
# Events of one second are ordered by where they fall in a call's life.
_RANK = {"ENTERQUEUE": 0, "RINGNOANSWER": 1, "RINGCANCELED": 1, "CONNECT": 2,
         "ABANDON": 3, "EXITWITHTIMEOUT": 3, "EXITEMPTY": 3, "EXITWITHKEY": 3,
         "TRANSFER": 4, "BLINDTRANSFER": 4, "ATTENDEDTRANSFER": 4,
         "COMPLETEAGENT": 5, "COMPLETECALLER": 5}


class LineRejected(ValueError):
    pass


def _number(value: str, field: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise LineRejected(f"{field} is not a number") from None
    if number < 0:
        raise LineRejected(f"{field} is negative")
    return number


def _data(fields: list[str], index: int, name: str) -> float:
    if len(fields) <= index:
        raise LineRejected(f"{name} is missing")
    return _number(fields[index], name)


def parse_line(line: str) -> dict:
    """One queue_log line as a normalised call event (raises LineRejected)."""
    parts = line.rstrip("\r\n").split("|")
    if len(parts) < 5:
        raise LineRejected("fewer than 5 fields")
    epoch, uniqueid, queue, agent, event, data = parts[0], parts[1], parts[2], parts[3], \
        parts[4], parts[5:]
    try:
        occurred_at = datetime.fromtimestamp(int(epoch.split(".")[0]), UTC)
    except (ValueError, OverflowError, OSError):
        raise LineRejected("epoch is not a timestamp") from None
    if not uniqueid or not event:
        raise LineRejected("uniqueid or event is empty")
    agent = None if agent in ("", "NONE") else agent
    queue = None if queue in ("", "NONE") else queue
    kind, metrics, caller = _translate(event, data)
    return {
        "event_id": hashlib.sha256(line.rstrip("\r\n").encode()).hexdigest()[:40],
        "source": SOURCE,
        "type": kind,
        "occurred_at": occurred_at,
        "sequence": _RANK.get(event, 9),
        "call_id": uniqueid,
        "queue": queue,
        "agent": agent,
        "caller": caller,
        "metrics": metrics,
        "raw": line.rstrip("\r\n"),
    }


def _translate(event: str, d: list[str]) -> tuple[T, dict, str | None]:
    if event == "ENTERQUEUE":  # url|callerid|position
        return T.QUEUED, {}, _caller(d[1] if len(d) > 1 else None)
    if event == "CONNECT":  # holdtime|bridgedchanneluniqueid|ringtime
        metrics = {"wait_s": _data(d, 0, "holdtime")}
        if len(d) > 2 and d[2]:
            metrics["ring_s"] = _number(d[2], "ringtime")
        return T.ANSWERED, metrics, None
    if event == "ABANDON":  # position|origposition|waittime
        return T.ABANDONED, {"wait_s": _data(d, 2, "waittime")}, None
    if event in ("EXITWITHTIMEOUT", "EXITEMPTY"):  # position|origposition|waittime
        reason = "timeout" if event == "EXITWITHTIMEOUT" else "empty"
        return T.EXITED, {"reason": reason, "wait_s": _data(d, 2, "waittime")}, None
    if event == "EXITWITHKEY":  # key|position|origposition|waittime
        return T.EXITED, {"reason": "key", "wait_s": _data(d, 3, "waittime")}, None
    if event in ("COMPLETEAGENT", "COMPLETECALLER"):  # holdtime|calltime|origposition
        return T.ENDED, {"wait_s": _data(d, 0, "holdtime"), "talk_s": _data(d, 1, "calltime"),
                         "ended_by": "agent" if event == "COMPLETEAGENT" else "caller"}, None
    if event in ("TRANSFER", "BLINDTRANSFER"):  # extension|context|holdtime|calltime|orig
        return T.TRANSFERRED, {"target": d[0] if d else "", "wait_s": _data(d, 2, "holdtime"),
                               "talk_s": _data(d, 3, "calltime")}, None
    if event == "ATTENDEDTRANSFER":  # method|target…|holdtime|calltime|origposition
        if len(d) < 4:
            raise LineRejected("ATTENDEDTRANSFER needs holdtime and calltime")
        return T.TRANSFERRED, {"target": d[1] if len(d) > 1 else "",
                               "wait_s": _number(d[-3], "holdtime"),
                               "talk_s": _number(d[-2], "calltime")}, None
    if event == "RINGNOANSWER":  # ringtime in ms
        return T.RING_NO_ANSWER, {"ring_s": _data(d, 0, "ringtime") / 1000}, None
    return T.IGNORED, {}, None  # RINGCANCELED, AGENTLOGIN, PAUSE, CONFIGRELOAD, …


def parse_lines(text: str) -> tuple[list[dict], list[dict]]:
    """Parse a queue_log excerpt into (events, rejected lines with their reasons)."""
    events, rejected = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            events.append(parse_line(line))
        except LineRejected as exc:
            rejected.append({"line": number, "reason": str(exc)})
    return events, rejected


def _caller(raw: str | None) -> str | None:
    """A malformed caller id is treated as unknown, not as a reason to drop the event."""
    try:
        return caller_number(raw)
    except ValueError:
        return None
