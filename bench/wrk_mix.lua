-- wrk script: cycles through the requests listed in a file (one per line: PATH<TAB>ACCEPT[<TAB>METHOD<TAB>BODYFILE])
-- and prints one JSON line with the counts and latency percentiles (microseconds) when done.
-- Usage: wrk -t1 -c1 -d10s -s wrk_mix.lua http://127.0.0.1:PORT -- requests.tsv

local requests = {}
local next_index = 1

local function read_file(name)
  local f = assert(io.open(name, "rb"))
  local data = f:read("*a")
  f:close()
  return data
end

function init(args)
  for line in io.lines(args[1]) do
    local path, accept, method, bodyfile = line:match("^([^\t]*)\t([^\t]*)\t?([^\t]*)\t?([^\t]*)$")
    if path and path ~= "" then
      local headers = { ["Accept"] = accept }
      local body = nil
      if method == nil or method == "" then
        method = "GET"
      end
      if bodyfile ~= nil and bodyfile ~= "" then
        body = read_file(bodyfile)
        headers["Content-Type"] = "text/turtle"
      end
      requests[#requests + 1] = wrk.format(method, path, headers, body)
    end
  end
end

function request()
  local r = requests[next_index]
  next_index = next_index % #requests + 1
  return r
end

function done(summary, latency, requests_stats)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"connect_errors":%d,"read_errors":%d,'
      .. '"write_errors":%d,"status_errors":%d,"timeouts":%d,"p50":%d,"p95":%d,"p99":%d,"max":%d,"mean":%.1f}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max, latency.mean))
end
