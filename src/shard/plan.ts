// Splitting test files across shards so that each takes about as long: longest processing time
// first (each file, longest first, goes to the shard with the least work so far), on recorded
// durations; files without one are estimated from their size. Deterministic: the same files
// and timings give the same shards on every machine.

/** A file to place, with its weight. */
export interface Weighted {
  file: string
  /** Expected ms (or, without timings, a size). */
  weight: number
}

/** Where the weights came from, for the one line the plugin prints. */
export interface Estimate {
  weights: Weighted[]
  /** Files the timings knew. */
  timed: number
  /** Files the timings did not know (new ones), estimated from their size. */
  estimated: number
  /** Files in the timings that no longer exist. */
  gone: number
}

/**
 * Weights of `files` from `timings` (ms per file). A file the timings lack gets its size times
 * the timed files' ms per byte; without any timings every weight is the file's size.
 */
export function estimate(files: readonly { file: string; size: number }[], timings: ReadonlyMap<string, number> | undefined): Estimate {
  const known = files.filter((f) => timings?.has(f.file))
  const present = new Set(files.map((f) => f.file))
  const gone = timings ? [...timings.keys()].filter((f) => !present.has(f)).length : 0
  if (!timings || known.length === 0) return { weights: files.map((f) => ({ file: f.file, weight: Math.max(1, f.size) })), timed: 0, estimated: files.length, gone }
  const ms = known.reduce((n, f) => n + (timings.get(f.file) ?? 0), 0)
  const bytes = known.reduce((n, f) => n + Math.max(1, f.size), 0)
  const perByte = ms / bytes || 1
  const weights = files.map((f) => ({ file: f.file, weight: timings.has(f.file) ? (timings.get(f.file) ?? 0) : Math.max(1, f.size) * perByte }))
  return { weights, timed: known.length, estimated: files.length - known.length, gone }
}

/** One shard's files and expected total. */
export interface PlannedShard {
  files: string[]
  weight: number
}

/** Longest processing time first over `count` shards. */
export function planShards(weights: readonly Weighted[], count: number): PlannedShard[] {
  const shards: PlannedShard[] = Array.from({ length: count }, () => ({ files: [], weight: 0 }))
  const order = [...weights].sort((a, b) => b.weight - a.weight || (a.file < b.file ? -1 : a.file > b.file ? 1 : 0))
  for (const w of order) {
    let best = shards[0] as PlannedShard
    for (const s of shards) if (s.weight < best.weight) best = s
    best.files.push(w.file)
    best.weight += w.weight
  }
  return shards
}
