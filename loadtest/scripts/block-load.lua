-- block-load.lua: blocking the loop, load half: 20 ms CPU tasks (run beside block-probe.lua).
-- Standalone: wrk -t2 -c64 -d10s -s loadtest/scripts/block-load.lua http://127.0.0.1:8080
-- (default path /cpu?ms=20 when the URL has none). Used by loadtest/compare.
tl = { name = "block-load", path = "/cpu?ms=20", count_status = true, pipeline = 1 }
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")
