"""The spool's files on disk: the private root, per-process directories, records, ``settled``.

Layout of a spool root (mode 0700, owned by the process's user)::

    <root>/<pid>-<hex8>/lock              flock-ed by its live process for as long as it runs
    <root>/<pid>-<hex8>/settled           the delivered position (segment, offset, crc32)
    <root>/<pid>-<hex8>/seg-<n:012d>.rec  segments of records (records.spool)
    <root>/dead/                          dead letters (pipeline.dead_letters)
    <root>/corrupt/                       files set aside: stray, corrupt, old pickle format

A process directory is made as ``.new-<pid>-<hex8>``, locked, then renamed: a directory with a
final name is always locked from birth, so a process adopting the directories of dead ones never
takes one that is being created. ``.new-`` directories older than a minute whose lock is free
(a process that died while creating one) are removed.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import os
import re
import shutil
import stat
import struct
import time
import uuid
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..exceptions import ImproperlyConfigured
from ..records import spool as records

log = logging.getLogger(__name__)

Position = tuple[int, int]  # (segment number, byte offset)
SEGMENT = re.compile(r"seg-(\d{12})\.rec")
LEGACY_SEGMENT = re.compile(r"seg-.*\.log")
PROCESS_DIR = re.compile(r"\d+-[0-9a-f]{8}")
NEW_PREFIX = ".new-"
RESERVED = {"dead", "corrupt"}
NEW_DIR_GRACE = 60.0  # seconds before an unlocked ``.new-`` directory counts as abandoned
_SETTLED = struct.Struct(">QQI")
_HEADER = records.HEADER


def check_root(path: Path) -> Path:
    """Create the spool root (0700), or check that an existing one is private to this user."""
    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        st = path.stat()
    except OSError as exc:
        raise ImproperlyConfigured(f"spool_dir {str(path)!r} cannot be created or read: {exc}") from None
    if not stat.S_ISDIR(st.st_mode):
        raise ImproperlyConfigured(f"spool_dir {str(path)!r} is not a directory")
    euid = os.geteuid()
    if st.st_uid != euid:
        raise ImproperlyConfigured(
            f"spool_dir {str(path)!r} is owned by uid {st.st_uid}, not by this process's uid {euid}: its files "
            f"could be planted by someone else. Run `chown {euid} {path}` (and `chmod 700 {path}`) or choose "
            "a spool_dir of your own"
        )
    if st.st_mode & 0o022:
        raise ImproperlyConfigured(
            f"spool_dir {str(path)!r} is writable by group or others (mode {stat.S_IMODE(st.st_mode):o}): run "
            f"`chmod 700 {path}`; the spool holds event data and must be private to the application"
        )
    if st.st_mode & 0o044:
        log.warning("spool_dir %s is readable by group or others (mode %o): run `chmod 700 %s`", path,
                    stat.S_IMODE(st.st_mode), path)  # fmt: skip
    return path


def segment_path(directory: Path, number: int) -> Path:
    return directory / f"seg-{number:012d}.rec"


def segment_number(path: Path) -> int | None:
    match = SEGMENT.fullmatch(path.name)
    return int(match.group(1)) if match else None


# -- locking and process directories ------------------------------------------------------------
def try_lock(path: Path, create: bool = False) -> int | None:
    """An fd holding an exclusive flock on ``path``; None if it is held elsewhere or is missing."""
    try:
        fd = os.open(path, os.O_RDWR | (os.O_CREAT if create else 0) | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


def make_process_dir(root: Path, pid: int | None = None) -> tuple[Path, int]:
    """A new directory of this process, locked before anyone can see it under its final name."""
    name = f"{os.getpid() if pid is None else pid}-{uuid.uuid4().hex[:8]}"
    staging = root / f"{NEW_PREFIX}{name}"
    staging.mkdir(mode=0o700)
    try:
        fd = os.open(staging / "lock", os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        final = root / name
        os.rename(staging, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return final, fd


def remove_dir(directory: Path) -> None:
    """Delete a process directory's files, then the directory (errors are ignored)."""
    shutil.rmtree(directory, ignore_errors=True)


# -- setting files aside ----------------------------------------------------------------------------
def set_aside(root: Path, path: Path, why: str, *, copy: bool = False) -> Path | None:
    """Move (or copy) ``path`` into ``<root>/corrupt/`` with an error line; its new path, or None."""
    aside = root / "corrupt"
    target = aside / f"{path.parent.name}-{path.name}-{uuid.uuid4().hex[:6]}".lstrip(".")
    try:
        aside.mkdir(exist_ok=True, mode=0o700)
        if copy:
            shutil.copyfile(path, target, follow_symlinks=False)
        else:
            os.rename(path, target)
    except OSError as exc:
        log.error("spool %s: %s; could not set it aside (%s)", path, why, exc)
        return None
    log.error("spool %s: %s; %s as %s", path, why, "a copy is kept" if copy else "set aside", target)
    return target


