-- block-probe.lua: blocking the loop, probe half: /plaintext latency while block-load.lua runs.
-- Standalone: wrk -t2 -c64 -d10s -s loadtest/scripts/block-probe.lua http://127.0.0.1:8080
-- (default path /plaintext when the URL has none). Used by loadtest/compare.
tl = { name = "block-probe", path = "/plaintext", count_status = true, pipeline = 1 }
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")
