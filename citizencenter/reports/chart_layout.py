"""Where the service measurement's charts put their marks: plain geometry for the SVG the
report page draws server-side. No figure is computed here, only positions of given ones."""

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 16, 40


def _x(i: int, count: int) -> float:
    span = WIDTH - LEFT - RIGHT
    return round(LEFT + (span * i / (count - 1) if count > 1 else span / 2), 1)


def _y(value: float, top: float) -> float:
    span = HEIGHT - TOP - BOTTOM
    return round(HEIGHT - BOTTOM - span * min(max(value / top, 0), 1), 1)


def line_chart(labels: list[str], series: list[dict], top: float, ticks: list[float]) -> dict:
    """Series {"key", "values", "target", "higher_is_better"} over `labels`: polyline
    segments (gaps where a value is missing), points marked met or below target, the
    target line and the axis ticks, scaled to [0, top]."""
    count = len(labels)
    out = []
    for s in series:
        segments, current, points = [], [], []
        for i, value in enumerate(s["values"]):
            if value is None:
                if current:
                    segments.append(current)
                current = []
                continue
            x, y = _x(i, count), _y(value, top)
            current.append(f"{x},{y}")
            below = None if s["target"] is None else (
                value < s["target"] if s.get("higher_is_better", True) else value > s["target"])
            points.append({"x": x, "y": y, "below": below, "label": labels[i], "value": value})
        if current:
            segments.append(current)
        out.append({**s, "segments": [" ".join(seg) for seg in segments], "points": points,
                    "target_y": None if s["target"] is None else _y(s["target"], top)})
    step = max(1, count // 8)
    return {"width": WIDTH, "height": HEIGHT, "left": LEFT, "right": WIDTH - RIGHT,
            "top": TOP, "bottom": HEIGHT - BOTTOM, "series": out,
            "ticks": [{"y": _y(t, top), "value": t} for t in ticks],
            "x_labels": [{"x": _x(i, count), "label": labels[i]}
                         for i in range(0, count, step)]}


def histogram(bins: list[dict], marks: list[float]) -> dict:
    """Equal-width bars for bins {"from_hours", "to_hours", "n"}; a mark at a bin edge."""
    count, top = len(bins), max([b["n"] for b in bins] + [1])
    span = WIDTH - LEFT - RIGHT
    width = span / count
    bars, lines = [], []
    for i, b in enumerate(bins):
        y = _y(b["n"], top)
        bars.append({**b, "x": round(LEFT + i * width + 2, 1), "y": y,
                     "width": round(width - 4, 1), "height": round(HEIGHT - BOTTOM - y, 1),
                     "label_x": round(LEFT + (i + 0.5) * width, 1)})
        if b["from_hours"] in marks and i:
            lines.append({"x": round(LEFT + i * width, 1), "hours": b["from_hours"]})
    return {"width": WIDTH, "height": HEIGHT, "top": TOP, "bottom": HEIGHT - BOTTOM,
            "left": LEFT, "right": WIDTH - RIGHT, "bars": bars, "marks": lines, "max": top}


def heatmap(offered: list[list[int]], answered: list[list[int]], target: float | None
            ) -> dict:
    """7 weekday rows by the hours that had calls (at least 08–17): a cell per hour with
    its offered and answered calls, a shade step 0–4 by offered, and whether the share
    answered fell below `target`."""
    hours = [h for h in range(24) if any(offered[d][h] for d in range(7))]
    first, last = min(hours + [8]), max(hours + [16])
    columns = list(range(first, last + 1))
    top = max([max(row) for row in offered] + [1])
    cell_w, cell_h, left, head = 34, 30, 44, 22
    cells = []
    for d in range(7):
        for j, h in enumerate(columns):
            n, a = offered[d][h], answered[d][h]
            cells.append({"day": d, "hour": h, "x": left + j * cell_w, "y": head + d * cell_h,
                          "offered": n, "answered": a,
                          "shade": 0 if not n else 1 + min(3, int(4 * n / (top + 1))),
                          "below": bool(n) and target is not None and a / n < target})
    return {"width": left + len(columns) * cell_w + 4, "height": head + 7 * cell_h + 4,
            "cell_w": cell_w, "cell_h": cell_h, "left": left, "head": head,
            "hours": [{"hour": h, "x": left + j * cell_w + cell_w / 2}
                      for j, h in enumerate(columns)],
            "days": [{"day": d, "y": head + d * cell_h + cell_h / 2} for d in range(7)],
            "cells": cells, "columns": columns}
