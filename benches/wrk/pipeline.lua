-- HTTP pipelining for wrk (scripts/bench-http): each request() hands wrk a batch of
-- `depth` GET requests written at once (16 unless given: `wrk ... -s pipeline.lua -- 8`);
-- wrk counts every response.
init = function(args)
  local depth = tonumber(args[1]) or 16
  local r = {}
  for i = 1, depth do
    r[i] = wrk.format()
  end
  req = table.concat(r)
end

request = function()
  return req
end
