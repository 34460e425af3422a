// Throw-away projects using the Vitest plugin, run by a real `vitest run` subprocess.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { FIXTURES, makeProject, NODE, REPO, type Project } from './project.ts'

export const VITEST = path.join(REPO, 'node_modules/vitest/vitest.mjs')

/** rig.config.ts of one service: the echo app (test/support/fixtures/echo-server.cjs) as `app`. */
export const ECHO_CONFIG = `import { defineConfig, command, http } from 'testrig'
export default defineConfig({ services: { app: command({ run: [process.execPath, ${JSON.stringify(path.join(FIXTURES, 'echo-server.cjs'))}], env: { PORT: '{port}' }, ready: http('/health') }) } })
`

/** A project using the plugin (no shuffle, so "later tests" are later), with `config` as rig.config.ts. */
export function pluginProject(config: string | undefined, pluginOptions = '{ order: { shuffle: false } }'): Project {
  const p = makeProject(config ?? '')
  if (config === undefined) fs.rmSync(path.join(p.dir, 'rig.config.ts'))
  for (const dep of ['vitest', 'pg']) fs.symlinkSync(path.join(REPO, 'node_modules', dep), path.join(p.dir, 'node_modules', dep))
  p.write('vitest.config.ts', `import { defineConfig } from 'vitest/config'\nimport { rig } from 'testrig/vitest'\nexport default defineConfig({ plugins: [rig(${pluginOptions})], test: { include: ['test/**/*.test.ts'] } })\n`)
  return p
}

export interface Run {
  code: number | null
  output: string
}

/** `vitest run` in the project; never rejects. `env` is added to this process's environment. */
export function vitest(p: Project, options: { env?: Record<string, string>; args?: string[]; onOutput?: (text: string, child: ReturnType<typeof spawn>) => void } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(NODE, [VITEST, 'run', ...(options.args ?? [])], { cwd: p.dir, env: { ...process.env, NO_COLOR: '1', RIG_TMP_DIR: path.join(p.dir, 'tmp'), VITEST: undefined, VITEST_POOL_ID: undefined, VITEST_WORKER_ID: undefined, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    const on = (d: string): void => {
      output += d
      options.onOutput?.(output, child)
    }
    child.stdout.setEncoding('utf8').on('data', on)
    child.stderr.setEncoding('utf8').on('data', on)
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, output })
    })
  })
}

export async function until(condition: () => boolean, timeoutMs = 15_000): Promise<void> {
  for (const end = Date.now() + timeoutMs; !condition() && Date.now() < end; ) await new Promise((r) => setTimeout(r, 50))
}

