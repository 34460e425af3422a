// The billing queue: a Redis list. The API pushes on the left; the worker moves jobs from the
// right into a "processing" list (BLMOVE) and removes them once charged, so a worker killed
// mid-job gets its job back on the next start.

export const BILLING_QUEUE = 'carshare:billing:queue'
export const BILLING_PROCESSING = 'carshare:billing:processing'

/** What the API enqueues for every new rental. */
export interface BillingJob {
  rentalId: string
  /** ISO timestamp. */
  enqueuedAt: string
}

export function encodeJob(job: BillingJob): string {
  return JSON.stringify(job)
}

export function decodeJob(raw: string): BillingJob {
  const v = JSON.parse(raw) as Partial<BillingJob>
  if (typeof v.rentalId !== 'string' || v.rentalId === '') throw new Error(`malformed billing job: ${raw.slice(0, 200)}`)
  return { rentalId: v.rentalId, enqueuedAt: String(v.enqueuedAt ?? '') }
}
