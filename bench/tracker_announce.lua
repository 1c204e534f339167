-- wrk script for `make bench-tracker`: HTTP announces as BitTorrent clients send them, to 1000
-- torrents, each request from a new peer (a unique peer_id per thread and request), half of
-- them seeders, compact replies of up to 50 peers.
local threads = {}

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  local hex = {}
  for i = 0, 255 do hex[i] = string.format("%%%02x", i) end
  -- The same 1000 info-hashes in every thread.
  math.randomseed(1414)
  torrents = {}
  for t = 1, 1000 do
    local s = {}
    for i = 1, 20 do s[i] = hex[math.random(0, 255)] end
    torrents[t] = table.concat(s)
  end
  math.randomseed(tid * 7919 + os.time())
  counter = 0
end

function request()
  counter = counter + 1
  local ih = torrents[math.random(1, 1000)]
  local pid = string.format("-WK%02d-%014d", tid, counter)
  return wrk.format("GET", "/announce?info_hash=" .. ih .. "&peer_id=" .. pid ..
    "&port=" .. (1024 + counter % 60000) .. "&uploaded=0&downloaded=0&left=" .. (counter % 2) ..
    "&key=1a2b3c4d&event=started&numwant=50&compact=1")
end

function done(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write +
    summary.errors.status + summary.errors.timeout
  io.write(string.format("BENCH wrk: %d announces in %.1f s, %.0f/s, %d errors, p99 %.2f ms\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    errors, latency:percentile(99) / 1000))
end
