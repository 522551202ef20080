-- plaintext.lua: capacity: tiny static response, the cost of the HTTP machinery per request.
-- Standalone: wrk -t2 -c64 -d10s -s loadtest/scripts/plaintext.lua http://127.0.0.1:8080
-- (default path /plaintext when the URL has none). Used by loadtest/compare.
tl = { name = "plaintext", path = "/plaintext", count_status = false, pipeline = 1 }
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")
