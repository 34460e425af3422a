// Small typed clients for the car-sharing API, for the integration suite and smoke.ts. Every
// helper takes the API's base URL (e.g. `env.get('api').url` or `RIG_API_URL`), so the same
// calls work against any variant (fr/en) or deployment.
import type { ApiErrorBody, Car, Health, Plan, Rental, RentalRequest } from '../lib/contract.ts'

export type { ApiErrorBody, Billing, BillingStatus, Car, Health, Money, Plan, Rental, RentalRequest } from '../lib/contract.ts'

/** A non-2xx answer from the API; `code` is the `error` field of its JSON body. */
export class ApiError extends Error {
  readonly status: number
  readonly code: string
  readonly body: unknown
  constructor(method: string, url: string, status: number, body: unknown) {
    const b = body as Partial<ApiErrorBody> | undefined
    super(`${method} ${url} answered ${status}${b?.error ? ` ${b.error}` : ''}${b?.message ? `: ${b.message}` : ''}`)
    this.name = 'ApiError'
    this.status = status
    this.code = typeof b?.error === 'string' ? b.error : ''
    this.body = body
  }
}

async function call<T>(baseUrl: string, method: string, path: string, body?: unknown): Promise<T> {
  const url = new URL(path, baseUrl).href
  const res = await fetch(url, {
    method,
    ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    signal: AbortSignal.timeout(5000),
  })
  const text = await res.text()
  let parsed: unknown = text
  try {
    parsed = text === '' ? undefined : JSON.parse(text)
  } catch {
    // not JSON: keep the text for the error message
  }
  if (!res.ok) throw new ApiError(method, url, res.status, parsed)
  return parsed as T
}

/** `GET /health`; throws {@link ApiError} (503) when a store is unreachable. */
export function getHealth(baseUrl: string): Promise<Health> {
  return call<Health>(baseUrl, 'GET', '/health')
}

/** `GET /cars`: the seeded fleet, labels in the deployment's locale. */
export function listCars(baseUrl: string): Promise<Car[]> {
  return call<Car[]>(baseUrl, 'GET', '/cars')
}

/** `GET /plans`: price plans, names and prices in the deployment's locale. */
export function listPlans(baseUrl: string): Promise<Plan[]> {
  return call<Plan[]>(baseUrl, 'GET', '/plans')
}

/**
 * `POST /rentals`: rents a car; resolves with the rental (billing `pending`). Throws
 * {@link ApiError}: 404 `unknown_car` / `unknown_plan`, 422 `below_minimum_days`, 400 on bad input.
 * Defaults: plan `standard`, 1 day, customer `test-customer`.
 */
export function rentCar(baseUrl: string, input: Partial<RentalRequest> & Pick<RentalRequest, 'carId'>): Promise<Rental> {
  const body: RentalRequest = { planId: 'standard', days: 1, customer: 'test-customer', ...input }
  return call<Rental>(baseUrl, 'POST', '/rentals', body)
}

/** `GET /rentals/:id`. Throws {@link ApiError} 404 `unknown_rental`. */
export function getRental(baseUrl: string, id: string): Promise<Rental> {
  return call<Rental>(baseUrl, 'GET', `/rentals/${encodeURIComponent(id)}`)
}

export interface WaitOptions {
  /** @default 5000 */
  timeoutMs?: number
  /** @default 20 */
  intervalMs?: number
}

/**
 * Polls `GET /rentals/:id` until the billing worker has dealt with the rental (status
 * `charged` or `failed`) and resolves with it; rejects after `timeoutMs` with the last state.
 * Tests that rent a car should wait for this before they end, so the worker's writes
 * (`payments`) belong to the test that caused them.
 */
export async function waitForBilling(baseUrl: string, id: string, options: WaitOptions = {}): Promise<Rental> {
  const timeoutMs = options.timeoutMs ?? 5000
  const intervalMs = options.intervalMs ?? 20
  const deadline = performance.now() + timeoutMs
  for (;;) {
    const rental = await getRental(baseUrl, id)
    if (rental.billing.status !== 'pending') return rental
    if (performance.now() >= deadline) {
      throw new Error(`rental ${id} still pending billing after ${timeoutMs} ms (is the billing worker running? see \`rig logs billing\`)`)
    }
    await new Promise((r) => setTimeout(r, intervalMs))
  }
}
