-- task-moves.lua: suspended tasks (cpu, wait, cpu) and where they resumed:
-- counts the tasks whose steps ran on more than one worker (X-Thread header).
-- Standalone: wrk -t2 -c256 -d10s -s loadtest/scripts/task-moves.lua http://127.0.0.1:8080
-- (default path /task?steps=cpu:2,io:50,cpu:2 when the URL has none). Used by loadtest/compare.
tl = { name = "task-moves", path = "/task?steps=cpu:2,io:50,cpu:2", count_status = true, count_moves = true, pipeline = 1 }
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")
