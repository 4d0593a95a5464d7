-- wrk: one machine-readable line with p50 and p99 in ms and the count of non-2xx/3xx answers.
done = function(summary, latency, requests)
  io.write(string.format("BENCH %.3f %.3f %d\n", latency:percentile(50) / 1000.0,
                         latency:percentile(99) / 1000.0, summary.errors.status))
end
