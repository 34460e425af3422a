// The health-check project the checks and serve benchmarks run: 20 checks, 15 quick HTTP checks
// on a loopback API and 5 that take 1 s, in a temp dir, importing the checks API of a given
// checkout (each checkout registers checks in its own module instance, so each gets its own).
import fs from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'

/** A loopback API the quick checks call: answers `{"ok":true}` to anything. */
export async function startApi(): Promise<{ url: string; close(): void }> {
  const server = http.createServer((_, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'))
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address() as { port: number }
  return { url: `http://127.0.0.1:${port}`, close: () => void server.close() }
}

/** Writes the project; `repo` is the checkout whose `src/checks/index.ts` the checks import. */
export function makeChecksProject(repo: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rig-checks-bench-'))
  fs.writeFileSync(path.join(dir, 'package.json'), '{"type":"module"}\n')
  fs.mkdirSync(path.join(dir, 'checks'))
  const entry = path.join(repo, 'src/checks/index.ts')
  const lines = [`import { check, env, expectHttp } from ${JSON.stringify(entry)}`, `const sleep = (ms, signal) => new Promise((resolve, reject) => { const t = setTimeout(resolve, ms); signal.addEventListener('abort', () => { clearTimeout(t); reject(signal.reason) }, { once: true }) })`]
  for (let i = 0; i < 15; i++) lines.push(`check('quick ${i}', { tags: ['smoke'] }, () => expectHttp(env.API_URL + '/health', { status: 200 }))`)
  for (let i = 0; i < 5; i++) lines.push(`check('slow ${i}', { tags: ['diagnostic'], timeout: 5000 }, (ctx) => sleep(1000, ctx.signal))`)
  fs.writeFileSync(path.join(dir, 'checks', 'bench.check.ts'), lines.join('\n') + '\n')
  return dir
}
