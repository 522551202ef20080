-- pipeline.lua: pipelining: 16 /plaintext requests per write (TechEmpower style).
-- Standalone: wrk -t2 -c64 -d10s -s loadtest/scripts/pipeline.lua http://127.0.0.1:8080
-- (default path /plaintext when the URL has none). Used by loadtest/compare.
tl = { name = "pipeline", path = "/plaintext", count_status = false, pipeline = 16 }
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")
