// The CLI's output path when the reader goes away: `rig --help | head -1` and the like end
// quietly with the command's own exit code, never with an EPIPE stack trace.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { PassThrough } from 'node:stream'
import { afterAll, describe, expect, it } from 'vitest'
import { Output } from '../../src/cli/output.ts'
import { BIN, NODE } from '../support/project.ts'

const dirs: string[] = []
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true })
})

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rig-output-'))
  dirs.push(dir)
  return dir
}

/** Runs rig with its stdout pipe closed by the reader before rig writes anything. */
function rigWithClosedStdout(args: string[], cwd: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(NODE, ['--no-warnings', BIN, ...args], { cwd, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] })
    // Node takes tens of ms to start: the read end is gone before the first write.
    child.stdout.destroy()
    let stderr = ''
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stderr })
    })
  })
}

describe('a reader that goes away', () => {
  it('--help, a command\'s --help and --json output end quietly with the usual exit code', async () => {
    const cwd = tempDir()
    for (const [args, code] of [
      [['--help'], 0],
      [['up', '--help'], 0],
      [['status', '--json'], 3],
    ] as const) {
      const r = await rigWithClosedStdout([...args], cwd)
      expect(r.stderr, args.join(' ')).not.toMatch(/EPIPE|Unhandled 'error'|at /)
      expect(r.code, args.join(' ')).toBe(code)
    }
    // Errors still reach stderr.
    expect((await rigWithClosedStdout(['status', '--json'], cwd)).stderr).toContain('no environment is running')
  })

  it('`rig --help | head -1` prints the first line, and rig exits 0', async () => {
    const r = await new Promise<{ stdout: string; stderr: string }>((resolve) => {
      const sh = spawn('bash', ['-c', `"${NODE}" "${BIN}" --help | head -1; echo "rig exit code \${PIPESTATUS[0]}" >&2`], { env: { ...process.env, NO_COLOR: '1' } })
      let stdout = ''
      let stderr = ''
      sh.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
      sh.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
      sh.on('close', () => resolve({ stdout, stderr }))
    })
    expect(r.stdout).toBe('rig — real services for integration tests, ready in milliseconds\n')
    expect(r.stderr).toBe('rig exit code 0\n')
  })

  it('rig logs -f stops following once nobody reads its output', async () => {
    const cwd = tempDir()
    fs.writeFileSync(path.join(cwd, 'rig.config.ts'), 'export default { services: {} }\n')
    fs.mkdirSync(path.join(cwd, '.rig/logs'), { recursive: true })
    fs.writeFileSync(path.join(cwd, '.rig/logs/api.log'), 'listening\n'.repeat(100))
    const r = await rigWithClosedStdout(['logs', '-f'], cwd)
    expect(r.code).toBe(0)
    expect(r.stderr).toBe('')
  })
})

describe('Output', () => {
  const stream = (): NodeJS.WriteStream => Object.assign(new PassThrough(), { isTTY: false }) as unknown as NodeJS.WriteStream

  it('drops what is written after EPIPE and says stdout is closed; other errors still surface', () => {
    const stdout = stream()
    const out = new Output(stdout, stream())
    out.print('one')
    expect(out.closed).toBe(false)
    stdout.emit('error', Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }))
    expect(out.closed).toBe(true)
    expect(() => {
      out.print('two')
      out.json({ three: 3 })
      out.write('four')
    }).not.toThrow()
    const other = stream()
    new Output(other, stream())
    expect(() => other.emit('error', Object.assign(new Error('no space'), { code: 'ENOSPC' }))).toThrow('no space')
  })
})
