"""Adoption: a starting process takes over the undelivered segments of processes that are gone.

A process directory is adopted only when its lock can be taken (its process is gone; see
:mod:`.spool_files` for why a locked-from-birth directory is never taken while it is being
created). Its pending segments move into the adopting directory, oldest first: whole segments by
rename (trimmed to their last record, so preallocated zeros are not carried), the partly
delivered one by copying its records from the recorded position. Nothing found here can fail
start-up: stray files, junk names, other users' files, pickle segments of the previous format
and a corrupt ``settled`` file are set aside into ``corrupt/``, counted and logged.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
from pathlib import Path

from . import spool_files as files
from .stats import Counters

log = logging.getLogger(__name__)
LEGACY = ("a segment in the pickle format of otel-eventtracking < 0.2: refused, pickles can run code "
          "(nothing in it is replayed)")  # fmt: skip


def adopt(root: Path, into: Path, counters: Counters) -> list[Path]:
    """Move the pending segments of dead processes' directories into ``into``; the new paths."""
    adopted: list[Path] = []
    try:
        entries = list(os.scandir(root))
    except OSError as exc:
        log.error("spool %s: cannot list the directory (%s); nothing is adopted", root, exc)
        return adopted
    for entry in sorted(entries, key=_mtime):
        path = Path(entry.path)
        if path == into or entry.name in files.RESERVED:
            continue
        try:
            _adopt_entry(root, entry, into, adopted, counters)
        except OSError as exc:  # raced with another process, or an unreadable entry
            log.warning("spool %s: %s left alone (%s)", root, entry.name, exc)
    if adopted:
        log.warning("spool %s: replaying %d segment file(s) left by an earlier process", root, len(adopted))
    return adopted


def _mtime(entry: os.DirEntry[str]) -> float:
    try:
        return entry.stat(follow_symlinks=False).st_mtime
    except OSError:
        return 0.0


def _aside(root: Path, path: Path, why: str, counters: Counters) -> None:
    counters.add("spool_files_set_aside")
    files.set_aside(root, path, why)


def _adopt_entry(root: Path, entry: os.DirEntry[str], into: Path, adopted: list[Path], counters: Counters) -> None:
    path = Path(entry.path)
    st = entry.stat(follow_symlinks=False)
    if entry.name.startswith(files.NEW_PREFIX):
        _abandoned_staging(path)
        return
    if not stat.S_ISDIR(st.st_mode) or not files.PROCESS_DIR.fullmatch(entry.name):
        if files.age(path) > files.NEW_DIR_GRACE or not stat.S_ISDIR(st.st_mode):
            _aside(root, path, "not a spool process directory (a stray file or junk name)", counters)
        return
    if st.st_uid != os.geteuid() or st.st_mode & 0o022:
        _aside(root, path, f"owned by uid {st.st_uid} or writable by others: not read", counters)
        return
    fd = files.try_lock(path / "lock")
    if fd is None:
        if not (path / "lock").exists() and files.age(path) > files.NEW_DIR_GRACE:
            _aside(root, path, "a process directory without a lock file", counters)
        return  # a live process holds it (or it is being removed by one)
    try:
        _take_segments(root, path, into, adopted, counters)
        files.remove_dir(path)
    finally:
        os.close(fd)


def _abandoned_staging(path: Path) -> None:
    """A ``.new-`` directory whose creator died before renaming it: it never held records."""
    if files.age(path) <= files.NEW_DIR_GRACE:
        return
    fd = files.try_lock(path / "lock")
    if fd is None and (path / "lock").exists():
        return
    try:
        files.remove_dir(path)
    finally:
        if fd is not None:
            os.close(fd)


def _take_segments(root: Path, other: Path, into: Path, adopted: list[Path], counters: Counters) -> None:
    (settled_seg, settled_off), sound = files.read_settled(other)
    if not sound:
        counters.add("spool_settled_repaired")
        _aside(root, other / "settled", "a corrupt settled file: the whole directory is replayed (duplicates "
                                        "are possible, losses are not)", counters)  # fmt: skip
    segments: list[tuple[int, Path]] = []
    for item in other.iterdir():
        if item.name in ("lock", "settled"):
            continue
        number = files.segment_number(item)
        if number is None or not item.is_file() or item.is_symlink():
            legacy = files.LEGACY_SEGMENT.fullmatch(item.name) is not None
            why = LEGACY if legacy else "a stray file"
            _aside(root, item, why, counters)
            continue
        segments.append((number, item))
    for number, seg in sorted(segments):
        if number < settled_seg:
            with contextlib.suppress(OSError):
                seg.unlink()  # delivered before that process died
            continue
        target = files.segment_path(into, len(adopted) + 1)
        offset = settled_off if number == settled_seg else 0
        if offset:
            boundary, exact = files.boundary_at_or_before(seg, offset)
            if not exact:
                counters.add("spool_settled_repaired")
                log.error("spool %s: settled offset %d is not a record boundary; replaying from %d (duplicates "
                          "are possible, losses are not)", seg, offset, boundary)  # fmt: skip
            offset = boundary
        if offset:
            files.copy_records(seg, offset, target)
        else:
            end = files.data_end(seg)
            os.truncate(seg, end)  # a dead process's segment: give back the preallocated zeros
            os.rename(seg, target)
        if target.stat().st_size == 0:
            target.unlink()
            continue
        adopted.append(target)
