-- io.lua: IO-bound tasks: each request waits 100 ms without CPU (run with -c1000, ulimit -n raised).
-- Standalone: wrk -t2 -c64 -d10s -s loadtest/scripts/io.lua http://127.0.0.1:8080
-- (default path /io?ms=100 when the URL has none). Used by loadtest/compare.
tl = { name = "io", path = "/io?ms=100", count_status = true, pipeline = 1 }
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")
