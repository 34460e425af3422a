// Node side of the core (the runner's main process): the guard host. One guard session per set
// of guarded stores a worker sees (the shared stores, or one worker's copies), opened at the
// first test file that needs it and kept for the whole run: its connections, its adopted
// baseline and its prepared statements serve every later file, instead of each test file
// importing the guard, connecting and adopting the baseline again (a fresh worker per file is
// Vitest's default). Workers ask it over a Unix socket in a private directory
// (src/runner/guard-client.ts): a file begins (`open`), a test ended (`check`), `settle`,
// `fixture`, the file ended (`end`). When the run's environment runs in this process too, a
// `check` also answers what `GET /status` of its control server would, taken as the request
// arrives: the one request a worker makes after a test is also the log flush before its scan
// and the confirmation of a service it found gone.
import fs from 'node:fs'
import path from 'node:path'
import { ownedTempDir } from '../env/registry.ts'
import type { EndedTest, GuardOutcome, GuardSession } from './guard-session.ts'
import { logOffsets } from './log-scan.ts'
import { exitedIn, type EnvironmentStatus, type RigProvided } from './provided.ts'
import { workerUrl } from './worker.ts'
import { ownCopies } from './worker-copies.ts'

const http = process.getBuiltinModule('node:http')

/** What a worker sends: which worker it is (its copies), and the operation's arguments. */
export interface GuardRequest {
  worker: number
  test?: EndedTest
  /** `true`: every store; otherwise the store names. */
  allowed?: true | string[]
  fixture?: string
  /** `check`: answer the environment's status too (taken before the check), for the log scan. */
  status?: boolean
  /** `check`: services whose process this worker found gone; when the status confirms one exited, no check is made. */
  gone?: string[]
  /** `open`, `end`: which test file (an id the worker chose): an `end` that arrives after the next file's `open` changes nothing. */
  file?: string
}

/**
 * What `check` answers: the guard's outcome (none, `skipped`, when a service it was told is gone
 * had exited), and when asked, the status and the size of each service's log file (by name) then.
 */
export type CheckAnswer = Partial<GuardOutcome> & { status?: EnvironmentStatus; logs?: Record<string, number>; skipped?: true }

/** A running guard host. */
export interface GuardHost {
  /** Where workers reach it (`provided.guard.host`). */
  socket: string
  /** Closes every session (their connections), the server and its directory. */
  close(): Promise<void>
}

/** One guard session of the run, and whether a test file is using it now. */
interface HostedSession {
  session: Promise<GuardSession | undefined>
  /** A file began and has not ended (its id, `true` when it gave none): a new file finding it so ended without telling (its worker died). */
  inFile: string | boolean
  /** Requests on one session run one after the other. */
  queue: Promise<unknown>
}

/** What a session is bound to: the guarded stores worker `id` sees and the guard's options. */
export function guardKey(p: RigProvided, id?: number): string {
  const { baselines: _, host: __, hostStatus: ___, ...options } = p.guard
  return JSON.stringify([options, Object.values(p.services).flatMap((s) => (s.guarded ? [[s.name, s.kind, workerUrl(s, id)]] : []))])
}

/**
 * Serves the guard of the run described by `provided` (the guard's options, its shared
 * baselines) to its workers. `status`: the run's environment, when it runs in this process
 * (its status, as its control server answers it).
 */
