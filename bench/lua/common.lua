-- Shared by every bench endpoint: counts responses by status class in each thread
-- and prints one JSON line (prefixed BENCH_JSON) with wrk's summary when done.
-- An endpoint script may define `make_request()` (and `init_endpoint(args)`).
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  c2xx, c3xx, c4xx, c5xx = 0, 0, 0, 0
  if init_endpoint then
    init_endpoint(args)
  end
end

if make_request then
  request = make_request
end

function response(status, headers, body)
  if status < 300 then
    c2xx = c2xx + 1
  elseif status < 400 then
    c3xx = c3xx + 1
  elseif status < 500 then
    c4xx = c4xx + 1
  else
    c5xx = c5xx + 1
  end
end

function done(summary, latency, requests)
  local s = {c2xx = 0, c3xx = 0, c4xx = 0, c5xx = 0}
  for _, thread in ipairs(threads) do
    for key, _ in pairs(s) do
      s[key] = s[key] + (thread:get(key) or 0)
    end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "bytes": %d, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
    '"latency_us": {"p50": %d, "p90": %d, "p99": %d, "max": %d, "mean": %.1f}, ' ..
    '"status": {"2xx": %d, "3xx": %d, "4xx": %d, "5xx": %d}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean,
    s.c2xx, s.c3xx, s.c4xx, s.c5xx))
end
