-- hold.lua: tasks that hold the server's one shared mutex for 5 ms of CPU each.
-- Standalone: wrk -t2 -c32 -d10s -s loadtest/scripts/hold.lua http://127.0.0.1:8080
-- (default path /task?steps=hold:5 when the URL has none). Used by loadtest/compare.
tl = { name = "hold", path = "/task?steps=hold:5", count_status = true, pipeline = 1 }
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")
