-- Shared by every scenario of bench/load/run.py (loaded with dofile by the other scripts, or
-- given to wrk alone for plain GETs). Each thread counts its responses by status; done() sums
-- the threads and prints one line "WRKJSON {...}" that run.py parses.
-- STOP_AFTER (env): each thread stops after that many responses and leaves a file in DONE_DIR
-- (count-bound runs; use one connection per thread, so nothing is left in flight).
statuses = {}
responses = 0
local stop_after = tonumber(os.getenv("STOP_AFTER") or "0")
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_index", #threads)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  responses = responses + 1
  if stop_after > 0 and responses == stop_after then
    -- wrk itself sleeps out -d: the marker tells run.py this thread is done (its mtime is
    -- when), and run.py interrupts wrk once every thread has left one.
    local marker = io.open(os.getenv("DONE_DIR") .. "/thread-" .. thread_index, "w")
    marker:close()
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local merged = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      merged[status] = (merged[status] or 0) + count
    end
  end
  local parts = {}
  for status, count in pairs(merged) do
    table.insert(parts, string.format('"%d": %d', status, count))
  end
  local errors = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %d, "duration_us": %d, "bytes": %d, "statuses": {%s}, ' ..
    '"socket_errors": {"connect": %d, "read": %d, "write": %d, "timeout": %d}, ' ..
    '"latency_us": {"p50": %d, "p90": %d, "p95": %d, "p99": %d, "max": %d, "mean": %.1f}}\n',
    summary.requests, summary.duration, summary.bytes, table.concat(parts, ", "),
    errors.connect, errors.read, errors.write, errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(95),
    latency:percentile(99), latency.max, latency.mean))
end
