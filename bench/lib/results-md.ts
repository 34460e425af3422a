// bench/RESULTS.md holds one section per benchmark between its markers; each benchmark
// rewrites only its own.
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const RESULTS_MD = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'RESULTS.md')
const HEADER =
  '# Benchmark results\n\nFigures measured by the benchmarks in `bench/` (how to run them and what each figure means: [README.md](README.md)). Each benchmark rewrites only its own section, between its markers; machine-readable results are in `bench/results/`.\n'

/** Replaces (or appends) the section between `<!-- name:start -->` and `<!-- name:end -->`. */
export function writeResultsSection(name: string, section: string): void {
  const start = `<!-- ${name}:start -->`
  const end = `<!-- ${name}:end -->`
  let text = fs.existsSync(RESULTS_MD) ? fs.readFileSync(RESULTS_MD, 'utf8') : HEADER
  const block = `${start}\n${section.trim()}\n${end}`
  const s = text.indexOf(start)
  const e = text.indexOf(end)
  if (s >= 0 && e > s) text = text.slice(0, s) + block + text.slice(e + end.length)
  else text = `${text.trimEnd()}\n\n${block}\n`
  fs.writeFileSync(RESULTS_MD, text)
}
