import { check, expectCommand } from '../../../src/checks/index.ts'

// `writes: true` would keep a check out of `rig serve`; this one only reads.
check('node runs', { tags: ['smoke'], timeout: 3000 }, () => expectCommand([process.execPath, '--version'], { stdout: /^v\d+/ }))
