-- POST /v1/appointments on distinct free slots, one slot per request.
-- Usage: wrk ... -s bench/wrk/book.lua URL -- <slots file> <api key> <service id> <threads>
-- The slots file holds "<staff id> <ISO 8601 start>" per line; thread i of n takes lines
-- i, i+n, i+2n, ... When a thread has used all its slots it wraps around (those requests
-- answer 409, counted apart) and stops itself: a short list shortens the run.

local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  local path, key, service = args[1], args[2], args[3]
  local nthreads = tonumber(args[4] or "2")
  slots = {}
  local n = 0
  for line in io.lines(path) do
    if n % nthreads == id then
      local staff, start = line:match("^(%S+) (%S+)$")
      table.insert(slots, {staff, start})
    end
    n = n + 1
  end
  next_index = 1
  c201, c409, other = 0, 0, 0
  headers = {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. key}
  body = '{"service_id":"' .. service .. '","staff_id":"%s","start":"%s",'
    .. '"family":{"reference":"BENCH-' .. id .. '-%d","phone":"06 12 34 56 78",'
    .. '"language":"fr","sms_consent":true}}'
end

function request()
  local slot = slots[((next_index - 1) % #slots) + 1]
  local payload = string.format(body, slot[1], slot[2], next_index)
  next_index = next_index + 1
  return wrk.format("POST", "/v1/appointments", headers, payload)
end

function response(status, headers, body)
  if status == 201 then
    c201 = c201 + 1
  elseif status == 409 then
    c409 = c409 + 1
  else
    other = other + 1
  end
  if next_index > #slots then
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local t201, t409, tother = 0, 0, 0
  for _, thread in ipairs(threads) do
    t201 = t201 + thread:get("c201")
    t409 = t409 + thread:get("c409")
    tother = tother + thread:get("other")
  end
  io.write(string.format("BENCH_STATUS 201=%d 409=%d other=%d\n", t201, t409, tother))
end
