// expectEnv: configuration present and well formed. Messages never print a value, because
// these are often secrets and check output ends up in dashboards and CI logs.
import { ProbeFailure } from '../../probes/probe.ts'
import { note } from '../context.ts'
import { env as checkEnv } from '../env.ts'

/**
 * What a variable must look like: `'present'` (non-empty), `'url'` (parses as a URL),
 * `'int'`, `'port'` (1–65535), `'bool'` (true/false/1/0), a list of allowed values, a RegExp,
 * or a predicate.
 */
export type EnvRule = 'present' | 'url' | 'int' | 'port' | 'bool' | readonly string[] | RegExp | ((value: string) => boolean)

function problem(rule: EnvRule, v: string): string | undefined {
  if (rule === 'present') return undefined
  if (rule === 'url') {
    try {
      new URL(v)
      return undefined
    } catch {
      return 'does not parse as a URL'
    }
  }
  if (rule === 'int') return /^-?\d+$/.test(v) ? undefined : 'is not an integer'
  if (rule === 'port') return /^\d+$/.test(v) && Number(v) >= 1 && Number(v) <= 65535 ? undefined : 'is not a port (1–65535)'
  if (rule === 'bool') return /^(true|false|1|0)$/i.test(v) ? undefined : 'is not true/false/1/0'
  if (rule instanceof RegExp) return rule.test(v) ? undefined : `does not match ${rule}`
  if (typeof rule === 'function') return rule(v) ? undefined : 'is not well formed (predicate returned false)'
  return rule.includes(v) ? undefined : `is not one of ${rule.join(', ')}`
}

/**
 * Passes when every variable is set (non-empty) and follows its rule; reports all problems at
 * once. Reads the checks' `env` (target values over process.env) unless `source` is given.
 *
 * @example
 * check('config', { tags: ['smoke'] }, () => expectEnv({ API_URL: 'url', PORT: 'port', LOG_LEVEL: ['info', 'debug'] }))
 */
export function expectEnv(rules: readonly string[] | Readonly<Record<string, EnvRule>>, source: Readonly<Record<string, string | undefined>> = checkEnv): void {
  const entries: Array<[string, EnvRule]> = Array.isArray(rules) ? rules.map((n) => [n, 'present']) : Object.entries(rules as Record<string, EnvRule>)
  const problems: string[] = []
  for (const [name, rule] of entries) {
    const v = source[name]
    if (v === undefined || v === '') problems.push(`${name} is not set`)
    else {
      const p = problem(rule, v)
      if (p) problems.push(`${name} ${p}`)
    }
  }
  if (problems.length > 0) throw new ProbeFailure('assertion', problems.join('; '))
  note(`${entries.length} variable(s) set and well formed`)
}
