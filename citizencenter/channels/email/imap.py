"""A small IMAP client for polling one folder by UID (RFC 3501, MOVE from RFC 6851)."""

import contextlib
import imaplib
import re
from collections.abc import Iterator

from citizencenter.channels.email.settings import Mailbox

PROCESSED_KEYWORD = "$CitizenCenter"
QUARANTINED_KEYWORD = "$Quarantined"
_SIZE = re.compile(rb"UID (\d+) RFC822\.SIZE (\d+)|RFC822\.SIZE (\d+) UID (\d+)")


class ImapError(Exception):
    """The server could not be reached or refused a command; the text names no person."""


def _quote(folder: str) -> str:
    if not folder.isascii():
        raise ImapError("folder names must be ASCII")
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


class ImapFolder:
    """One selected folder of one mailbox; use as a context manager."""

    def __init__(self, mailbox: Mailbox, timeout: float):
        self.mailbox = mailbox
        self.timeout = timeout
        self.conn: imaplib.IMAP4 | None = None
        self.uidvalidity: int | None = None
        self.capabilities: set[str] = set()

    def __enter__(self) -> "ImapFolder":
        m = self.mailbox
        try:
            cls = imaplib.IMAP4_SSL if m.ssl else imaplib.IMAP4
            self.conn = cls(m.host, m.port, timeout=self.timeout)
            self.conn.login(m.user, m.password)
            # Servers list more after login (e.g. MOVE) than in their greeting.
            self.capabilities = set(b" ".join(self._check(self.conn.capability(), "capability"))
                                    .decode("ascii", "replace").upper().split())
            self._check(self.conn.select(_quote(m.folder)), "select")
            self.uidvalidity = int(self.conn.response("UIDVALIDITY")[1][0])
            for folder in (m.processed_folder, m.quarantine_folder):
                if folder:
                    self.conn.create(_quote(folder))  # "already exists" is fine
        except (OSError, imaplib.IMAP4.error, TypeError, ValueError) as exc:
            self.__exit__()
            raise ImapError(f"{type(exc).__name__} while opening the folder") from None
        return self

    def __exit__(self, *_exc) -> None:
        if self.conn is not None:
            with contextlib.suppress(OSError, imaplib.IMAP4.error):
                self.conn.logout()
            self.conn = None

    @staticmethod
    def _check(result: tuple, what: str) -> list:
        status, data = result
        if status != "OK":
            raise ImapError(f"{what} refused")
        return data

    def _uid(self, *args) -> list:
        try:
            return self._check(self.conn.uid(*args), args[0].lower())
        except (OSError, imaplib.IMAP4.error) as exc:
            raise ImapError(f"{type(exc).__name__} in {args[0]}") from None

    def new_messages(self, after_uid: int, limit: int) -> Iterator[tuple[int, int]]:
        """(uid, size) of messages with a UID above after_uid, oldest first."""
        data = self._uid("SEARCH", f"UID {after_uid + 1}:*")
        uids = sorted(int(u) for u in b" ".join(d for d in data if d).split()
                      if int(u) > after_uid)[:limit]  # "n:*" also matches the highest UID
        for uid in uids:
            yield uid, self._size(uid)

    def _size(self, uid: int) -> int:
        for item in self._uid("FETCH", str(uid), "(RFC822.SIZE)"):
            line = item[0] if isinstance(item, tuple) else item
            match = _SIZE.search(line or b"")
            if match and int(match.group(1) or match.group(4)) == uid:
                return int(match.group(2) or match.group(3))
        raise ImapError("no size for message")

    def fetch(self, uid: int) -> bytes:
        """The raw message, leaving \\Seen alone until it is stored."""
        for item in self._uid("FETCH", str(uid), "(BODY.PEEK[])"):
            if isinstance(item, tuple) and b"BODY[]" in item[0]:
                return item[1]
        raise ImapError("message vanished")

    def mark(self, uid: int, *, quarantined: bool) -> None:
        """Move to the configured folder, or flag with our keyword."""
        folder = self.mailbox.quarantine_folder if quarantined \
            else self.mailbox.processed_folder
        if folder and "MOVE" in self.capabilities:
            self._uid("MOVE", str(uid), _quote(folder))
            return
        flags = QUARANTINED_KEYWORD if quarantined else f"\\Seen {PROCESSED_KEYWORD}"
        self._uid("STORE", str(uid), "+FLAGS", f"({flags})")
