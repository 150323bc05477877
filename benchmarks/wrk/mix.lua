-- wrk script for `make bench` (benchmarks/bench_web.py): requests drawn at random from a file
-- of paths (one per line; "POST <path> <json body>" for a POST), and a summary printed as one
-- JSON line: requests, seconds, latency percentiles (ms), statuses by class, socket errors.
local paths_file = os.getenv("IOM_WRK_PATHS")
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  requests_list = {}
  for line in io.lines(paths_file) do
    local method, path, body = line:match("^(POST) (%S+) (.*)$")
    if method then
      table.insert(requests_list, wrk.format("POST", path, {["Content-Type"] = "application/json"}, body))
    else
      table.insert(requests_list, wrk.format("GET", line))
    end
  end
  math.randomseed(os.time() + (tonumber(tostring({}):match("0x(%x+)"), 16) or 0) % 100000)
  s2xx, s3xx, s4xx, s503, s5xx = 0, 0, 0, 0, 0
end

function request()
  return requests_list[math.random(#requests_list)]
end

function response(status, headers, body)
  if status >= 500 then
    if status == 503 then s503 = s503 + 1 else s5xx = s5xx + 1 end
  elseif status >= 400 then s4xx = s4xx + 1
  elseif status >= 300 then s3xx = s3xx + 1
  else s2xx = s2xx + 1 end
end

function done(summary, latency, requests)
  local t = {s2xx = 0, s3xx = 0, s4xx = 0, s503 = 0, s5xx = 0}
  for _, thread in ipairs(threads) do
    for k, _ in pairs(t) do t[k] = t[k] + (thread:get(k) or 0) end
  end
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "p50": %.2f, "p90": %.2f, "p95": %.2f, "p99": %.2f, "max": %.2f, ' ..
    '"s2xx": %d, "s3xx": %d, "s4xx": %d, "s503": %d, "s5xx": %d, ' ..
    '"connect": %d, "read": %d, "write": %d, "timeout": %d}\n',
    summary.requests, summary.duration / 1e6,
    latency:percentile(50) / 1e3, latency:percentile(90) / 1e3, latency:percentile(95) / 1e3,
    latency:percentile(99) / 1e3, latency.max / 1e3,
    t.s2xx, t.s3xx, t.s4xx, t.s503, t.s5xx, e.connect, e.read, e.write, e.timeout))
end
