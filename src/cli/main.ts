// The one place that parses arguments, prints usage, catches errors and sets the exit code.
import { createRequire } from 'node:module'
import { parseArgs } from 'node:util'
import { suggest } from '../config/suggest.ts'
import { describeError, RigError } from '../errors.ts'
import { fromSystemError } from '../system-error.ts'
import { globalOptions, toParseArgs, type Command, type OptionSpec } from './command.ts'
import { checkCommand } from './commands/check.ts'
import { controlCommands } from './commands/control.ts'
import { doctor } from './commands/doctor.ts'
import { down } from './commands/down.ts'
import { init } from './commands/init.ts'
import { logs } from './commands/logs.ts'
import { run } from './commands/run.ts'
import { snapshot } from './commands/snapshot.ts'
import { serveCommand } from './commands/serve.ts'
import { status } from './commands/status.ts'
import { up } from './commands/up.ts'
import { Output } from './output.ts'

/** Every command, in the order `rig --help` lists them. */
export const commands: Command[] = [init, up, down, status, logs, run, ...controlCommands, snapshot, checkCommand, serveCommand, doctor]

/** Adds commands contributed by other modules (checks, snapshots) before `main` runs. */
export function registerCommands(...extra: Command[]): void {
  for (const c of extra) if (!commands.some((k) => k.name === c.name)) commands.push(c)
}

function optionLines(options: Record<string, OptionSpec>): string[] {
  return Object.entries(options)
    .filter(([, o]) => !o.description.startsWith('(internal)'))
    .map(([name, o]) => {
      const flag = `${o.short ? `-${o.short}, ` : '    '}--${name}${o.type === 'string' ? ` ${o.value ?? 'VALUE'}` : ''}`
      return `  ${flag.padEnd(26)} ${o.description}`
    })
}

function mainHelp(out: Output): void {
  out.print(`${out.s.bold('rig')} — real services for integration tests, ready in milliseconds\n`)
  out.print('Usage: rig <command> [options]\n')
  out.print('Commands:')
  const width = Math.max(...commands.map((c) => c.name.length))
  for (const c of commands) out.print(`  ${c.name.padEnd(width)}  ${c.summary}`)
  out.print('\nOptions:')
  for (const l of optionLines(globalOptions)) out.print(l)
  out.print('  -v, --version              print the version')
  out.print('\nExit codes: 0 ok, 1 failure, 2 usage or config error, 3 nothing running, 130 interrupted.')
  out.print("Run 'rig <command> --help' for a command's options.")
}

function commandHelp(out: Output, c: Command): void {
  out.print(`Usage: ${c.usage}\n\n${c.summary}${c.details ? `\n\n${c.details}` : ''}\n\nOptions:`)
  for (const l of optionLines({ ...c.options, ...globalOptions })) out.print(l)
}

/** Runs the CLI with `argv` (without `node` and the script); resolves with the exit code. */
export async function main(argv: string[], out = new Output()): Promise<number> {
  const [name, ...args] = argv
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    mainHelp(out)
    return name === undefined ? 2 : 0
  }
  if (name === '--version' || name === '-v') {
    // Required, not imported: an import would make the build emit the repository's manifest
    // in place of the published one.
    const pkg = createRequire(import.meta.url)('../../package.json') as { version: string }
    out.print(pkg.version)
    return 0
  }
  const cmd = commands.find((c) => c.name === name)
  if (!cmd) {
    const near = suggest(name, commands.map((c) => c.name))
    out.error(`unknown command "${name}"${near ? ` — did you mean "${near}"? (rig ${near}${args.length ? ` ${args.join(' ')}` : ''})` : ''}`)
    out.info(`commands: ${commands.map((c) => c.name).join(', ')}`)
    return 2
  }
  const dash = args.indexOf('--')
  const own = dash >= 0 ? args.slice(0, dash) : args
  const rest = dash >= 0 ? args.slice(dash + 1) : []
  let parsed: ReturnType<typeof parseArgs>
  try {
    parsed = parseArgs({ args: own, options: toParseArgs({ ...cmd.options, ...globalOptions }), allowPositionals: cmd.positionals ?? false, strict: true })
  } catch (err) {
    const unknown = /^Unknown option '(-{1,2})([^']+)'/.exec(err instanceof Error ? err.message : '')
    const near = unknown?.[1] === '--' && unknown[2] ? suggest(unknown[2], Object.keys({ ...cmd.options, ...globalOptions })) : undefined
    out.error(`${describeError(err)}${near ? ` — did you mean --${near}?` : ''}`)
    out.info(`usage: ${cmd.usage}  (rig ${cmd.name} --help)`)
    return 2
  }
  if (parsed.values.help) {
    commandHelp(out, cmd)
    return 0
  }
  try {
    return await cmd.run({ values: parsed.values as Record<string, string | boolean | string[] | undefined>, positionals: parsed.positionals, rest, out })
  } catch (err) {
    const known = err instanceof RigError ? err : fromSystemError(err)
    if (known) {
      out.error(known.message)
      return known.exitCode
    }
    out.error(err instanceof Error ? (err.stack ?? err.message) : String(err))
    return 1
  }
}
