-- crash-load.lua: crash isolation, load half: /plaintext while loadtest/compare
-- sends one crash task a second; counts status codes (wrk's summary alone
-- lumps connect errors of a dead server with the rest).
-- Standalone: wrk -t2 -c64 -d10s -s loadtest/scripts/crash-load.lua http://127.0.0.1:8080
-- (default path /plaintext when the URL has none). Used by loadtest/compare.
tl = { name = "crash-load", path = "/plaintext", count_status = true, pipeline = 1 }
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")
