-- task.lua: mixed task: cpu 2 ms, wait 50 ms, cpu 2 ms; hybrid suspends it between steps.
-- Standalone: wrk -t2 -c64 -d10s -s loadtest/scripts/task.lua http://127.0.0.1:8080
-- (default path /task?steps=cpu:2,io:50,cpu:2 when the URL has none). Used by loadtest/compare.
tl = { name = "task", path = "/task?steps=cpu:2,io:50,cpu:2", count_status = true, pipeline = 1 }
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")
