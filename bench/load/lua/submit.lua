-- A resident's petition from the phone form (POST /petitions/create/, multipart) with one photo.
-- Env: PHOTO (a JPEG path), COOKIE ("csrftoken=…; sessionid=…"), CSRF (the same secret),
-- FORM ("name=value;name=value": category, compound, building, unit, household, …).
-- The body is built once: every request is the same submission, each creates a new petition.
dofile(os.getenv("LUA_DIR") .. "/common.lua")

local boundary = "----portal-bench-load-7f3a9c"

local function part(name, value)
  return "--" .. boundary .. "\r\nContent-Disposition: form-data; name=\"" .. name ..
    "\"\r\n\r\n" .. value .. "\r\n"
end

local file = assert(io.open(os.getenv("PHOTO"), "rb"))
local photo = file:read("*a")
file:close()

local parts = {part("csrfmiddlewaretoken", os.getenv("CSRF"))}
for name, value in string.gmatch(os.getenv("FORM"), "([^=;]+)=([^;]*)") do
  table.insert(parts, part(name, value))
end
table.insert(parts, "--" .. boundary .. "\r\nContent-Disposition: form-data; name=\"photos\"; " ..
  "filename=\"photo.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n" .. photo .. "\r\n")
table.insert(parts, "--" .. boundary .. "--\r\n")

wrk.method = "POST"
wrk.body = table.concat(parts)
wrk.headers["Content-Type"] = "multipart/form-data; boundary=" .. boundary
wrk.headers["Cookie"] = os.getenv("COOKIE")
