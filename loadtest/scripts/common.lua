-- common.lua: shared by every threadlab scenario script.
--
-- A scenario script sets the table `tl` and then loads this file:
--
--   tl = { name = "cpu", path = "/cpu?ms=5", count_status = true }
--   dofile(<dir of the script> .. "common.lua")
--
-- Fields of `tl`:
--   name          label printed in the JSON line
--   path          request target used when the URL given to wrk has no path
--                 (so `wrk -s cpu.lua http://127.0.0.1:8080` just works)
--   count_status  install a response() callback that counts status codes.
--                 wrk then parses every response's headers into Lua, which
--                 costs throughput, so only the low-rate scenarios use it;
--                 wrk's own summary still reports "Non-2xx or 3xx responses".
--   pipeline      N > 1: send N requests in ONE write (HTTP pipelining);
--                 wrk then waits for the N responses before writing again.
--   delay_ms      wait this long before each request of a connection: a
--                 low-rate probe (wrk's latency excludes the wait).
--   count_moves   count tasks whose steps ran on more than one worker
--                 thread, from the X-Thread header (one thread name per
--                 step; "loop" is not a worker): the share of suspended
--                 tasks resumed elsewhere, as the client sees it.
--
-- done() prints one line `TLWRK {json}`: latency in microseconds, request
-- and byte counts, socket errors split by kind (connect/read/write/timeout),
-- wrk's count of status >= 400 ("status") and, with count_status, the count
-- of every status code and of non-2xx responses.

tl = tl or {}
local threads = {}

-- wrk fills wrk.path from the URL before running the script, in the main
-- Lua state and in every thread's state, so set the default path here.
if wrk.path == "/" and tl.path then
  wrk.path = tl.path
end

function setup(thread)
  threads[#threads + 1] = thread
end

function init(args)
  statuses = {}
  moves = { tasks = 0, moved = 0 }
  local n = tonumber(tl.pipeline or 1) or 1
  if n > 1 then
    local one = wrk.format(nil, wrk.path)
    local parts = {}
    for i = 1, n do parts[i] = one end
    batch = table.concat(parts)
  end
end

if tonumber(tl.pipeline or 1) > 1 then
  function request()
    return batch
  end
end

if tl.delay_ms then
  function delay()
    return tl.delay_ms
  end
end

-- Distinct worker threads named in an X-Thread header ("worker-1,loop,worker-0").
local function workers_in(list)
  local seen, n = {}, 0
  for name in string.gmatch(list, "[^,]+") do
    if name ~= "loop" and not seen[name] then
      seen[name] = true
      n = n + 1
    end
  end
  return n
end

if tl.count_status or tl.count_moves then
  function response(status, headers, body)
    statuses[status] = (statuses[status] or 0) + 1
    local list = tl.count_moves and headers["X-Thread"]
    if list then
      moves.tasks = moves.tasks + 1
      if workers_in(list) > 1 then moves.moved = moves.moved + 1 end
    end
  end
end

local function json_value(v)
  local t = type(v)
  if t == "number" then
    if v ~= v or v == math.huge or v == -math.huge then return "null" end
    if v == math.floor(v) and math.abs(v) < 1e15 then
      return string.format("%d", v)
    end
    return string.format("%.3f", v)
  elseif t == "string" then
    return '"' .. v:gsub('[%c"\\]', function(c)
      return string.format("\\u%04x", c:byte())
    end) .. '"'
  elseif t == "boolean" then
    return tostring(v)
  elseif t == "table" then
    local keys = {}
    for k in pairs(v) do keys[#keys + 1] = tostring(k) end
    table.sort(keys)
    local out = {}
    for _, k in ipairs(keys) do
      local val = v[k]
      if val == nil then val = v[tonumber(k)] end
      out[#out + 1] = json_value(k) .. ":" .. json_value(val)
    end
    return "{" .. table.concat(out, ",") .. "}"
  end
  return "null"
end

function done(summary, latency, requests)
  local counts, non2xx = nil, nil
  local moved = false
  if tl.count_moves then
    moved = { tasks = 0, moved = 0 }
    for _, thread in ipairs(threads) do
      local m = thread:get("moves") or {}
      moved.tasks = moved.tasks + (m.tasks or 0)
      moved.moved = moved.moved + (m.moved or 0)
    end
  end
  if tl.count_status or tl.count_moves then
    counts, non2xx = {}, 0
    for _, thread in ipairs(threads) do
      local s = thread:get("statuses") or {}
      for code, n in pairs(s) do
        local key = tostring(code)
        counts[key] = (counts[key] or 0) + n
        local c = tonumber(code)
        if c < 200 or c > 299 then non2xx = non2xx + n end
      end
    end
  end
  local lat = {
    min = latency.min, max = latency.max,
    mean = latency.mean, stdev = latency.stdev,
  }
  for _, p in ipairs({ 50, 75, 90, 99, 99.9 }) do
    local key = "p" .. tostring(p):gsub("%.", "")
    local v = latency:percentile(p)
    -- wrk 4.1 answers 0 for high percentiles when it records one latency
    -- per pipelined batch (its count and histogram disagree): say "unknown".
    if v == 0 and latency.max > 0 then v = false end
    lat[key] = v
  end
  local e = summary.errors
  local secs = summary.duration / 1e6
  local report = {
    name = tl.name or "wrk",
    path = wrk.path,
    pipeline = tonumber(tl.pipeline or 1),
    duration_us = summary.duration,
    requests = summary.requests,
    bytes = summary.bytes,
    rps = secs > 0 and summary.requests / secs or 0,
    errors = { connect = e.connect, read = e.read, write = e.write,
               timeout = e.timeout, status = e.status },
    latency_us = lat,
    status = counts or false,
    non2xx = non2xx or false,
    moves = moved,
  }
  io.write("TLWRK " .. json_value(report) .. "\n")
end
