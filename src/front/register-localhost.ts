// `import 'testrig/localhost'` (or `node --import testrig/localhost app.js`): this process
// resolves every `*.localhost` name to loopback, as browsers do, and trusts rig's CA (the file
// RIG_CA_CERT names, which rig exports with HTTPS services) for HTTPS to them.
import { resolveLocalhost } from './localhost.ts'
import { trustInProcess } from '../tls/trust-process.ts'
import fs from 'node:fs'

resolveLocalhost()
const ca = process.env.RIG_CA_CERT
if (ca && fs.existsSync(ca)) trustInProcess(fs.readFileSync(ca, 'utf8'))
