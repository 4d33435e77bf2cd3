// The Lua script that makes a Redis publish exactly-once: for each message, the
// dedupe marker and the push happen in one atomic step, so a re-send of the same
// task id (after a beat crash between publishing and recording the run) pushes
// nothing. One call carries a chunk of messages: per-command overhead, not Redis,
// is what limits a burst of sends. The envelopes travel as one argument (their
// bytes one after another) and their layout as another, so the client encodes a
// handful of arguments per call instead of several per message.
//
// KEYS     for each message m, in order: dbbeat:sent:<task id> (the dedupe marker),
//          then its L lists to LPUSH onto (queue at its priority step);
//          after them, the chunk's distinct bindings' sets (_kombu.binding.<exchange>)
// ARGV[1]  marker TTL in seconds;  ARGV[2]  the number of messages
// ARGV[3]  the envelopes (kombu's JSON), one after another
// ARGV[4]  per message "L b n ": its number of lists, its binding (1-based number
//          among the chunk's bindings; 0: none), its envelope's length in bytes
// ARGV[4+b] binding b's member (its set is the b-th key after the messages' keys)
// Returns the messages not sent, as pairs: the message's number in the call (1-based)
// and 'duplicate' when the marker already existed (nothing pushed), or 'error:<reply>'
// when Redis refused a command for that message alone (e.g. WRONGTYPE), in which case
// its marker is removed again. Every message not named was sent (an empty reply: all).
//
// Consecutive messages for the same single list go out in one LPUSH with several values
// (LPUSH pushes them in order, exactly as one LPUSH each would, and a refused LPUSH
// pushes none of them: each of them fails, its marker removed). A binding is added once
// per call, after the first message with it was pushed (SADD of a member already there
// changes nothing). Per-command overhead in Lua, not the commands, was most of the
// script's time: one SET, LPUSH and SADD per message cost Redis about 1 s per 100,000.
export const PUBLISH_ONCE_LUA = `
local ttl = ARGV[1]
local count = tonumber(ARGV[2])
local envelopes = ARGV[3]
local field = string.gmatch(ARGV[4], '%d+')
local bindingKeys = #KEYS - (#ARGV - 4)
local k, at = 1, 1
local results, r = {}, 0
local bound = {}
-- The group of messages waiting for one LPUSH onto groupList: their envelopes, numbers,
-- markers and bindings.
local groupList, size = nil, 0
local groupEnvelopes, groupMessages, groupMarkers, groupBindings = {}, {}, {}, {}
local function bind(binding)
  if binding > 0 and not bound[binding] then
    bound[binding] = true
    redis.pcall('SADD', KEYS[bindingKeys + binding], ARGV[4 + binding])
  end
end
local function refused(m, outcome)
  results[r + 1] = m
  results[r + 2] = outcome
  r = r + 2
end
local function flush()
  if size == 0 then return end
  local pushed = redis.pcall('LPUSH', groupList, unpack(groupEnvelopes, 1, size))
  local failed = type(pushed) == 'table' and pushed.err
  for i = 1, size do
    if failed then
      refused(groupMessages[i], 'error:' .. pushed.err)
      redis.call('DEL', groupMarkers[i])
    else
      bind(groupBindings[i])
    end
  end
  groupList, size = nil, 0
end
for m = 1, count do
  local lists = tonumber(field())
  local binding = tonumber(field())
  local length = tonumber(field())
  local envelope = string.sub(envelopes, at, at + length - 1)
  at = at + length
  local marker = KEYS[k]
  local outcome = nil
  local set = redis.pcall('SET', marker, '1', 'NX', 'EX', ttl)
  if not set and size > 0 then
    -- The marker may be a pending message's (the same id twice): push those first, as one
    -- LPUSH each would have, so that a refused push removes it before this one is judged.
    flush()
    set = redis.pcall('SET', marker, '1', 'NX', 'EX', ttl)
  end
  if type(set) == 'table' and set.err then
    outcome = 'error:' .. set.err
  elseif not set then
    outcome = 'duplicate'
  elseif lists == 1 then
    if KEYS[k + 1] ~= groupList or size == 1000 then
      flush()
      groupList = KEYS[k + 1]
    end
    size = size + 1
    groupEnvelopes[size] = envelope
    groupMessages[size] = m
    groupMarkers[size] = marker
    groupBindings[size] = binding
  else
    flush()
    for i = 1, lists do
      local pushed = redis.pcall('LPUSH', KEYS[k + i], envelope)
      if type(pushed) == 'table' and pushed.err then
        outcome = 'error:' .. pushed.err
        redis.call('DEL', marker)
        break
      end
    end
    if outcome == nil then bind(binding) end
  end
  if outcome then refused(m, outcome) end
  k = k + 1 + lists
end
flush()
return results
`;

/** Messages per script call: large enough to amortise the call, small enough not to block Redis. */
export const PUBLISH_CHUNK_SIZE = 500;

/** Prefix of the dedupe markers. */
export const SENT_KEY_PREFIX = 'dbbeat:sent:';

/** The PUBLISH_ONCE_LUA command queued on a pipeline (ioredis flattens the arrays); the reply comes from exec(). */
export type PipelinePublishOnce = (
  numberOfKeys: number,
  keys: string[],
  bindingKeys: string[],
  args: (string | Buffer)[],
) => unknown;

/** A binding a declared queue records: its set and member. */
export interface Binding {
  exchange: string;
  name: string;
  routingKey: string;
  key: string;
  member: string;
}

/** One script call's messages, in PUBLISH_ONCE_LUA's layout, and which messages they are. */
export class Chunk {
  /** Each message's marker and lists. */
  readonly keys: string[] = [];
  /** "L b n " per message. */
  layout = '';
  /** The chunk's distinct bindings, numbered from 1 in this order. */
  private readonly bindings = new Map<Binding, number>();
  readonly bindingKeys: string[] = [];
  readonly members: string[] = [];
  readonly indexes: number[] = [];
  /** The messages' envelopes, one after another. */
  envelopes: Buffer | undefined;

  /** The number of `binding` among the chunk's bindings. */
  bindingNumber(binding: Binding): number {
    let number = this.bindings.get(binding);
    if (number === undefined) {
      this.bindingKeys.push(binding.key);
      this.members.push(binding.member);
      number = this.bindingKeys.length;
      this.bindings.set(binding, number);
    }
    return number;
  }
}
