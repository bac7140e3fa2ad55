-- wrk script for scripts/bench-peer-leaderboard.sh: leaderboard record
-- writes, each as one of a fixed set of players (one a line in the file
-- TOKENS). PEER=nakama (default): Nakama's client API, POST
-- /v2/leaderboard/{id}, the lines are the players' session tokens.
-- PEER=atoll: Atoll's server-side grant, POST
-- /internal/v1/leaderboards/{name}/scores with the service credential
-- SERVICE_TOKEN, the lines are player ids; every write has its own
-- idempotency key. Each wrk thread cycles through its own slice of the
-- players with strictly increasing scores, so under the "best" operator
-- every write is a new best and changes the record (and its rank).
--
-- Environment: PEER, TOKENS (file), BOARD (leaderboard id), THREADS (wrk's
-- -t), SERVICE_TOKEN (atoll).
-- done() prints: RESULT rps=<req/s> p50_ms=<ms> p99_ms=<ms> requests=<n> non2xx=<n> errors=<n>

local counter = 0

function setup(thread)
	thread:set("tid", counter)
	counter = counter + 1
end

local peer = os.getenv("PEER") or "nakama"
local service = os.getenv("SERVICE_TOKEN") or ""
local tokens, first, last, nextIdx, score, tid, nonce

function init(args)
	tokens = {}
	for line in io.lines(os.getenv("TOKENS")) do
		if #line > 0 then table.insert(tokens, line) end
	end
	local nthreads = tonumber(os.getenv("THREADS") or "2")
	local t = tonumber(wrk.thread:get("tid")) or 0
	tid = t
	nonce = os.time() -- keeps idempotency keys of successive runs apart
	local per = math.floor(#tokens / nthreads)
	first = t * per + 1
	last = first + per - 1
	nextIdx = first
	score = 1000
	wrk.method = "POST"
	if peer == "atoll" then
		wrk.path = "/internal/v1/leaderboards/" .. (os.getenv("BOARD") or "bench") .. "/scores"
	else
		wrk.path = "/v2/leaderboard/" .. (os.getenv("BOARD") or "bench")
	end
end

function request()
	local tok = tokens[nextIdx]
	nextIdx = nextIdx + 1
	if nextIdx > last then nextIdx = first end
	score = score + 1
	if peer == "atoll" then
		return wrk.format(nil, nil, { ["Authorization"] = "Bearer " .. service, ["Content-Type"] = "application/json" },
			'{"player_id":"' .. tok .. '","value":' .. score .. ',"idempotency_key":"bench-' .. nonce .. '-' .. tid .. '-' .. score .. '"}')
	end
	return wrk.format(nil, nil, { ["Authorization"] = "Bearer " .. tok, ["Content-Type"] = "application/json" },
		'{"score":"' .. score .. '","subscore":"0"}')
end

function done(summary, latency, requests)
	local secs = summary.duration / 1e6
	local errs = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
	io.write(string.format("RESULT rps=%.1f p50_ms=%.2f p99_ms=%.2f requests=%d non2xx=%d errors=%d\n",
		summary.requests / secs, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
		summary.requests, summary.errors.status, errs))
end
