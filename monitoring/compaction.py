"""Folding a dead process's counters into one archive file per directory.

prometheus-client's multiprocess mode keeps one file per process and type (`counter_<pid>.db`,
`histogram_<pid>.db`): a counter must outlive its process, or its total would fall when the
process goes. gunicorn replaces each worker after GUNICORN_MAX_REQUESTS requests, so a busy
site leaves a few files a minute, thousands a day, and every scrape reads all of them.

When a worker exits, gunicorn's master (config/gunicorn.conf.py, child_exit) folds the worker's
values into the directory's archive files (`counter_0.db`, `histogram_0.db`, `gauge_max_0.db`…:
no process has id 0), each type combined as the scrape combines it, and removes the worker's:
/metrics reports the same figures, and the directory holds the live workers' files and one
archive per type. Not folded: a live gauge leaves with its process (mark_process_dead), and an
"all" gauge is labelled by pid on purpose.

The archive is written to a temporary name and renamed over the old one, and the dead files
are removed, under an exclusive lock that /metrics takes shared while it reads
(monitoring.views): a scrape sees the values before the fold or after it, never both.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from prometheus_client.mmap_dict import MmapedDict

# File type → how two processes' values of one key combine (as MultiProcessCollector.merge
# does): counters, histograms and summed gauges add up; max/min gauges keep the larger/smaller;
# a "most recent" gauge keeps the value written last.
FOLDED_TYPES = ("counter", "histogram", "gauge_sum", "gauge_max", "gauge_min",
                "gauge_mostrecent")
ARCHIVE_PID = 0
LOCK_NAME = ".fold.lock"


@contextmanager
def folding_lock(directory: str | Path, *, exclusive: bool) -> Iterator[None]:
    """The directory's lock: shared to read every file, exclusive to fold. A reader that may
    not create the lock file (another service's directory, read-only to it) reads unlocked."""
    path = Path(directory) / LOCK_NAME
    try:
        handle = open(path, "a+b")  # noqa: SIM115 — closed below
    except OSError:
        if exclusive:
            raise
        yield
        return
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _values(path: Path) -> dict[str, tuple[float, float]]:
    if not path.exists():
        return {}
    return {key: (value, timestamp) for key, value, timestamp, _position in
            MmapedDict.read_all_values_from_file(str(path))}  # type: ignore[no-untyped-call]


def _combine(kind: str, kept: tuple[float, float] | None,
             dead: tuple[float, float]) -> tuple[float, float]:
    if kept is None:
        return dead
    if kind == "gauge_max":
        return max(kept, dead)
    if kind == "gauge_min":
        return min(kept, dead)
    if kind == "gauge_mostrecent":
        return max(kept, dead, key=lambda pair: pair[1])
    return (kept[0] + dead[0], max(kept[1], dead[1]))


def fold_dead_process(directory: str | Path, pid: int) -> int:
    """Fold the dead process `pid`'s values into the archive files of `directory` and remove
    its files; returns how many files were folded."""
    directory = Path(directory)
    if pid == ARCHIVE_PID:
        return 0
    folded = 0
    with folding_lock(directory, exclusive=True):
        for kind in FOLDED_TYPES:
            dead = directory / f"{kind}_{pid}.db"
            if not dead.exists():
                continue
            archive = directory / f"{kind}_{ARCHIVE_PID}.db"
            totals = _values(archive)
            for key, (value, timestamp) in _values(dead).items():
                totals[key] = _combine(kind, totals.get(key), (value, timestamp))
            # Not named *.db until it is whole: a reader globs *.db.
            partial = directory / f".{kind}_{ARCHIVE_PID}.db.partial"
            partial.unlink(missing_ok=True)
            written = MmapedDict(str(partial))  # type: ignore[no-untyped-call]
            try:
                for key, (value, timestamp) in totals.items():
                    written.write_value(key, value, timestamp)  # type: ignore[no-untyped-call]
            finally:
                written.close()  # type: ignore[no-untyped-call]
            os.replace(partial, archive)
            dead.unlink()
            folded += 1
    return folded