export async function serveGuard(provided: RigProvided, status?: () => EnvironmentStatus): Promise<GuardHost> {
  // A private directory below rig's verified temp root: only this user reaches the socket, and
  // when this process is SIGKILLed the next start's sweep removes it (its owner is dead).
  const dir = ownedTempDir('guard')
  const socket = path.join(dir, 'guard.sock')
  const sessions = new Map<string, HostedSession>()
  const { openGuardSession } = await import('./guard-session.ts')

  const sessionOf = (worker: number): HostedSession => {
    const p = ownCopies(provided, worker)
    const key = guardKey(p, worker)
    let s = sessions.get(key)
    if (!s) {
      const session = openGuardSession(p, worker)
      sessions.set(key, (s = { session, inFile: false, queue: Promise.resolve() }))
      // One that could not open (a store not answering) is tried again by the next file, as a worker's own would be.
      session.catch(() => {
        if (sessions.get(key)?.session === session) sessions.delete(key)
      })
    }
    return s
  }
  const serial = <T>(s: HostedSession, f: (g: GuardSession | undefined) => Promise<T>): Promise<T> => {
    const next = s.queue.then(async () => f(await s.session))
    s.queue = next.catch(() => {})
    return next
  }

  const handle = async (op: string, r: GuardRequest): Promise<unknown> => {
    const worker = Number.isInteger(r.worker) && r.worker > 0 ? r.worker : 1
    const s = sessionOf(worker)
    switch (op) {
      case 'open':
        return serial(s, async (g) => {
          // The last file on these stores never ended (its worker died mid-test): what it left
          // is nobody's leak now; back to the baseline quietly, as a new worker's baseline did not see it.
          if (s.inFile) await g?.restore().catch(() => {})
          s.inFile = r.file ?? true
          return { guarded: g !== undefined }
        })
      case 'check': {
        // Taken as the request arrives, before it waits for the session: this process has read
        // what the services wrote to their pipes before the worker asked, and written it to their
        // log files (synchronously), the worker's copies' included.
        const now = r.status && status ? status() : undefined
        const answer: CheckAnswer = now ? { status: now, logs: Object.fromEntries(logOffsets(Object.values(ownCopies(provided, worker).services))) } : {}
        // A service that died: the worker reports it, and the stores are left as they are.
        if (now && (r.gone ?? []).some((n) => exitedIn(now, n))) return { ...answer, skipped: true }
        const outcome = await serial(s, async (g): Promise<GuardOutcome> => (g && r.test ? g.check(r.test, r.allowed === true ? true : new Set(r.allowed ?? [])) : { leaks: [] }))
        return { ...outcome, ...answer }
      }
      case 'settle':
        return serial(s, async (g) => {
          await g?.settle()
          return {}
        })
      case 'fixture':
        return serial(s, async (g) => {
          if (!g) return { guarded: false }
          await g.useFixture(String(r.fixture))
          return { guarded: true }
        })
      case 'end':
        return serial(s, async (g) => {
          // Sent without waiting by a file that loaded no fixture, it may come after the next file began.
          if (r.file !== undefined && s.inFile !== r.file) return {}
          s.inFile = false
          // The next file starts from the run's baseline, whatever this one loaded.
          await g?.resetFixture()
          return {}
        })
      default:
        throw Object.assign(new Error(`no guard operation "${op}"`), { code: 'RIG_GUARD_HOST' })
    }
  }

  const server = http.createServer((req, res) => {
    const send = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' })
      res.end(JSON.stringify(body))
    }
    let text = ''
    req.setEncoding('utf8')
    req.on('data', (c: string) => (text += c))
    req.on('end', () => {
      void (async () => {
        try {
          if (req.method !== 'POST') return send(405, { error: 'POST only', name: 'Error' })
          send(200, await handle((req.url ?? '/').slice(1), JSON.parse(text || '{}') as GuardRequest))
        } catch (err) {
          const e = err as { message?: string; name?: string; code?: unknown }
          send(500, { error: e?.message ?? String(err), name: e?.name ?? 'Error', ...(typeof e?.code === 'string' ? { code: e.code } : {}) })
        }
      })()
    })
  })
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(socket, () => resolve())
    })
  } catch (err) {
    // Nothing of a host that could not listen stays behind.
    fs.rmSync(dir, { recursive: true, force: true })
    throw err
  }
  // The run ends when the runner is done, not when the guard host is idle.
  server.unref()
  let closing: Promise<void> | undefined
  return {
    socket,
    close: () =>
      (closing ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve())
          server.closeAllConnections()
        })
        for (const s of sessions.values()) {
          await s.queue
          await (await s.session.catch(() => undefined))?.close().catch(() => {})
        }
        sessions.clear()
        fs.rmSync(dir, { recursive: true, force: true })
      })()),
  }
}
