-- race.lua: tasks that increment the server's shared counter (race:N, atomic:N).
-- Standalone: wrk -t2 -c2 -d10s -s loadtest/scripts/race.lua http://127.0.0.1:8080
-- (default path /task?steps=race:200000 when the URL has none). Used by loadtest/compare.
tl = { name = "race", path = "/task?steps=race:200000", count_status = true, pipeline = 1 }
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")
