// Per-instance credentials: the password (src/services/credentials.ts) is set by the server's
// init file at every start, so the shared init cache holds no secret and no account without one
// is reachable over TCP.
import fs from 'node:fs'
import type { ServiceUser } from '../../providers/process/user.ts'

const literal = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`

/**
 * The init file's statements: `user` at localhost (socket) and 127.0.0.1 (TCP) with every
 * privilege and `password`; root gets the password too. Idempotent, because a restart runs
 * it again.
 */
export function initStatements(user: string, password: string): string[] {
  const pw = literal(password)
  const out: string[] = []
  for (const host of ['localhost', '127.0.0.1']) {
    const account = `${literal(user)}@${literal(host)}`
    out.push(`CREATE USER IF NOT EXISTS ${account} IDENTIFIED BY ${pw}`, `ALTER USER ${account} IDENTIFIED BY ${pw}`, `GRANT ALL PRIVILEGES ON *.* TO ${account} WITH GRANT OPTION`)
  }
  if (user !== 'root') out.push(`ALTER USER 'root'@'localhost' IDENTIFIED BY ${pw}`)
  return out
}

/** Writes the init file: created fresh (never through an existing file or link), readable by the service account only. */
export function writeInitFile(file: string, statements: readonly string[], owner: ServiceUser | undefined): void {
  fs.rmSync(file, { force: true })
  const fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600)
  try {
    fs.writeSync(fd, statements.map((s) => `${s};\n`).join(''))
    if (owner) fs.fchownSync(fd, owner.uid, owner.gid)
  } finally {
    fs.closeSync(fd)
  }
}
