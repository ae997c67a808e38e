"""Dead workers' metric files are folded into one archive per directory (monitoring.compaction):
the totals a scrape reports stay the same, and the files do not pile up."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.mmap_dict import MmapedDict, mmap_key

from monitoring.compaction import fold_dead_process, folding_lock
from monitoring.views import SharedDirectoriesCollector

REQUESTS = mmap_key("portal_requests_total", "portal_requests_total", ["view"], ["home"],
                    "Requests.")
SWEPT = mmap_key("portal_swept_total", "portal_swept_total", [], [], "Swept.")


def _write(path: Path, values: dict[str, float]) -> None:
    written = MmapedDict(str(path))
    for key, value in values.items():
        written.write_value(key, value, 0.0)
    written.close()


def _scrape(web: Path) -> bytes:
    registry = CollectorRegistry()
    SharedDirectoriesCollector(registry, str(web))
    return generate_latest(registry)


def test_folding_a_dead_worker_keeps_every_total_and_leaves_one_archive(tmp_path):
    web, worker = tmp_path / "web", tmp_path / "worker"
    web.mkdir()
    worker.mkdir()
    _write(web / "counter_101.db", {REQUESTS: 7.0})
    _write(web / "counter_102.db", {REQUESTS: 5.0, SWEPT: 1.0})
    _write(worker / "counter_101.db", {SWEPT: 2.0})  # another container may reuse the id
    before = _scrape(web)
    assert b'portal_requests_total{view="home"} 12.0' in before

    assert fold_dead_process(web, 101) == 1
    assert _scrape(web) == before
    assert sorted(path.name for path in web.glob("*.db")) == ["counter_0.db", "counter_102.db"]
    assert (worker / "counter_101.db").exists()  # only the named directory is touched

    _write(web / "counter_103.db", {REQUESTS: 1.0})  # the replacement worker, then it exits
    fold_dead_process(web, 102)
    fold_dead_process(web, 103)
    after = _scrape(web)
    assert b'portal_requests_total{view="home"} 13.0' in after
    assert b"portal_swept_total 3.0" in after
    assert [path.name for path in web.glob("*.db")] == ["counter_0.db"]


def test_a_worker_with_no_files_folds_nothing(tmp_path):
    assert fold_dead_process(tmp_path, 999) == 0
    assert not list(tmp_path.glob("*.db"))


def test_a_scrape_waits_for_a_fold_in_progress(tmp_path):
    web = tmp_path / "web"
    web.mkdir()
    _write(web / "counter_0.db", {SWEPT: 1.0})
    finished: list[float] = []

    def scrape() -> None:
        _scrape(web)
        finished.append(time.monotonic())

    with folding_lock(web, exclusive=True):
        reader = threading.Thread(target=scrape)
        reader.start()
        time.sleep(0.2)
        released = time.monotonic()
        assert not finished  # blocked behind the fold
    reader.join(5)
    assert finished and finished[0] >= released


def test_gauges_fold_as_the_scrape_combines_them(tmp_path):
    web = tmp_path / "web"
    web.mkdir()
    beat = mmap_key("portal_beat_seen", "portal_beat_seen", [], [], "Last beat.")
    peak = mmap_key("portal_peak", "portal_peak", [], [], "Peak.")
    for pid, (seen, stamp, high) in {201: (50.0, 2.0, 9.0), 202: (40.0, 1.0, 4.0),
                                     203: (30.0, 3.0, 6.0)}.items():
        recent = MmapedDict(str(web / f"gauge_mostrecent_{pid}.db"))
        recent.write_value(beat, seen, stamp)
        recent.close()
        _write(web / f"gauge_max_{pid}.db", {peak: high})
    before = _scrape(web)
    assert b"portal_beat_seen 30.0" in before and b"portal_peak 9.0" in before
    for pid in (201, 203):
        fold_dead_process(web, pid)
    assert _scrape(web) == before
    assert sorted(path.name for path in web.glob("gauge_*.db")) == [
        "gauge_max_0.db", "gauge_max_202.db", "gauge_mostrecent_0.db",
        "gauge_mostrecent_202.db"]
