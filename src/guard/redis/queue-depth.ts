// Redis keys an application uses as queues, for settle: a list holding entries waits for its
// consumer; a stream's consumer groups have entries not yet delivered (lag) or delivered and not
// acknowledged (pending). One EVAL reads every named key; glob names are found by SCAN first.
import type { RedisClient } from '../../drivers/redis.ts'
import type { InFlight } from '../adapter.ts'
import { displayKey, scanKeys } from './key-space.ts'

/** Per key with work: name, type, waiting (list entries, stream lag), pending (stream, unacknowledged). */
const DEPTH_LUA = `
local out = {}
for _, k in ipairs(KEYS) do
  local t = redis.call('TYPE', k)['ok']
  if t == 'list' then
    local n = redis.call('LLEN', k)
    if n > 0 then out[#out + 1] = {k, 'list', n, 0} end
  elseif t == 'stream' then
    local lag, pending = 0, 0
    for _, g in ipairs(redis.call('XINFO', 'GROUPS', k)) do
      for i = 1, #g, 2 do
        if g[i] == 'pending' then pending = pending + g[i + 1] end
        if g[i] == 'lag' and type(g[i + 1]) == 'number' then lag = lag + g[i + 1] end
      end
    end
    if lag + pending > 0 then out[#out + 1] = {k, 'stream', lag, pending} end
  end
end
return out`

const GLOB = /[*?[]/

/** What is waiting in the queue keys `names` (exact names or SCAN globs). */
export async function queueDepths(c: RedisClient, names: readonly string[]): Promise<InFlight[]> {
  const exact = names.filter((n) => !GLOB.test(n))
  const globs = names.filter((n) => GLOB.test(n))
  const keys = [...new Set([...exact, ...(globs.length > 0 ? (await scanKeys(c, globs, [])).map(displayKey) : [])])]
  if (keys.length === 0) return []
  const rows = await c.sendCommand<Array<[string, string, number, number]>>(['EVAL', DEPTH_LUA, String(keys.length), ...keys])
  return rows.map(([key, type, waiting, pending]) =>
    type === 'list'
      ? { subject: `list ${key}`, count: waiting, text: `list ${key} ${waiting} waiting` }
      : { subject: `stream ${key}`, count: waiting + pending, text: `stream ${key} ${waiting} undelivered, ${pending} pending` },
  )
}
