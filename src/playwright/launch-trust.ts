// The Chromium rig's fixtures launch trusts rig's CA when the environment serves HTTPS (the
// front proxy's `tls: true`, a service's TLS): its launch options get `HOME` pointed at a
// directory whose NSS database holds the CA (src/tls/browser-trust.ts). For that launch only,
// with certificate checks on; nothing on the machine changes. `use.rigTrustCA: false`
// (`withRig(config, { trustCA: false })`) launches it with the machine's trust alone.
import type { LaunchOptions } from '@playwright/test'
import { readOwnFile } from '../fs-safe/private-file.ts'
import type { RigProvided } from '../runner/provided.ts'
import { RigError } from '../errors.ts'
import { chromiumTrustHome } from '../tls/browser-trust.ts'

/** What the missing-certutil error says about going without. */
export const OPT_OUT =
  "Or launch Chromium without it: withRig(config, { trustCA: false }) (certificate checks stay on, so the environment's HTTPS pages then load only where this machine trusts rig's CA: see `rig trust`)."

/** What decides whether a launch trusts the CA: a project's `use`. */
export interface TrustUse {
  browserName?: string
  connectOptions?: unknown
  rigTrustCA?: boolean
}

/** Whether a project's browser is launched here as Chromium and may trust the CA. */
export function trustsCA(use: TrustUse): boolean {
  return use.rigTrustCA !== false && (use.browserName ?? 'chromium') === 'chromium' && !use.connectOptions
}

/**
 * rig's CA certificate (PEM) when the environment has one: the first certificate of the file
 * `RIG_CA_CERT` names. An environment with hosts lists its hosts CA after it (made at each start,
 * for the addresses of services on hosts, which the browser does not open): left out, so the
 * database stays one per CA.
 */
export function environmentCA(provided: Pick<RigProvided, 'vars'>): string | undefined {
  const file = provided.vars.RIG_CA_CERT
  if (!file) return undefined
  const first = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(readOwnFile(file) ?? '')?.[0]
  if (first === undefined) throw new RigError('RIG_CA_BROKEN', `rig's CA certificate ${file} is missing, not a file of this user, or holds no certificate: run \`rig trust --remove\`, then start the environment again`, { exitCode: 2 })
  return `${first}\n`
}

/** The directory Chromium gets as `HOME` for this environment, made on first use; undefined when it serves no HTTPS. */
export function trustHome(provided: Pick<RigProvided, 'vars'>): string | undefined {
  const pem = environmentCA(provided)
  return pem === undefined ? undefined : chromiumTrustHome(pem, OPT_OUT)
}

/** `launchOptions` with the CA trusted, when the project's browser may trust it and the environment has one. */
export function withTrust(launchOptions: LaunchOptions, use: TrustUse, provided: Pick<RigProvided, 'vars'>): LaunchOptions {
  if (!trustsCA(use)) return launchOptions
  const home = trustHome(provided)
  if (home === undefined) return launchOptions
  // Playwright gives the browser `env` instead of this process's environment, not on top of it.
  const env = { ...(launchOptions.env ?? process.env), HOME: home }
  return { ...launchOptions, env }
}
