"""A bounded number of live streams per process, so open wallboards cannot take every web
thread: past the limit a client is told to come back later instead of waiting."""

import threading

from citizencenter.errors import AppError

RETRY_AFTER_S = 10


class StreamsFull(AppError):
    status, title, slug = 503, "Too many live streams", "streams-full"

    def __init__(self):
        super().__init__("Every live stream slot of this server is taken; try again later "
                         "or read /api/v1/dashboard/live.",
                         headers={"Retry-After": str(RETRY_AFTER_S)})


class StreamSlots:
    def __init__(self, size: int):
        self.size = size
        self._free = threading.BoundedSemaphore(size)

    def take(self) -> "Slot":
        """Hold a slot until the returned handle is released; raise StreamsFull when none."""
        if not self._free.acquire(blocking=False):
            raise StreamsFull()
        return Slot(self._free)


class Slot:
    """Released once, whichever comes first: the stream ends or the client goes away."""

    def __init__(self, semaphore: threading.BoundedSemaphore):
        self._semaphore, self._lock, self._held = semaphore, threading.Lock(), True

    def release(self) -> None:
        with self._lock:
            if self._held:
                self._held = False
                self._semaphore.release()
