// The leak message: which test, which store, what was left behind, in one line per store.
import type { Change } from './adapter.ts'

/** What the message needs from one store. */
export interface StoreLeaks {
  store: string
  kind: string
  changes: readonly Change[]
  /** Where `keepOnFailure` kept what the test left. */
  kept?: { where?: string; note?: string }
}

/**
 * Formats the leak report of a test; undefined when nothing leaked.
 *
 * @example
 * Data left behind by "rents a car for a day" (test/rentals.test.ts):
 *   postgres db: public.rentals +1 row, public.payments +2 rows, public.cars 1 row changed
 *   redis cache: 3 keys added: 1 without TTL (session:2), 2 with a TTL (session:1 28 s, session:3 60 s)
 */
export function formatLeaks(test: string, file: string | undefined, stores: readonly StoreLeaks[], problems: readonly string[] = []): string | undefined {
  const lines: string[] = []
  for (const s of stores) {
    const leaks = s.changes.filter((c) => c.leak)
    // A change that names keys (`2 keys added: a, b`) ends in a list: `;` keeps the next change apart from it.
    const sep = leaks.some((c) => c.text.includes(': ')) ? '; ' : ', '
    if (leaks.length === 0) continue
    lines.push(`  ${s.kind} ${s.store}: ${leaks.map((c) => c.text).join(sep)}`)
    const kept = s.kept?.where ? `kept as the test left it: ${s.kept.where}` : s.kept?.note
    if (kept) lines.push(`    ${kept}`)
  }
  if (lines.length === 0) return undefined
  for (const p of problems) lines.push(`  not restored: ${p}`)
  return `Data left behind by ${JSON.stringify(test)}${file ? ` (${file})` : ''}:\n${lines.join('\n')}`
}
