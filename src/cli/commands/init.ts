// `rig init`: a first rig.config.ts from what package.json says the project uses, rig added to
// its test runner, rig's files ignored by git, and the next commands to run. Bad input (no
// package.json, an unknown runner, an existing config without --force) is refused before
// anything is written.
import fs from 'node:fs'
import path from 'node:path'
import { CONFIG_FILES } from '../../config/defaults.ts'
import { InitError } from '../../init/errors.ts'
import { ignoreRigFiles } from '../../init/gitignore.ts'
import { inspectProject } from '../../init/inspect-project.ts'
import { planServices } from '../../init/plan-services.ts'
import { renderConfig } from '../../init/render-config.ts'
import { RUNNERS, type Runner } from '../../init/runners.ts'
import { writeProjectFile } from '../../init/write-file.ts'
import type { CommandContext } from '../command.ts'

function pickRunner(name: string | undefined, detected: Runner | undefined): Runner | undefined {
  if (name === undefined) return detected
  const runner = RUNNERS.find((r) => r.name === name)
  if (!runner) throw new InitError('RIG_INIT_UNKNOWN_RUNNER', `unknown test runner "${name}": rig init knows ${RUNNERS.map((r) => r.name).join(', ')} (--runner NAME), or leave --runner out`)
  return runner
}

/** An existing config file in `dir`, links included (a dangling one is still in the way). */
function existingConfig(dir: string): string | undefined {
  return CONFIG_FILES.map((n) => path.join(dir, n)).find((f) => fs.lstatSync(f, { throwIfNoEntry: false }) !== undefined)
}

/** `rig init`: writes the config, joins the test runner, ignores rig's files. */
export async function init({ values, out }: CommandContext): Promise<number> {
  const facts = inspectProject(process.cwd())
  const runner = pickRunner(values.runner as string | undefined, RUNNERS.find((r) => r.detect(facts)))
  const existing = existingConfig(facts.dir)
  if (existing && !values.force) {
    throw new InitError('RIG_INIT_CONFIG_EXISTS', `${path.basename(existing)} already exists: edit it, or run rig init --force to replace it`)
  }
  // A TypeScript config is replaced in place; next to a JavaScript one, the new file is read first.
  const file = existing && /\.m?ts$/.test(existing) ? existing : path.join(facts.dir, facts.esm ? 'rig.config.ts' : 'rig.config.mts')
  const plan = planServices(facts)
  writeProjectFile(file, renderConfig(plan), { replace: Boolean(values.force) })
  const live = plan.services.filter((s) => !s.commented)
  out.print(`${out.s.green('✓')} ${existing === file ? 'replaced' : 'wrote'} ${path.basename(file)}: ${live.map((s) => `${s.name} (${s.factory})`).join(', ')}`)
  if (existing && existing !== file) out.print(`${out.s.yellow('!')} ${path.basename(existing)} is still there, unused: rig reads ${path.basename(file)} first`)

  const joined = runner?.join(facts)
  if (joined?.changed) {
    const what = { created: 'wrote', edited: 'added rig to', unchanged: 'rig is already in' }[joined.changed.action]
    out.print(`${out.s.green('✓')} ${what} ${path.basename(joined.changed.file)}`)
  }
  for (const line of joined?.instructions ?? []) out.print(line.startsWith(' ') ? line : `${out.s.yellow('!')} ${line}`)
  if (!runner) out.print(`${out.s.yellow('!')} no test runner found in package.json: rig init --runner ${RUNNERS.map((r) => r.name).join('|')} adds rig to one`)

  const ignored = ignoreRigFiles(facts.dir)
  if (ignored.length > 0) out.print(`${out.s.green('✓')} .gitignore: added ${ignored.join(' and ')}`)
  if (plan.missingDrivers.length > 0) out.print(`${out.s.yellow('!')} rig talks to these services through ${plan.missingDrivers.join(' and ')}: npm install --save-dev ${plan.missingDrivers.join(' ')}`)

  const test = runner ? runner.testCommand : 'npx rig run -- npm test'
  out.print(`\nNext:\n  ${'npx rig up'.padEnd(23)} start the services; Ctrl-C stops them\n  ${test.padEnd(23)} ${runner ? 'run your tests through rig' : 'run your tests against a fresh environment'}`)
  return 0
}
