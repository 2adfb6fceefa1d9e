"""The mobile core's exception tree: every error the UI or the sync client must tell apart.

```
CoreError
├── StoreLocked            the store is not open (no PIN entered yet, or closed)
├── WrongPin               the PIN did not open the store; nothing was read
│   └── StoreWiped         ...and that was the last allowed attempt: the store is gone
├── LockedOut              too many recent failures; try again after ``retry_after`` seconds
├── NoStore                no store exists at this path (create one first)
├── StorageFull            the device refused the write (disk full / file too large); nothing changed
├── NotFound               no draft / report / attachment with that id
├── InvalidInput           a caller passed bad data; ``field`` names it
└── AttachmentCorrupt      an encrypted attachment failed authentication (tampered or truncated)
```
"""

from __future__ import annotations


class CoreError(Exception):
    """Base class of every error raised by ``peacewatch.mobile.core``."""


class StoreLocked(CoreError):
    """The store is closed; open it with the PIN first."""


class WrongPin(CoreError):
    """The PIN did not decrypt the store. ``failures`` counts consecutive failures so far."""

    def __init__(self, failures: int, remaining: int, retry_after: float) -> None:
        self.failures = failures
        self.remaining = remaining
        self.retry_after = retry_after
        super().__init__(
            f"wrong PIN ({failures} failed attempt(s); {remaining} left before the store is wiped; "
            f"next attempt allowed in {retry_after:.0f} s)"
        )


class StoreWiped(WrongPin):
    """The allowed number of PIN failures was reached and the store was destroyed."""

    def __init__(self, failures: int) -> None:
        CoreError.__init__(self, f"wrong PIN {failures} times: the local store has been wiped")
        self.failures = failures
        self.remaining = 0
        self.retry_after = 0.0


class LockedOut(CoreError):
    """A PIN attempt came before the back-off delay after the last failure had passed."""

    def __init__(self, retry_after: float) -> None:
        self.retry_after = retry_after
        super().__init__(f"too many wrong PINs: try again in {retry_after:.0f} s")


class NoStore(CoreError):
    """There is no store at the given path."""


class StorageFull(CoreError):
    """The device could not write (no space left, or file size limit); the previous state is intact."""


class NotFound(CoreError):
    """No object with the given id exists locally."""


class InvalidInput(CoreError, ValueError):
    """Bad data from a caller; ``field`` names the offending argument or field."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"{field}: {message}")


class AttachmentCorrupt(CoreError):
    """An attachment file failed authenticated decryption (tampered, reordered or truncated)."""
