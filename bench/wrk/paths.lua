-- GET a different path per request, taken in turn from a file, and count the answers by status.
-- Usage: wrk ... -s bench/wrk/paths.lua URL -- <paths file> <threads>
-- The file holds one path (with its query) per line; thread i of n takes lines i, i+n, i+2n, ...
-- (all of them when there are fewer lines than threads) and goes round them. Headers given with
-- -H (Authorization, If-None-Match) go with every request.
-- Prints one line at the end: BENCH_STATUS <status>=<count> ... (every status answered).

local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

local function read_paths(file, keep)
  local found, n = {}, 0
  for line in io.lines(file) do
    if line ~= "" then
      if keep(n) then found[#found + 1] = line end
      n = n + 1
    end
  end
  return found
end

function init(args)
  local nthreads = tonumber(args[2] or "1")
  paths = read_paths(args[1], function(n) return n % nthreads == id end)
  if #paths == 0 then
    paths = read_paths(args[1], function(n) return true end)
  end
  turn = 0
  answered = {}
end

function request()
  turn = turn + 1
  return wrk.format(nil, paths[(turn - 1) % #paths + 1])
end

function response(status, headers, body)
  local key = tostring(status)
  answered[key] = (answered[key] or 0) + 1
end

function done(summary, latency, requests)
  local totals, keys = {}, {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("answered")) do
      if totals[status] == nil then keys[#keys + 1] = status end
      totals[status] = (totals[status] or 0) + count
    end
  end
  table.sort(keys)
  local parts = {}
  for _, status in ipairs(keys) do parts[#parts + 1] = status .. "=" .. totals[status] end
  io.write("BENCH_STATUS " .. table.concat(parts, " ") .. "\n")
end
