"""Follow an Asterisk queue_log file and post new lines, resuming after a restart.

The position (inode and byte offset) is saved after each accepted batch, so a
restart sends nothing twice and loses nothing; a rotated file is read from its
start. The webhook-id is derived from the position, so a retried batch is
recognised by the server as the same delivery.
"""

import hashlib
import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from citizencenter.integrations.signatures import sign

Poster = Callable[[str, bytes], None]  # (webhook id, body) -> None, raises on failure


class DeliveryFailed(RuntimeError):
    pass


def http_poster(url: str, token: str, secret: str, timeout: float = 10) -> Poster:
    def post(webhook_id: str, body: bytes) -> None:
        timestamp = int(time.time())
        request = urllib.request.Request(url, data=body, method="POST", headers={
            "Content-Type": "text/plain; charset=utf-8",
            "Authorization": f"Bearer {token}",
            "webhook-id": webhook_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(secret, webhook_id, timestamp, body),
        })
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                response.read()
        except urllib.error.HTTPError as exc:
            # A 4xx other than for the whole batch's lines is not worth retrying forever.
            raise DeliveryFailed(f"HTTP {exc.code}") from None
        except OSError as exc:
            raise DeliveryFailed(type(exc).__name__) from None

    return post


class QueueLogFollower:
    def __init__(self, log_path: Path, state_path: Path, post: Poster, batch_lines: int = 500):
        self.log_path, self.state_path, self.post = Path(log_path), Path(state_path), post
        self.batch_lines = batch_lines

    def _load_state(self) -> dict:
        try:
            return json.loads(self.state_path.read_text())
        except (FileNotFoundError, ValueError):
            return {"inode": None, "offset": 0}

    def _save_state(self, inode: int, offset: int) -> None:
        temporary = self.state_path.with_suffix(".tmp")
        temporary.write_text(json.dumps({"inode": inode, "offset": offset}))
        os.replace(temporary, self.state_path)

    def poll_once(self) -> int:
        """Send every complete new line; return how many were sent."""
        try:
            stat = self.log_path.stat()
        except FileNotFoundError:
            return 0
        state = self._load_state()
        offset = state["offset"]
        if state["inode"] != stat.st_ino or stat.st_size < offset:
            offset = 0  # a new or rotated file
        sent = 0
        with open(self.log_path, "rb") as log:
            log.seek(offset)
            while True:
                lines = []
                for _ in range(self.batch_lines):
                    line = log.readline()
                    if not line.endswith(b"\n"):
                        break  # an unfinished line waits for the next poll
                    lines.append(line)
                if not lines:
                    break
                body = b"".join(lines)
                webhook_id = "ql_" + hashlib.sha256(
                    f"{stat.st_ino}:{offset}:{len(body)}".encode()).hexdigest()[:32]
                self.post(webhook_id, body)
                offset += len(body)
                self._save_state(stat.st_ino, offset)
                sent += len(lines)
        return sent

    def run(self, interval: float = 1.0, should_stop: Callable[[], bool] = lambda: False
            ) -> None:
        backoff = interval
        while not should_stop():
            try:
                self.poll_once()
                backoff = interval
            except DeliveryFailed:
                backoff = min(backoff * 2, 60)
            time.sleep(backoff)
