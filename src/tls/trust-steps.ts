// How to trust rig's CA, and how to stop trusting it, per trust store: the system's (Debian's
// update-ca-certificates), Node's (NODE_EXTRA_CA_CERTS) and Chromium's and Firefox's (NSS).
// rig prints the commands rather than running them: they change what this machine trusts.
import os from 'node:os'

/** One trust store and the commands for it. */
export interface TrustStep {
  store: string
  commands: string[]
}

function nssDb(): string {
  return `sql:${os.homedir()}/.pki/nssdb`
}

const NICK = (): string => `testrig-${os.userInfo().username}`

/** Commands that make `certFile` trusted. */
export function trustSteps(certFile: string): TrustStep[] {
  return [
    { store: 'Debian/Ubuntu system store (curl, wget, OpenSSL, Python)', commands: [`sudo cp ${certFile} /usr/local/share/ca-certificates/${NICK()}.crt`, 'sudo update-ca-certificates'] },
    { store: 'Node.js (processes rig starts already get it)', commands: [`export NODE_EXTRA_CA_CERTS=${certFile}`] },
    { store: "Chromium and Chrome (NSS; apt-get install libnss3-tools for certutil; the Chromium of rig's Playwright fixtures needs no step)", commands: [`mkdir -p ${os.homedir()}/.pki/nssdb`, `certutil -d ${nssDb()} -A -t C,, -n ${NICK()} -i ${certFile}`] },
  ]
}

/** Commands that undo {@link trustSteps}. */
export function untrustSteps(): TrustStep[] {
  return [
    { store: 'Debian/Ubuntu system store', commands: [`sudo rm /usr/local/share/ca-certificates/${NICK()}.crt`, 'sudo update-ca-certificates --fresh'] },
    { store: 'Node.js', commands: ['unset NODE_EXTRA_CA_CERTS   (and remove it from your shell profile)'] },
    { store: 'Chromium and Chrome (NSS)', commands: [`certutil -d ${nssDb()} -D -n ${NICK()}`] },
  ]
}
