// Logins to rig's PostgreSQL: TCP needs the environment's password (SCRAM-SHA-256); the unix
// socket lives in a directory only the server's account (and root) can open, and trusts who
// gets there. The shared init cache holds no password: a spare data dir made ahead of a start
// comes with its own (spare.ts), set while it was made; otherwise a start sets its own through
// the socket, as the first step of readiness, with a verifier computed while the data is copied.
import { createHash, createHmac, pbkdf2, randomBytes } from 'node:crypto'
import fs from 'node:fs'
import { promisify } from 'node:util'
import { pgQuery } from '../../drivers/pg.ts'
import type { Probe } from '../../probes/probe.ts'

/** pg_hba.conf of every rig data directory. */
export const PG_HBA = [
  '# Written by rig. The socket directory is private to the server account (mode 0700),',
  '# so a socket login is trusted; TCP logins need the password rig generates per start.',
  'local all all trust',
  'host all all 127.0.0.1/32 scram-sha-256',
  'host all all ::1/128 scram-sha-256',
  '',
].join('\n')

// PostgreSQL's own default: every client library accepts it.
const ITERATIONS = 4096

/**
 * The SCRAM-SHA-256 verifier PostgreSQL stores for `password` (RFC 5802/7677), so the
 * password itself never reaches the server nor its logs.
 */
export async function scramVerifier(password: string): Promise<string> {
  const salt = randomBytes(16)
  // rig's passwords are ASCII, which SASLprep leaves as is.
  const salted = await promisify(pbkdf2)(password, salt, ITERATIONS, 32, 'sha256')
  const clientKey = createHmac('sha256', salted).update('Client Key').digest()
  const storedKey = createHash('sha256').update(clientKey).digest()
  const serverKey = createHmac('sha256', salted).update('Server Key').digest()
  return `SCRAM-SHA-256$${ITERATIONS}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`
}

/** What the password step needs to reach the server. */
export interface SocketLogin {
  socketDir: string
  port: number
  user: string
  database: string
  /** Resolves with the verifier to store. */
  verifier: Promise<string>
  /**
   * Resolves when the server logs that it accepts connections: an attempt waits for it (at most
   * {@link LOG_WAIT_MS}) instead of polling a server that is still starting.
   */
  accepting?: () => Promise<void>
  /**
   * The server's `postmaster.pid`: when the log line is late (or logging is set not to say it),
   * the status PostgreSQL writes there tells whether a login can work yet.
   */
  pidFile?: string
}

/** How long an attempt waits for the log line before it reads the status in `postmaster.pid`… */
const LOG_WAIT_MS = 100
/** … which it then reads this often… */
const STATUS_POLL_MS = 10
/** … until the server says it accepts connections, or this long has passed: then it tries anyway. */
const MAX_WAIT_MS = 1000

const { O_RDONLY, O_NOFOLLOW, O_NONBLOCK } = fs.constants

/**
 * PostgreSQL's own state, line 8 of `postmaster.pid` (what `pg_ctl start -w` reads): `ready`
 * (or `standby`) once it accepts connections, `starting` before. Undefined when the file is
 * missing, not a regular file, or says nothing yet. Opened without following a link and without
 * blocking: the data dir belongs to the server's account.
 */
export function postmasterStatus(pidFile: string): string | undefined {
  let fd: number
  try {
    fd = fs.openSync(pidFile, O_RDONLY | O_NOFOLLOW | O_NONBLOCK)
  } catch {
    return undefined
  }
  try {
    if (!fs.fstatSync(fd).isFile()) return undefined
    const buf = Buffer.alloc(4096)
    const text = buf.subarray(0, fs.readSync(fd, buf, 0, buf.length, 0)).toString('utf8')
    return text.split('\n')[7]?.trim() || undefined
  } catch {
    return undefined
  } finally {
    fs.closeSync(fd)
  }
}

/**
 * Resolves once a login can work: at the log line; past {@link LOG_WAIT_MS} without it, once
 * `postmaster.pid` says ready (no login is tried on a server still starting: each one costs it a
 * fork, and a failed attempt under way when the line comes delays the next); at the latest
 * after {@link MAX_WAIT_MS}.
 */
function waitAccepting(login: SocketLogin, accepting: () => Promise<void>, signal: AbortSignal): Promise<'line' | 'status' | 'unknown'> {
  return new Promise((resolve) => {
    const began = performance.now()
    let timer: NodeJS.Timeout | undefined
    const done = (how: 'line' | 'status' | 'unknown'): void => {
      clearTimeout(timer)
      signal.removeEventListener('abort', aborted)
      resolve(how)
    }
    const aborted = (): void => done('unknown')
    const look = (): void => {
      const status = login.pidFile ? postmasterStatus(login.pidFile) : undefined
      if (status === 'ready' || status === 'standby') done('status')
      else if (!login.pidFile || performance.now() - began >= MAX_WAIT_MS) done('unknown')
      else timer = setTimeout(look, STATUS_POLL_MS)
    }
    timer = setTimeout(look, LOG_WAIT_MS)
    signal.addEventListener('abort', aborted, { once: true })
    void accepting().then(() => done('line'))
  })
}

const ident = (s: string): string => `"${s.replaceAll('"', '""')}"`

const socketUrl = (login: SocketLogin): string => `postgres://${encodeURIComponent(login.user)}@localhost:${login.port}/${encodeURIComponent(login.database)}?host=${encodeURIComponent(login.socketDir)}`

/**
 * The readiness step of a server whose role already has the environment's password (a spare
 * made with it): passes when PostgreSQL says it accepts connections (its log line, or the
 * status in `postmaster.pid`), without a login of its own. When neither says so within
 * {@link MAX_WAIT_MS}, a login on the socket decides.
 */
export function acceptingProbe(login: SocketLogin): Probe {
  return {
    name: 'postgres accepts connections (password set ahead)',
    timeoutMs: 2000,
    async run(ctx) {
      const how = login.accepting ? await waitAccepting(login, login.accepting, ctx.signal) : 'unknown'
      ctx.signal.throwIfAborted()
      if (how !== 'unknown') return { detail: how === 'line' ? 'ready to accept connections (log)' : 'ready (postmaster.pid)' }
      await pgQuery(socketUrl(login), 'select 1', { signal: ctx.signal })
      return { detail: 'login on its socket' }
    },
  }
}

/**
 * A readiness step that passes once PostgreSQL accepts a login on its socket, and stores the
 * environment's password there. The engine runs it before any readiness probe, also before
 * the ones a user configures, and again after a restart (same password).
 */
export function setPasswordProbe(login: SocketLogin): Probe {
  const url = socketUrl(login)
  return {
    name: 'postgres login on its socket (sets the password)',
    timeoutMs: 2000,
    async run(ctx) {
      if (login.accepting) await waitAccepting(login, login.accepting, ctx.signal)
      const verifier = await login.verifier
      // One round trip: the verifier is a literal (single quotes cannot occur in base64).
      await pgQuery(url, `alter role ${ident(login.user)} password '${verifier}'; select 1`, { signal: ctx.signal })
      return { detail: 'password set' }
    },
  }
}
