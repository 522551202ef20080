-- json.lua: capacity: JSON serialised per request.
-- Standalone: wrk -t2 -c64 -d10s -s loadtest/scripts/json.lua http://127.0.0.1:8080
-- (default path /json when the URL has none). Used by loadtest/compare.
tl = { name = "json", path = "/json", count_status = false, pipeline = 1 }
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")
