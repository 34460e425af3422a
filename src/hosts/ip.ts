// iproute2's `ip`, the one tool rig drives network namespaces, links and routes with: found in
// the sbin directories a root PATH usually has (a test runner's PATH may lack them), run
// without a shell, its stderr carried by the error.
import { execFile, execFileSync } from 'node:child_process'
import { findBinary } from '../providers/process/binaries.ts'
import { RigError } from '../errors.ts'

let cached: string | null | undefined

/** The `ip` binary, or undefined when iproute2 is not installed. */
export function ipBinary(): string | undefined {
  if (cached === undefined) cached = findBinary({ name: 'ip', wellKnown: ['/usr/sbin', '/sbin', '/usr/bin', '/bin'] }).path ?? null
  return cached ?? undefined
}

/** `ip` failed: what was asked, and what it said. */
export class IpCommandError extends RigError {
  readonly stderr: string
  constructor(args: readonly string[], stderr: string, cause?: unknown) {
    super('RIG_HOSTS_FAILED', `ip ${args.join(' ')}: ${stderr.trim() || String((cause as Error | undefined)?.message ?? cause)}`, cause === undefined ? {} : { cause })
    this.name = 'IpCommandError'
    this.stderr = stderr
  }
}

function binary(): string {
  const bin = ipBinary()
  if (!bin) throw new RigError('RIG_HOSTS_UNSUPPORTED', 'iproute2 (`ip`) is not installed')
  return bin
}

/** Runs `ip args…`; resolves with its stdout. */
export function ip(args: readonly string[]): Promise<string> {
  const bin = binary()
  return new Promise((resolve, reject) => {
    execFile(bin, [...args], { encoding: 'utf8', timeout: 10_000 }, (err, stdout, stderr) => (err ? reject(new IpCommandError(args, stderr, err)) : resolve(stdout)))
  })
}

/** The same, blocking: for the watchdog and the sweep, which run nothing else meanwhile. */
export function ipSync(args: readonly string[]): string {
  try {
    return execFileSync(binary(), [...args], { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'pipe'] })
  } catch (err) {
    throw new IpCommandError(args, String((err as { stderr?: unknown }).stderr ?? ''), err)
  }
}

/**
 * Runs several `ip` commands in one process (`ip -batch`): each is a process less, and a process
 * costs more than the command on a loaded machine. `netns` runs them inside that namespace.
 */
export function ipBatch(lines: readonly (readonly string[])[], netns?: string): Promise<string> {
  const bin = binary()
  const args = [...(netns ? ['-n', netns] : []), '-batch', '-']
  return new Promise((resolve, reject) => {
    const child = execFile(bin, args, { encoding: 'utf8', timeout: 10_000 }, (err, stdout, stderr) => (err ? reject(new IpCommandError(args, stderr, err)) : resolve(stdout)))
    child.stdin?.end(lines.map((l) => l.join(' ')).join('\n') + '\n')
  })
}

/** The same, blocking, going on past a failed line (`-force`): for removing what may be half gone. */
export function ipBatchSync(lines: readonly (readonly string[])[]): void {
  if (lines.length === 0) return
  try {
    execFileSync(binary(), ['-force', '-batch', '-'], { input: lines.map((l) => l.join(' ')).join('\n') + '\n', timeout: 10_000, stdio: ['pipe', 'ignore', 'ignore'] })
  } catch {
    // -force: what could be removed was; the rest was gone already
  }
}

/** Runs `ip -j args…` and parses its JSON. */
export async function ipJson<T>(args: readonly string[]): Promise<T> {
  const out = await ip(['-j', ...args])
  return (out.trim() === '' ? [] : JSON.parse(out)) as T
}
