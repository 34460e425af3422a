// The watchdog: a tiny detached process that outlives its owner. It holds the read end of a
// pipe from the owner; when that pipe closes (the owner exited, crashed or was SIGKILLed)
// it kills every process group the environment recorded and removes its files. A clean
// stop writes "done" first, and the watchdog just exits.
// Usage: node watchdog-main.ts <envDir> (run by the shell watchdog.ts starts, once its input closed without "done";
// a failure, e.g. an exception, exits non-zero and the shell then kills the recorded groups itself)
import { reap } from './registry.ts'

const dir = process.argv[2]
let done = false
process.stdin.setEncoding('utf8')
process.stdin.on('data', (chunk: string) => {
  if (chunk.includes('done')) done = true
})
process.stdin.on('close', () => {
  if (!done && dir) reap(dir)
  process.exit(0)
})
process.stdin.on('error', () => {})
process.on('SIGINT', () => {})
process.on('SIGHUP', () => {})
