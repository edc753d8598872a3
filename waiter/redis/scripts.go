package redis

import goredis "github.com/redis/go-redis/v9"

// Keys of one id, in the order every script receives them:
//
//	KEYS[1] out: the outcome, JSON, with TTL Retention, until the wait that got it finishes
//	KEYS[2] dup: the marker that an outcome for the id was accepted, TTL DuplicateRetention
//	KEYS[3] reg: the registration, whose value is the token of the waiting Pending, TTL Lease
//	KEYS[4] the sorted set of ids with a stored outcome, scored by expiry in milliseconds
//
// Each script runs atomically in Redis, so the check and the change it
// makes cannot interleave with another replica's.

// Results of deliverScript.
const (
	deliverFull      = -1
	deliverDuplicate = 0
	deliverDelivered = 1
	deliverStored    = 2
)

// deliverScript accepts an outcome unless one was already accepted for the
// id. It writes the outcome to out in every case, so that it survives a
// crash of the replica that waits. When the id is registered it publishes
// the id, so that the waiting replica claims the outcome; otherwise it
// counts the outcome against MaxStored.
//
// ARGV: id, outcome JSON, retention ms, duplicate retention ms, max
// stored, channel.
var deliverScript = goredis.NewScript(`
if redis.call('EXISTS', KEYS[2]) == 1 or redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
local registered = redis.call('EXISTS', KEYS[3]) == 1
if not registered then
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now)
  if redis.call('ZCARD', KEYS[4]) >= tonumber(ARGV[5]) then
    return -1
  end
  redis.call('ZADD', KEYS[4], now + tonumber(ARGV[3]), ARGV[1])
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
redis.call('SET', KEYS[2], '1', 'PX', ARGV[4])
if registered then
  redis.call('PUBLISH', ARGV[6], ARGV[1])
  return 1
end
return 2
`)

// Results of expectScript: {expectAlreadyWaiting}, {expectRegistered} or
// {expectResolved, outcome JSON}.
const (
	expectAlreadyWaiting = 0
	expectRegistered     = 1
	expectResolved       = 2
)

// expectScript registers the token for the id unless another registration
// exists. It returns a stored outcome at once, but leaves it in Redis
// until the registration finishes (see finishScript), so that a reply
// lost with a broken connection loses no outcome. Without a stored
// outcome, the duplicate marker of an earlier delivery is cleared,
// because the id is being reused by a retried job.
//
// ARGV: id, token, lease ms.
var expectScript = goredis.NewScript(`
if redis.call('EXISTS', KEYS[3]) == 1 then
  return {0}
end
redis.call('SET', KEYS[3], ARGV[2], 'PX', ARGV[3])
local v = redis.call('GET', KEYS[1])
if v then
  redis.call('ZREM', KEYS[4], ARGV[1])
  return {2, v}
end
redis.call('DEL', KEYS[2])
return {1}
`)

// claimScript returns the outcome of the id, or nil, when the token holds
// the registration. Only the holder can read it, which is what makes
// delivery exactly-once. The outcome stays in Redis until finishScript.
//
// ARGV: id, token.
var claimScript = goredis.NewScript(`
if redis.call('GET', KEYS[3]) ~= ARGV[2] then
  return false
end
return redis.call('GET', KEYS[1])
`)

// Results of renewScript when no outcome was claimed.
const (
	renewKept  = 0 // the registration was extended
	renewTaken = 1 // the registration had been lost and was set again
	renewLost  = 2 // another token holds the id
)

// renewScript extends the registration's lease, sets it again when it was
// lost (its lease ran out, or Redis restarted without the key), and, when
// ARGV[4] is "1", returns an outcome that is waiting. It returns the
// outcome JSON, or one of the renew results.
//
// ARGV: id, token, lease ms, claim flag.
var renewScript = goredis.NewScript(`
local owner = redis.call('GET', KEYS[3])
local result = 0
if owner == false then
  redis.call('SET', KEYS[3], ARGV[2], 'PX', ARGV[3])
  result = 1
elseif owner ~= ARGV[2] then
  return 2
else
  redis.call('PEXPIRE', KEYS[3], ARGV[3])
end
if ARGV[4] == '1' then
  local v = redis.call('GET', KEYS[1])
  if v then
    redis.call('ZREM', KEYS[4], ARGV[1])
    return v
  end
end
return result
`)

// finishScript ends a registration. When ARGV[3] is "1" the outcome was
// handed over and is deleted. Otherwise an outcome that is waiting stays
// for the next Expect and counts as stored again. Nothing changes when
// another token holds the id.
//
// ARGV: id, token, consumed flag.
var finishScript = goredis.NewScript(`
local owner = redis.call('GET', KEYS[3])
if owner ~= false and owner ~= ARGV[2] then
  return 0
end
redis.call('DEL', KEYS[3])
if ARGV[3] == '1' then
  redis.call('DEL', KEYS[1])
  redis.call('ZREM', KEYS[4], ARGV[1])
  return 1
end
local ttl = redis.call('PTTL', KEYS[1])
if ttl > 0 then
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  redis.call('ZADD', KEYS[4], now + ttl, ARGV[1])
end
return 1
`)
