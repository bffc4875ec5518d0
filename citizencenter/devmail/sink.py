"""The local SMTP sink of the embedded run: accepts every message on loopback and keeps
it under instance/mail/ (devmail.store), so nothing leaves the machine and no send waits
on a server that is not there. `python -m citizencenter.devmail.sink --port P --dir D`."""

import argparse
import signal
import threading
from pathlib import Path

from aiosmtpd.controller import Controller

from citizencenter.devmail import store


class Keeper:
    """aiosmtpd handler: every accepted message becomes one .eml file."""

    def __init__(self, directory: Path):
        self.directory = directory

    async def handle_DATA(self, server, session, envelope):
        store.keep(self.directory, envelope.original_content or envelope.content)
        return "250 Message kept"


def start(directory: Path, port: int, host: str = "127.0.0.1") -> Controller:
    """Start the sink in a thread of this process; `.stop()` ends it."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    controller = Controller(Keeper(directory), hostname=host, port=port)
    controller.start()
    return controller


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args(argv)
    stopped = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopped.set())
    controller = start(args.dir, args.port, args.host)
    print(f"mail sink on {args.host}:{args.port}, keeping mail in {args.dir}", flush=True)
    try:
        stopped.wait()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
