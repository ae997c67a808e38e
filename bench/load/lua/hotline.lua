-- The 12345 hotline posting petitions through the API (POST /api/v1/petitions/, Api-Key).
-- Env: API_KEY, CATEGORY, BUILDING, RUN (the external_ref prefix of this run), THREADS,
-- RETRY_EVERY (10: every 10th request repeats the external_ref of the request before it) and
-- STOP_AFTER (requests per thread; one connection per thread). Request number k (0-based, over
-- all threads) is sent by thread 1 + k % THREADS, so a retry and its original are sent by two
-- neighbouring threads at about the same moment: the race the unique constraint must win.
dofile(os.getenv("LUA_DIR") .. "/common.lua")

local thread_count = tonumber(os.getenv("THREADS"))
local retry_every = tonumber(os.getenv("RETRY_EVERY"))
local run = os.getenv("RUN")
local sent = 0

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Api-Key " .. os.getenv("API_KEY")

function request()
  local position = (thread_index - 1) + thread_count * sent
  sent = sent + 1
  local number = position
  if retry_every > 0 and position % retry_every == retry_every - 1 then
    number = position - 1
  end
  local body = string.format(
    '{"category": %s, "building": %s, "channel": "hotline_12345", ' ..
    '"description": "12345 工单 %s%d：小区路灯不亮，晚上看不清路", "external_ref": "%s%d"}',
    os.getenv("CATEGORY"), os.getenv("BUILDING"), run, number, run, number)
  return wrk.format(nil, nil, nil, body)
end
