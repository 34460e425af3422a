// The JSON the API speaks: the server builds these shapes and the test helpers read them.

import type { Locale } from './locale.ts'
import type { QueueKind } from './queue.ts'

export interface Money {
  cents: number
  currency: string
  /** Written for the deployment's locale: `45,00 €` (fr) or `€45.00` (en). */
  formatted: string
}

export interface Car {
  id: string
  model: string
  category: string
  seats: number
  electric: boolean
  /** Localised: `Citadine électrique` (fr) / `Electric city car` (en). */
  label: string
}

export interface Plan {
  id: string
  /** Localised. */
  name: string
  /** Localised. */
  description: string
  dailyPrice: Money
  includedKmPerDay: number
  minDays: number
  weeklyDiscountPct: number
}

export type BillingStatus = 'pending' | 'charged' | 'failed'

export interface Billing {
  status: BillingStatus
  /** Set once the worker charged the rental. */
  amount: Money | null
  chargedAt: string | null
  /** Set when billing failed. */
  error: string | null
}

export interface Rental {
  id: string
  car: { id: string; label: string }
  plan: { id: string; name: string }
  days: number
  customer: string
  createdAt: string
  /** What the API computed when the rental was taken; the worker must charge exactly this. */
  quote: Money
  billing: Billing
}

export interface RentalRequest {
  carId: string
  planId: string
  days: number
  customer: string
}

export interface Health {
  status: 'ok' | 'degraded'
  locale: Locale
  /** Where billing jobs are queued. */
  queue: QueueKind
  /** `ok`, `fail: <why>`, or for the broker the queue is not on, `not used`. */
  checks: { db: string; redis: string; rabbitmq: string }
}

export interface ApiErrorBody {
  error: string
  message: string
}
