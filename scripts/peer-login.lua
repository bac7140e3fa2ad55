-- wrk script for scripts/bench-peer-login.sh: device logins against Atoll
-- (POST /auth/device) or Nakama (POST /v2/account/authenticate/device), the
-- same request shape and the same fixed set of device ids for both, so the
-- two servers see the same load from the same client.
--
-- Environment:
--   PEER     "atoll" or "nakama"
--   DEVICES  how many distinct device ids (default 10000); each wrk thread
--            cycles through its own slice of them
--   PRIME    "1": log each of the thread's devices in once (creating them),
--            then stop the thread
--   THREADS  wrk's -t (default 2), to split the ids between threads
--   SERVER_KEY  Nakama's server key (default "defaultkey")
--
-- done() prints one machine-readable line:
--   RESULT rps=<req/s> p50_ms=<ms> p99_ms=<ms> requests=<n> non2xx=<n> errors=<n>

local peer = os.getenv("PEER") or "atoll"
local devices = tonumber(os.getenv("DEVICES") or "10000")
local prime = os.getenv("PRIME") == "1"

local counter = 0

function setup(thread)
	thread:set("tid", counter)
	counter = counter + 1
end

-- base64 for the Basic authorization header (wrk's Lua has no library for it).
local function b64(s)
	local alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	return ((s:gsub(".", function(x)
		local r, b = "", x:byte()
		for i = 8, 1, -1 do r = r .. (b % 2 ^ i - b % 2 ^ (i - 1) > 0 and "1" or "0") end
		return r
	end) .. "0000"):gsub("%d%d?%d?%d?%d?%d?", function(x)
		if #x < 6 then return "" end
		local c = 0
		for i = 1, 6 do c = c + (x:sub(i, i) == "1" and 2 ^ (6 - i) or 0) end
		return alphabet:sub(c + 1, c + 1)
	end) .. ({ "", "==", "=" })[#s % 3 + 1])
end

local first, last, nextID, answered

function init(args)
	-- Each thread runs in its own Lua state: setup() numbered it in the
	-- main one, and the thread count comes from the environment.
	local nthreads = tonumber(os.getenv("THREADS") or "2")
	local t = tonumber(wrk.thread:get("tid")) or 0
	local per = math.floor(devices / nthreads)
	first = t * per
	last = first + per - 1
	nextID = first
	answered = 0
	wrk.method = "POST"
	wrk.headers["Content-Type"] = "application/json"
	if peer == "nakama" then
		wrk.path = "/v2/account/authenticate/device?create=true"
		wrk.headers["Authorization"] = "Basic " .. b64((os.getenv("SERVER_KEY") or "defaultkey") .. ":")
	else
		wrk.path = "/auth/device"
	end
end

local function deviceID(i)
	return string.format("bench-peer-device-%08d", i)
end

function request()
	local id = deviceID(nextID)
	nextID = nextID + 1
	if nextID > last then nextID = first end
	local body
	if peer == "nakama" then
		body = '{"id":"' .. id .. '"}'
	else
		body = '{"device_id":"' .. id .. '"}'
	end
	return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
	if prime then
		answered = answered + 1
		if answered > last - first then wrk.thread:stop() end
	end
end

function done(summary, latency, requests)
	local secs = summary.duration / 1e6
	local non2xx = summary.errors.status
	local errs = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
	io.write(string.format("RESULT rps=%.1f p50_ms=%.2f p99_ms=%.2f requests=%d non2xx=%d errors=%d\n",
		summary.requests / secs, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
		summary.requests, non2xx, errs))
end
