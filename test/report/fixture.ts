// A realistic run of the car-sharing example: four services, passing, failing and skipped
// tests, leaks, expected and unexpected log errors, and hostile text in names and log lines.
import type { RunReport, TestEntry } from '../../src/report/model.ts'

const repro = (file: string, name: string): string =>
  `npx vitest run --rig-seed 4127733 --rig-order .rig/order-4127733.txt ${file} -t '${name.replace(/'/g, "'\\''")}'`

function test(file: string, name: string, status: TestEntry['status'], durationMs: number, extra: Partial<TestEntry> = {}): TestEntry {
  return { id: `${file} > ${name}`, file, name, status, durationMs, errors: [], leaks: [], logErrors: [], repro: repro(file, name), ...extra }
}

/** The hostile test name: if the page ran it, `window.__pwned` would be set. */
export const SCRIPT_NAME = 'renders <script>window.__pwned = 1</script> & "quotes" in names'

/** Build a fresh copy of the fixture report. */
export function sampleReport(): RunReport {
  const tests: TestEntry[] = [
    test('test/rentals.test.ts', 'rentals > renting a car writes the rental and queues billing', 'passed', 184),
    test('test/rentals.test.ts', 'rentals > returning a car closes the rental', 'failed', 1312, {
      errors: [
        "AssertionError: expected 'open' to be 'closed'\n    at test/rentals.test.ts:48:31",
        'Test left data behind: postgres db: public.rentals +1 row',
      ],
      leaks: [
        { store: 'postgres db', items: ['public.rentals +1 row (id=731)', 'public.rental_events +2 rows'] },
        { store: 'redis cache', items: ['key car:42:lock'] },
      ],
      restoredWith: 'delete-by-key',
    }),
    test('test/rentals.test.ts', `rentals > ${SCRIPT_NAME}`, 'passed', 37),
    test('test/billing.test.ts', 'billing > the worker charges a finished rental', 'passed', 642, {
      logErrors: [{ service: 'db', line: '2026-11-22 10:01:02 UTC [311] ERROR:  duplicate key value violates unique constraint "charges_pkey"', expected: true }],
    }),
    test('test/billing.test.ts', 'billing > refunds a cancelled rental', 'failed', 2210, {
      errors: ['Error: Test timed out in 2000ms.\u0000\u001b[31m (red)\u001b[39m'],
      logErrors: [
        { service: 'worker', line: 'TypeError: Cannot read properties of undefined (reading \'amount\')\n    at refund (/app/worker/refund.js:12:20)', expected: false },
        { service: 'api', line: '<img src=x onerror="window.__pwned = 2"> 500 POST /refunds </script><script>window.__pwned = 3</script>', expected: false },
      ],
    }),
    test('test/billing.test.ts', 'billing > invoices in EUR with French labels', 'skipped', 0, { repro: undefined }),
    test('test/cars.test.ts', 'cars > lists the available cars of a station', 'passed', 58),
    test('test/cars.test.ts', 'cars > price plans > weekend plan costs 20% less', 'passed', 73),
  ]
  return {
    version: 1,
    startedAt: '2026-11-22T10:00:00.000Z',
    durationMs: 6480,
    seed: 4127733,
    files: ['test/rentals.test.ts', 'test/billing.test.ts', 'test/cars.test.ts'],
    repro: 'npx vitest run --rig-seed 4127733 --rig-order .rig/order-4127733.txt',
    summary: { passed: 5, failed: 2, skipped: 1, leaks: 1, logErrors: 3 },
    environment: {
      startMs: 412,
      attached: false,
      services: [
        { service: 'db', kind: 'postgres', provider: 'process', dependsOn: [], startingAt: 2, startedAt: 61, readyAt: 231, url: 'postgres://rig@127.0.0.1:54012/app' },
        { service: 'redis', kind: 'redis', provider: 'process', dependsOn: [], startingAt: 2, startedAt: 9, readyAt: 38, url: 'redis://127.0.0.1:63019' },
        { service: 'migrate', kind: 'command', provider: 'process', dependsOn: ['db'], startingAt: 232, startedAt: 236, completedAt: 298, url: '' },
        { service: 'api', kind: 'command', provider: 'process', dependsOn: ['db', 'redis', 'migrate'], startingAt: 299, startedAt: 303, readyAt: 411, url: 'http://127.0.0.1:41877' },
      ],
    },
    tests,
  }
}
