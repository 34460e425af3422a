// The one place that parses arguments, prints usage, catches errors and sets the exit code.
// It reads the commands' specs only: the module of a command is imported to run it, and the
// error helpers when something went wrong, so `rig --help` loads a handful of small files.
import { createRequire } from 'node:module'
import { parseArgs } from 'node:util'
import { globalOptions, toParseArgs, type CommandSpec, type OptionSpec } from './command.ts'
import { COMMANDS, commandNamed } from './commands/index.ts'
import { Output } from './output.ts'

function optionLines(options: Record<string, OptionSpec>): string[] {
  return Object.entries(options)
    .filter(([, o]) => !o.description.startsWith('(internal)'))
    .map(([name, o]) => {
      const flag = `${o.short ? `-${o.short}, ` : '    '}--${name}${o.type === 'string' ? ` ${o.value ?? 'VALUE'}` : ''}`
      return `  ${flag.padEnd(26)} ${o.description}`
    })
}

function mainHelp(out: Output): void {
  const width = Math.max(...COMMANDS.map((c) => c.name.length))
  out.print(
    [
      `${out.s.bold('rig')} — real services for integration tests, ready in milliseconds\n`,
      'Usage: rig <command> [options]\n',
      'Commands:',
      ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
      '\nOptions:',
      ...optionLines(globalOptions),
      '  -v, --version              print the version',
      '\nExit codes: 0 ok, 1 failure, 2 usage or config error, 3 nothing running, 130 interrupted.',
      "Run 'rig <command> --help' for a command's options.",
    ].join('\n'),
  )
}

function commandHelp(out: Output, c: CommandSpec): void {
  out.print([`Usage: ${c.usage}\n\n${c.summary}${c.details ? `\n\n${c.details}` : ''}\n\nOptions:`, ...optionLines({ ...c.options, ...globalOptions })].join('\n'))
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
  const cmd = commandNamed(name)
  if (!cmd) {
    const { suggest } = await import('../config/suggest.ts')
    const near = suggest(name, COMMANDS.map((c) => c.name))
    out.error(`unknown command "${name}"${near ? ` — did you mean "${near}"? (rig ${near}${args.length ? ` ${args.join(' ')}` : ''})` : ''}`)
    out.info(`commands: ${COMMANDS.map((c) => c.name).join(', ')}`)
    return 2
  }
  const dash = args.indexOf('--')
  const own = dash >= 0 ? args.slice(0, dash) : args
  const rest = dash >= 0 ? args.slice(dash + 1) : []
  let parsed: ReturnType<typeof parseArgs>
  try {
    parsed = parseArgs({ args: own, options: toParseArgs({ ...cmd.options, ...globalOptions }), allowPositionals: cmd.positionals ?? false, strict: true })
  } catch (err) {
    const [{ describeError }, { suggest }] = await Promise.all([import('../errors.ts'), import('../config/suggest.ts')])
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
    const run = await cmd.load()
    return await run({ values: parsed.values as Record<string, string | boolean | string[] | undefined>, positionals: parsed.positionals, rest, out })
  } catch (err) {
    const [{ RigError }, { fromSystemError }] = await Promise.all([import('../errors.ts'), import('../system-error.ts')])
    const known = err instanceof RigError ? err : fromSystemError(err)
    if (known) {
      out.error(known.message)
      return known.exitCode
    }
    out.error(err instanceof Error ? (err.stack ?? err.message) : String(err))
    return 1
  }
}
