-- wrk: the latency quantile function in 0.1-percentile steps ("Q pct usec") plus the request
-- count, so that short slices of a run can be pooled (P6 runs wrk in slices until a job ends).
done = function(summary, latency, requests)
  io.write(string.format("SUMMARY %d %d %d\n", summary.requests, summary.duration, summary.errors.status))
  for i = 1, 1000 do
    local p = i / 10.0
    io.write(string.format("Q %.1f %d\n", p, latency:percentile(p)))
  end
end
