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
// Returns one string per message: 'sent'; 'duplicate' when the marker already
// existed (nothing pushed); or 'error:<reply>' when Redis refused a command for
// that message alone (e.g. WRONGTYPE), in which case its marker is removed again.
export const PUBLISH_ONCE_LUA = `
local ttl = ARGV[1]
local count = tonumber(ARGV[2])
local envelopes = ARGV[3]
local field = string.gmatch(ARGV[4], '%d+')
local bindingKeys = #KEYS - (#ARGV - 4)
local k, at = 1, 1
local results = {}
for m = 1, count do
  local lists = tonumber(field())
  local binding = tonumber(field())
  local length = tonumber(field())
  local envelope = string.sub(envelopes, at, at + length - 1)
  at = at + length
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
    if outcome == 'sent' and binding > 0 then
      redis.pcall('SADD', KEYS[bindingKeys + binding], ARGV[4 + binding])
    end
  end
  results[m] = outcome
  k = k + 1 + lists
end
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
