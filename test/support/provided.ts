// What a runner's main process provides to its workers (RigProvided), for tests that serve the
// guard or open a worker's session without a runner: one guarded service of a started
// environment, the guard failing tests on leaks.
import type { Environment } from '../../src/index.ts'
import type { ProvidedService, RigProvided } from '../../src/runner/provided.ts'

/** RigProvided with `name` of `env` as its only service, guarded (`service` overrides its fields). */
export function guardedProvided(env: Environment, name: string, service: Pick<ProvidedService, 'kind' | 'startedByRig'> & Partial<ProvidedService>, logs: RigProvided['logs'] = { failOnError: true }): RigProvided {
  const s = env.get(name)
  return {
    services: { [name]: { name, url: s.url, host: s.host, port: s.port, pid: null, env: {}, logFile: '', errorPatterns: [], guarded: true, ...service } },
    vars: {},
    controlSocket: undefined,
    seed: 1,
    configFile: '',
    fixture: undefined,
    guard: { mode: 'fail', strategy: 'auto', exclude: [], allowCleaning: [] },
    logs,
  }
}
