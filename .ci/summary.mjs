// Prints the plain "N passed, N failed" line CI reads, from Vitest's JSON report.
import fs from 'node:fs'

const file = process.argv[2]
let r
try {
  r = JSON.parse(fs.readFileSync(file, 'utf8'))
} catch (err) {
  console.log(`no test report at ${file}: ${err.message}`)
  console.log('0 passed, 1 failed')
  process.exit(1)
}
const failedSuites = (r.testResults ?? []).filter((t) => t.status === 'failed' && (t.assertionResults ?? []).length === 0).length
const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0)
console.log(`${r.numPassedTests} passed, ${r.numFailedTests + failedSuites} failed, ${skipped} skipped`)
if (r.numTotalTests === 0) process.exit(1)
