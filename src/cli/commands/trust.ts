import { caDir, loadCA, removeCA } from '../../tls/ca.ts'
import { trustSteps, untrustSteps, type TrustStep } from '../../tls/trust-steps.ts'
import type { CommandContext } from '../command.ts'
import type { Output } from '../output.ts'

function printSteps(out: Output, steps: TrustStep[]): void {
  for (const s of steps) {
    out.print(`  ${s.store}:`)
    for (const c of s.commands) out.print(`    ${c}`)
  }
}

/** `rig trust [--remove] [--json]`: rig's local CA, made on first use, and how to (un)trust it. */
export async function trust({ values, out }: CommandContext): Promise<number> {
  if (values.remove) {
    const removed = removeCA()
    if (values.json) {
      out.json({ removed, dir: caDir(), steps: untrustSteps() })
      return 0
    }
    out.print(removed ? `removed rig's CA (${caDir()}); certificates it issued are no longer trusted once you also run:` : `no CA in ${caDir()}; to remove one you trusted earlier:`)
    printSteps(out, untrustSteps())
    return 0
  }
  const ca = loadCA()
  if (!ca) return 1
  if (values.json) {
    out.json({ certFile: ca.certFile, keyFile: ca.keyFile, subject: ca.cert.subject, validTo: ca.cert.validTo, fingerprint256: ca.cert.fingerprint256, steps: trustSteps(ca.certFile) })
    return 0
  }
  out.print(`rig's CA: ${ca.certFile}`)
  out.print(`  key ${ca.keyFile} (0600, never leaves this machine), valid until ${ca.cert.validTo}`)
  out.print(`  it can only vouch for localhost, names under .localhost and loopback addresses (name constraints)`)
  out.print(`  SHA-256 ${ca.cert.fingerprint256}`)
  out.print('To trust it:')
  printSteps(out, trustSteps(ca.certFile))
  out.print('Undo with `rig trust --remove`.')
  return 0
}
