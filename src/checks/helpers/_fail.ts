// Failure helpers of the check helpers: the probes' error mapping, and a race against a signal.
export { failure, reasonOf } from '../../probes/failure.ts'

/** Rejects when `signal` aborts, so a call that cannot be cancelled still stops waiting. */
export function raceSignal<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return p
  if (signal.aborted) return Promise.reject(signal.reason)
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
  })
}
