-- starve-probe.lua: cooperative starvation, probe half: a short task (1 ms wait)
-- sent at a low rate (one request per connection every 20 ms) while CPU tasks
-- hold the workers. Standalone: wrk -t1 -c2 -d10s -s loadtest/scripts/starve-probe.lua http://127.0.0.1:8080
-- (default path /task?steps=io:1 when the URL has none). Used by loadtest/compare.
tl = { name = "starve-probe", path = "/task?steps=io:1", count_status = true, delay_ms = 20, pipeline = 1 }
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "common.lua")
