-- wrk script: POST /api/v1/petitions/ as an external system, a new petition per request.
-- Needs API_KEY, CATEGORY and BUILDING in the environment (bench/http_load.py seed writes them
-- to var/bench_http.env). Each thread numbers its own external_ref, so no request is a retry;
-- set RETRY=1 to send one fixed external_ref instead and measure the idempotent-retry path.
local thread_count = 0

function setup(thread)
  thread_count = thread_count + 1
  thread:set("thread_id", thread_count)
end

local counter = 0
local run = os.getenv("RUN") or tostring(os.time())

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Api-Key " .. os.getenv("API_KEY")

function request()
  counter = counter + 1
  local reference = string.format("wrk-%s-%d-%d", run, thread_id, counter)
  if os.getenv("RETRY") == "1" then
    reference = "wrk-retry"
  end
  local body = string.format(
    '{"category": %s, "building": %s, "description": "压测提交 %d", "external_ref": "%s"}',
    os.getenv("CATEGORY"), os.getenv("BUILDING"), counter, reference)
  return wrk.format(nil, "/api/v1/petitions/", nil, body)
end
