-- wrk script: POST one image file to /v1/ocr?format=txt and report
-- p50/p95/p99 latency and the responses by status (all threads together).
-- Usage: wrk -s post_page.lua URL -- FILE CONTENT_TYPE
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  local f = assert(io.open(args[1], "rb"))
  local body = f:read("*a")
  f:close()
  wrk.method = "POST"
  wrk.path = "/v1/ocr?format=txt"
  wrk.body = body
  wrk.headers["Content-Type"] = args[2] or "image/png"
  codes = {}
end

function response(status, headers, body)
  codes[status] = (codes[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, t in ipairs(threads) do
    local c = t:get("codes")
    for k, v in pairs(c) do total[k] = (total[k] or 0) + v end
  end
  io.write(string.format("RESULT requests=%d seconds=%.1f rps=%.3f p50_ms=%.1f p95_ms=%.1f p99_ms=%.1f max_ms=%.1f socket_errors=%d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1e3, latency:percentile(95) / 1e3,
    latency:percentile(99) / 1e3, latency.max / 1e3,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
  for k, v in pairs(total) do io.write(string.format("RESULT status_%d=%d\n", k, v)) end
end
