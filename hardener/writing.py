"""Writing a fixed file: atomically (a temporary file in the same folder, then a rename), keeping
its mode, owner and symlink, with Ctrl-C held back until the file is whole."""
from __future__ import annotations

import os
import signal
import tempfile


def encode(text: str, bom: bool) -> bytes:
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")


def write_atomic(path: str, data: bytes) -> None:
    """Replace the file's content in one rename; a symlink stays a link and its target is written;
    the file's permission bits and (where allowed) owner are kept. A file without write permission
    is refused (PermissionError), as an editor would, rather than replaced behind the user's back."""
    real = os.path.realpath(path)
    folder = os.path.dirname(real) or "."
    info = os.stat(real)
    if not os.access(real, os.W_OK) or not info.st_mode & 0o222:
        raise PermissionError(13, "the file is read-only", path)
    tmp = None
    blocked = _block_interrupts()  # Ctrl-C waits until the file is whole and the temp file gone
    try:
        fd, tmp = tempfile.mkstemp(prefix=".hardener-", dir=folder)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if hasattr(os, "chown") and (info.st_uid, info.st_gid) != (os.getuid(), os.getgid()):
            try:  # before chmod: chown clears set-id bits
                os.chown(tmp, info.st_uid, info.st_gid)
            except OSError:
                pass  # only root may give a file away; the content is what matters
        os.chmod(tmp, info.st_mode & 0o7777)
        os.replace(tmp, real)
        tmp = None
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
        if blocked is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)


def _block_interrupts():
    """Block SIGINT/SIGTERM for a moment (POSIX, main thread); returns the mask to restore."""
    import threading

    if not hasattr(signal, "pthread_sigmask") or threading.current_thread() is not threading.main_thread():
        return None
    return signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
