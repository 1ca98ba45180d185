"""LiveKit's native runtime and the end of the process.

The LiveKit SDK runs a Rust runtime whose threads call back into Python (its log records).
One doing so while the interpreter finalizes is ended by Python with pthread_exit, which cannot
unwind through Rust, and the process aborts (exit 134, "panic in a function that cannot
unwind") after an otherwise clean shutdown. A process that used the runtime therefore disposes
of it and leaves without finalizing the interpreter; one that never used it exits as usual.
"""

from __future__ import annotations

import logging
import os
import sys


def leave_if_native_runtime_ran(status: int) -> None:
    """Dispose of LiveKit's runtime and exit with `status` now, if it ever started; else return.

    Call it last: nothing after it runs, and atexit handlers are skipped (logs are flushed).
    """
    # looked up, not imported: a process that never used LiveKit must not load it here
    ffi = sys.modules.get("livekit.rtc._ffi_client")
    if ffi is None or ffi.FfiClient._instance is None:
        return
    ffi.FfiClient._instance._dispose()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
