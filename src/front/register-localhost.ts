// `import 'testrig/localhost'` (or `node --import testrig/localhost app.js`): this process
// resolves every `*.localhost` name to loopback, as browsers do.
import { resolveLocalhost } from './localhost.ts'

resolveLocalhost()
