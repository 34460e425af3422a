// `RIG_TESTS`: run exactly these tests, in this order (what `rig bisect` replays). A JSON file
// listing `{ file, name }` in run order; files run in the order they first appear, each with
// only its listed tests (Vitest's per-file `testNames`), so a test's hooks and its file's
// other tests stay out of the run.
import fs from 'node:fs'
import path from 'node:path'
import { RigError } from '../errors.ts'

/** One test to run: its file relative to the project root and its full name (`suite > test`). */
export interface SelectedTest {
  file: string
  name: string
}

/** The selection: files in order, and per file the full names of the tests to run. */
export interface Selection {
  files: string[]
  names: Map<string, string[]>
}

/** Reads `RIG_TESTS`, or undefined when it is not set. */
export function testSelection(root: string, env: NodeJS.ProcessEnv = process.env): Selection | undefined {
  const file = env.RIG_TESTS
  if (!file) return undefined
  let parsed: unknown
  try {
    parsed = JSON.parse(fs.readFileSync(path.resolve(root, file), 'utf8'))
  } catch (err) {
    throw new RigError('RIG_TESTS_INVALID', `RIG_TESTS=${file}: cannot read it (${(err as Error).message}); give a JSON array of {"file", "name"}`, { exitCode: 2 })
  }
  const ok = Array.isArray(parsed) && parsed.every((t) => typeof t === 'object' && t !== null && typeof (t as SelectedTest).file === 'string' && typeof (t as SelectedTest).name === 'string')
  if (!ok) throw new RigError('RIG_TESTS_INVALID', `RIG_TESTS=${file}: expected a JSON array of {"file", "name"} (a file relative to the project root, a test's full name)`, { exitCode: 2 })
  const names = new Map<string, string[]>()
  for (const t of parsed as SelectedTest[]) {
    const f = path.normalize(t.file)
    names.set(f, [...(names.get(f) ?? []), t.name])
  }
  return { files: [...names.keys()], names }
}