# -- settled positions --------------------------------------------------------------------------------
def pack_settled(position: Position) -> bytes:
    raw = struct.pack(">QQ", *position)
    return raw + struct.pack(">I", zlib.crc32(raw))


def read_settled(directory: Path) -> tuple[Position, bool]:
    """The delivered position a process recorded, and whether the file was sound (a missing file
    is sound: nothing was delivered yet)."""
    try:
        raw = (directory / "settled").read_bytes()
    except FileNotFoundError:
        return (1, 0), True
    except OSError:
        return (1, 0), False
    if len(raw) == 0:
        return (1, 0), True
    if len(raw) != _SETTLED.size:
        return (1, 0), False
    seg, off, crc = _SETTLED.unpack(raw)
    if zlib.crc32(raw[:16]) != crc or seg < 1:
        return (1, 0), False
    return (int(seg), int(off)), True


# -- reading records ----------------------------------------------------------------------------------
@dataclass
class Gap:
    """Bytes of a segment that hold no readable record (at least one record is lost there)."""

    start: int
    end: int
    why: str


def _resync(data: bytes, start: int) -> int | None:
    """The offset of the next sound record in ``data`` after ``start``, or None."""
    pos = start
    while True:
        pos = data.find(records.MAGIC, pos + 1)
        if pos < 0 or pos + _HEADER.size > len(data):
            return None
        _, length, crc = _HEADER.unpack_from(data, pos)
        body_end = pos + _HEADER.size + length
        if length > 0 and body_end <= len(data) and zlib.crc32(data[pos + _HEADER.size : body_end]) == crc:
            return pos


def scan(path: Path, offset: int = 0, end: int | None = None) -> Iterator[tuple[bytes, int] | Gap]:
    """Records of a segment from ``offset``: ``(payload, offset after it)``, or a :class:`Gap`
    where bytes are corrupt (reading resumes at the next sound record). Ends at ``end``, at the
    end of the file, or at a zero header (the preallocated rest, or a write that never committed)."""
    try:
        fh = open(path, "rb")  # noqa: SIM115 - closed below, also when the generator is dropped
    except FileNotFoundError:
        return
    with fh:
        fh.seek(offset)
        while end is None or offset < end:
            header = fh.read(_HEADER.size)
            if len(header) < _HEADER.size or header == bytes(_HEADER.size):
                if header.strip(b"\0"):
                    yield Gap(offset, offset + len(header), "truncated record")
                return
            magic, length, crc = _HEADER.unpack(header)
            body = fh.read(length) if magic == records.MAGIC else b""
            if magic == records.MAGIC and len(body) == length and zlib.crc32(body) == crc:
                offset += _HEADER.size + length
                yield body, offset
                continue
            why = "bad record header" if magic != records.MAGIC else "truncated record" if len(body) < length \
                else "checksum mismatch"  # fmt: skip
            fh.seek(offset)
            rest = fh.read() if end is None else fh.read(end - offset)
            found = _resync(rest, 0)
            if found is None:
                tail = rest.rstrip(b"\0")
                if tail:
                    yield Gap(offset, offset + len(tail), why)
                return
            yield Gap(offset, offset + found, why)
            offset += found
            fh.seek(offset)


def data_end(path: Path) -> int:
    """The offset after the last sound record of a segment (the rest is preallocated zeros)."""
    last = 0
    for item in scan(path):
        last = item.end if isinstance(item, Gap) else item[1]
    return last


def boundary_at_or_before(path: Path, offset: int) -> tuple[int, bool]:
    """The last record boundary <= ``offset`` and whether ``offset`` itself was one."""
    if offset == 0:
        return 0, True
    last = 0
    for item in scan(path, 0, None):
        after = item.end if isinstance(item, Gap) else item[1]
        if after > offset:
            break
        last = after
        if after == offset:
            return offset, True
    return last, False


def copy_records(source: Path, offset: int, target: Path) -> None:
    """Write the records of ``source`` from ``offset`` to its data end into a new file ``target``."""
    end = data_end(source)
    with open(source, "rb") as src, open(target, "xb") as dst:
        src.seek(offset)
        remaining = max(0, end - offset)
        while remaining:
            chunk = src.read(min(remaining, 1 << 20))
            if not chunk:
                break
            dst.write(chunk)
            remaining -= len(chunk)


def age(path: Path) -> float:
    try:
        return time.time() - path.lstat().st_mtime
    except OSError:
        return 0.0


def fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def is_space_error(exc: OSError) -> bool:
    return exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
