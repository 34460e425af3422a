// The shape of one CLI command: its spec (name, help, options) in commands/index.ts, which
// imports nothing, and what it does in commands/<name>.ts, imported only to run it.
import type { ParseArgsConfig } from 'node:util'
import type { Output } from './output.ts'

/** One option of a command, for parsing and for `--help`. */
export interface OptionSpec {
  type: 'boolean' | 'string'
  short?: string
  multiple?: boolean
  /** Shown in `--help`. */
  description: string
  /** Placeholder shown in `--help` for string options, e.g. `PATH`. */
  value?: string
  default?: string | boolean
}

/** What a command's `run` receives. */
export interface CommandContext {
  /** Parsed options (global ones included: `config`, `json`). */
  values: Record<string, string | boolean | string[] | undefined>
  /** Positional arguments before `--`. */
  positionals: string[]
  /** Everything after `--` (for `rig run -- CMD...`). */
  rest: string[]
  out: Output
}

/** What a command does with its parsed arguments; resolves with the exit code. Throw a RigError for failures. */
export type CommandRun = (ctx: CommandContext) => Promise<number>

/** A `rig` subcommand as `--help` and the argument parser see it. */
export interface CommandSpec {
  name: string
  /** One line for the command list. */
  summary: string
  /** e.g. `rig logs [NAME] [-f]`. */
  usage: string
  /** Longer help text shown under the usage, optional. */
  details?: string
  options: Record<string, OptionSpec>
  /** Whether positional arguments are accepted. @default false */
  positionals?: boolean
  /** Imports the command's module, and what it needs, to run it: never for `--help`. */
  load(): Promise<CommandRun>
}

/** Options every command accepts. */
export const globalOptions: Record<string, OptionSpec> = {
  config: { type: 'string', short: 'c', value: 'PATH', description: 'config file (default: nearest rig.config.ts)' },
  help: { type: 'boolean', short: 'h', description: 'show help' },
}

/** Converts option specs to node:util parseArgs options. */
export function toParseArgs(options: Record<string, OptionSpec>): NonNullable<ParseArgsConfig['options']> {
  const out: NonNullable<ParseArgsConfig['options']> = {}
  for (const [name, o] of Object.entries(options)) {
    out[name] = { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) }
  }
  return out
}
