"""Progress and events on stderr: plain lines for people, JSON lines for log collectors.

Nothing logged here may carry a full person ID or bank account: messages pass through the
same masking as exports.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime

from fundwatch.report.mask import mask_text

_FORMAT = {"value": "text"}


def set_format(fmt: str) -> None:
    _FORMAT["value"] = fmt


def emit(message: str, *, event: str = "progress", level: str = "info", **fields) -> None:
    message = mask_text(message)
    if _FORMAT["value"] == "json":
        record = {"time": datetime.now().isoformat(timespec="seconds"), "level": level, "event": event,
                  "message": message, **{k: mask_text(v) if isinstance(v, str) else v for k, v in fields.items()}}
        print(json.dumps(record, ensure_ascii=False, default=str), file=sys.stderr, flush=True)
    elif event == "progress" and level == "info":
        # Progress is for people watching: one self-overwriting status line on a terminal,
        # nothing in cron mail or a log file.
        if sys.stderr.isatty():
            print("\r\033[K" + message[:200], end="", file=sys.stderr, flush=True)
    else:
        if sys.stderr.isatty():
            print("\r\033[K", end="", file=sys.stderr)
        print(message, file=sys.stderr, flush=True)
