// The Lua script that makes a Redis publish exactly-once: the dedupe marker and
// the push happen in one atomic step, so a re-send of the same task id (after
// a beat crash between publishing and recording the run) pushes nothing.
//
// KEYS[1]        dbbeat:sent:<task id>, the dedupe marker
// KEYS[2..n+1]   the lists to LPUSH the envelope onto (queue at its priority step)
// KEYS[n+2..]    the _kombu.binding.<queue> sets to record each queue's binding in
// ARGV[1]        marker TTL in seconds
// ARGV[2]        the kombu envelope (JSON text)
// ARGV[3]        n, the number of lists
// ARGV[4..]      one binding member per binding set, in KEYS order
// Returns 'sent', or 'duplicate' when the marker already existed (nothing pushed).
export const PUBLISH_ONCE_LUA = `
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then
  return 'duplicate'
end
local lists = tonumber(ARGV[3])
for i = 2, lists + 1 do
  redis.call('LPUSH', KEYS[i], ARGV[2])
end
for i = lists + 2, #KEYS do
  redis.call('SADD', KEYS[i], ARGV[i - lists + 2])
end
return 'sent'
`;

/** Prefix of the dedupe markers. */
export const SENT_KEY_PREFIX = 'dbbeat:sent:';
