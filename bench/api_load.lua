-- wrk script for `make bench-api`: clients of the REST API listing, adding and removing
-- torrents. Per thread, every 5th request adds a magnet (a hash unique to the thread and the
-- request), every 5th one after it removes the torrent added 64 adds earlier in that thread
-- (long done: a connection has one request in flight), the rest list the user's torrents.
local threads = {}

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  token = os.getenv("TOKEN")
  counter = 0
  adds = 0
  removes = 0
  auth = { ["authorization"] = "Bearer " .. token, ["content-type"] = "application/json" }
end

local function hash(n)
  return string.format("%08x%032x", tid, n)
end

function request()
  counter = counter + 1
  if counter % 5 == 0 then
    adds = adds + 1
    local body = '{"magnetURI":"magnet:?xt=urn:btih:' .. hash(adds) .. '","paused":true}'
    return wrk.format("POST", "/api/torrents", auth, body)
  elseif counter % 5 == 1 and adds - removes > 64 then
    removes = removes + 1
    return wrk.format("DELETE", "/api/torrents/" .. hash(removes), auth)
  else
    return wrk.format("GET", "/api/torrents", auth)
  end
end

function done(summary, latency, requests)
  io.write(string.format("BENCH requests %d, errors: connect %d read %d write %d status %d timeout %d\n",
    summary.requests, summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.status, summary.errors.timeout))
  io.write(string.format("BENCH latency p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
