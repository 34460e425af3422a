import fs from 'node:fs'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { RigError } from '../../errors.ts'
import { readStateQuietly } from '../../env/state.ts'
import type { CommandContext } from '../command.ts'
import { CLI_LOGS_DIR, projectRoot } from '../_context.ts'

function logFiles(root: string): Record<string, string> {
  // Log files outside the project and the environment's dir are not followed from the state file.
  const s = readStateQuietly(root)
  if (s) return Object.fromEntries(Object.entries(s.services).filter(([, v]) => v.logFile).map(([n, v]) => [n, v.logFile]))
  // After `rig down` (or a failed start) the logs stay in .rig/logs.
  const dir = path.join(root, CLI_LOGS_DIR)
  let files: string[] = []
  try {
    files = fs.readdirSync(dir).filter((f) => f.endsWith('.log'))
  } catch {
    // no logs yet
  }
  return Object.fromEntries(files.map((f) => [f.slice(0, -4), path.join(dir, f)]))
}

/** `rig logs`: the captured output of the services, followed with `-f`. */
export async function logs({ values, positionals, out }: CommandContext): Promise<number> {
  const root = projectRoot(values.config as string | undefined)
  const all = logFiles(root)
  if (Object.keys(all).length === 0) throw new RigError('RIG_NO_LOGS', `no logs in ${root}: start the environment with \`rig up\` first`, { exitCode: 3 })
  const unknown = positionals.filter((p) => !Object.hasOwn(all, p))
  if (unknown.length > 0) throw new RigError('RIG_UNKNOWN_SERVICE', `no logs for ${unknown.map((u) => `"${u}"`).join(', ')} (services: ${Object.keys(all).join(', ')})`, { exitCode: 2 })
  const chosen = positionals.length > 0 ? positionals : Object.keys(all)
  const prefix = chosen.length > 1
  const width = Math.max(...chosen.map((c) => c.length))
  const n = values.lines === undefined ? undefined : Number(values.lines)
  if (n !== undefined && !(Number.isInteger(n) && n >= 0)) throw new RigError('RIG_USAGE', `--lines takes a whole number, got ${values.lines}`, { exitCode: 2 })
  const offsets = new Map<string, number>()
  const emit = (name: string, text: string): void => {
    for (const line of text.split('\n')) if (line) out.print(prefix ? `${out.s.cyan(name.padEnd(width))} | ${line}` : line)
  }
  for (const name of chosen) {
    const file = all[name] as string
    const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : ''
    const lines = text.split('\n').filter(Boolean)
    emit(name, (n === undefined ? lines : lines.slice(-n)).join('\n'))
    offsets.set(name, Buffer.byteLength(text))
  }
  if (!values.follow) return 0
  let stop = false
  process.once('SIGINT', () => (stop = true))
  // Following ends when Ctrl-C is pressed, or when the reader of stdout went away (`| head`).
  while (!stop && !out.closed) {
    await sleep(200)
    for (const name of chosen) {
      const file = all[name] as string
      const size = fs.statSync(file, { throwIfNoEntry: false })?.size ?? 0
      const from = offsets.get(name) ?? 0
      if (size < from) offsets.set(name, 0)
      if (size <= from) continue
      const fd = fs.openSync(file, 'r')
      const buf = Buffer.alloc(size - from)
      fs.readSync(fd, buf, 0, buf.length, from)
      fs.closeSync(fd)
      // A line still being written is printed once it is whole.
      const whole = buf.lastIndexOf(0x0a) + 1
      if (whole === 0) continue
      offsets.set(name, from + whole)
      emit(name, buf.subarray(0, whole).toString('utf8'))
    }
  }
  return 0
}
