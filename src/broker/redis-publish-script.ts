// The Lua script that makes a Redis publish exactly-once: for each message, the
// dedupe marker and the push happen in one atomic step, so a re-send of the same
// task id (after a beat crash between publishing and recording the run) pushes
// nothing. One call carries a chunk of messages: per-command overhead, not Redis,
// is what limits a burst of sends.
//
// For each message m of the chunk, in order:
//   KEYS   dbbeat:sent:<task id> (the dedupe marker), then its L lists to LPUSH onto
//          (queue at its priority step), then its B _kombu.binding.<queue> sets
//   ARGV   L, B, the kombu envelope (JSON text), then B binding members
// ARGV[1]  marker TTL in seconds;  ARGV[2]  the number of messages
// Returns one string per message: 'sent'; 'duplicate' when the marker already
// existed (nothing pushed); or 'error:<reply>' when Redis refused a command for
// that message alone (e.g. WRONGTYPE), in which case its marker is removed again.
export const PUBLISH_ONCE_LUA = `
local ttl = ARGV[1]
local count = tonumber(ARGV[2])
local k, a = 1, 3
local results = {}
for m = 1, count do
  local lists = tonumber(ARGV[a])
  local bindings = tonumber(ARGV[a + 1])
  local envelope = ARGV[a + 2]
  local marker = KEYS[k]
  local outcome = 'sent'
  local set = redis.pcall('SET', marker, '1', 'NX', 'EX', ttl)
  if type(set) == 'table' and set.err then
    outcome = 'error:' .. set.err
  elseif not set then
    outcome = 'duplicate'
  else
    for i = 1, lists do
      local pushed = redis.pcall('LPUSH', KEYS[k + i], envelope)
      if type(pushed) == 'table' and pushed.err then
        outcome = 'error:' .. pushed.err
        redis.call('DEL', marker)
        break
      end
    end
    if outcome == 'sent' then
      for i = 1, bindings do
        redis.pcall('SADD', KEYS[k + lists + i], ARGV[a + 2 + i])
      end
    end
  end
  results[m] = outcome
  k = k + 1 + lists + bindings
  a = a + 3 + bindings
end
return results
`;

/** Messages per script call: large enough to amortise the call, small enough not to block Redis. */
export const PUBLISH_CHUNK_SIZE = 500;

/** Prefix of the dedupe markers. */
export const SENT_KEY_PREFIX = 'dbbeat:sent:';
