-- wrk script: POST the infer request in BODY_FILE (env) to the path in wrk's URL.
local f = assert(io.open(os.getenv("BODY_FILE"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
-- Binary tensor extension: a JSON header of this many bytes, then the raw tensor bytes.
local header_len = os.getenv("HEADER_LEN")
if header_len and header_len ~= "" then
  wrk.headers["Inference-Header-Content-Length"] = header_len
  wrk.headers["Content-Type"] = "application/octet-stream"
else
  wrk.headers["Content-Type"] = "application/json"
end

local errors = 0
response = function(status, headers, body)
  if status ~= 200 then errors = errors + 1 end
end

done = function(summary, latency, requests)
  io.write(string.format("non200=%d\n", summary.errors.status))
end
