-- cpu.lua: CPU-bound tasks: each request burns 5 ms of thread CPU time.
-- Standalone: wrk -t2 -c64 -d10s -s loadtest/scripts/cpu.lua http://127.0.0.1:8080
-- (default path /cpu?ms=5 when the URL has none). Used by loadtest/compare.
tl = { name = "cpu", path = "/cpu?ms=5", count_status = true, pipeline = 1 }
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")
