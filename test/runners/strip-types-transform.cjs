// A Jest transform for this repository's own tests of testrig/jest: Jest does not strip
// TypeScript, and the adapter's sources are TypeScript. Node's own stripper, erasable syntax only.
const { stripTypeScriptTypes } = require('node:module')

module.exports = {
  process(source) {
    return { code: stripTypeScriptTypes(source, { mode: 'strip' }) }
  },
}
