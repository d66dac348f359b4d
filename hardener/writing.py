"""Writing a fixed file: atomically (a temporary file in the same folder, then a rename), keeping
its mode, owner, extended attributes (ACLs are the system.posix_acl_* ones) and symlink, with Ctrl-C
held back until the file is whole. Just before the rename the file is read again: when its text is no
longer the text the fixes were computed on (an editor saved it, another run fixed it), nothing is
written (FileChanged). A file with several hard links is written in place instead of renamed over, so
that every name keeps seeing the same, fixed, text."""
from __future__ import annotations

import os
import signal
import tempfile
from typing import Callable


class FileChanged(OSError):
    """The file's content is not what the fixes were computed on: it changed while hardener ran."""


def encode(text: str, bom: bool) -> bytes:
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")


def _before_replace(path: str) -> None:
    """Called after the new text is on disk and before the file is checked and replaced; a seam for
    the test that changes the file at that very moment (nothing to do otherwise)."""


def write_atomic(path: str, data: bytes, unchanged: Callable[[bytes], bool] | None = None) -> None:
    """Replace the file's content in one rename; a symlink stays a link and its target is written;
    the file's permission bits, extended attributes and (where allowed) owner are kept. A file without
    write permission is refused (PermissionError), as an editor would, rather than replaced behind the
    user's back. `unchanged(current bytes)` is asked just before the rename; when it says no, the file
    is left as it is and FileChanged is raised. A hard-linked file (more than one name) is truncated and
    written in place after the same check, since a rename would leave the other names on the old text."""
    real = os.path.realpath(path)
    folder = os.path.dirname(real) or "."
    info = os.stat(real)
    if not os.access(real, os.W_OK) or not info.st_mode & 0o222:
        raise PermissionError(13, "the file is read-only", path)
    tmp = None
    blocked = _block_interrupts()  # Ctrl-C waits until the file is whole and the temp file gone
    try:
        if info.st_nlink > 1:
            _write_in_place(real, data, unchanged, path)
            return
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
        _copy_xattrs(real, tmp)
        _before_replace(path)
        _check_unchanged(real, unchanged, path)
        os.replace(tmp, real)
        tmp = None
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
        if blocked is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)


def _check_unchanged(real: str, unchanged, path: str) -> None:
    if unchanged is None:
        return
    with open(real, "rb") as fh:
        current = fh.read()
    if not unchanged(current):
        raise FileChanged(0, "changed while hardener ran; not written", path)


def _write_in_place(real: str, data: bytes, unchanged, path: str) -> None:
    """Rewrite a hard-linked file through its own inode: checked, truncated and written with the file
    open, so every link sees the new text (not atomic: a crash in between can leave it short, which is
    why only hard-linked files are written this way)."""
    _before_replace(path)
    with open(real, "r+b") as fh:
        current = fh.read()
        if unchanged is not None and not unchanged(current):
            raise FileChanged(0, "changed while hardener ran; not written", path)
        fh.seek(0)
        fh.write(data)
        fh.truncate()
        fh.flush()
        os.fsync(fh.fileno())


def _copy_xattrs(source: str, target: str) -> None:
    """Copy extended attributes (user.*, security.*, and POSIX ACLs, stored as system.posix_acl_*);
    those this process may not set (trusted.* without root, a file system without xattrs) are
    skipped: the content is what matters."""
    if not hasattr(os, "listxattr"):
        return
    try:
        names = os.listxattr(source)
    except OSError:
        return
    for name in names:
        try:
            os.setxattr(target, name, os.getxattr(source, name))
        except OSError:
            pass


def _block_interrupts():
    """Block SIGINT/SIGTERM for a moment (POSIX, main thread); returns the mask to restore."""
    import threading

    if not hasattr(signal, "pthread_sigmask") or threading.current_thread() is not threading.main_thread():
        return None
    return signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
