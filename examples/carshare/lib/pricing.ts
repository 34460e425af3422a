// The one pricing rule, used by the API (to quote) and by the billing worker (to charge).
// Keeping it in one place is what lets a test check "quoted == charged" across processes.

/** The columns of `price_plans` the price depends on. */
export interface PlanPricing {
  dailyCents: number
  /** Discount applied to the whole rental from 7 days on, in percent. */
  weeklyDiscountPct: number
  minDays: number
}

export const MAX_DAYS = 90

/** Amount of a rental, in cents: daily price × days, minus the weekly discount from 7 days on. */
export function rentalAmountCents(plan: PlanPricing, days: number): number {
  if (!Number.isInteger(days) || days < 1 || days > MAX_DAYS) throw new RangeError(`days must be an integer from 1 to ${MAX_DAYS}, got ${days}`)
  const gross = plan.dailyCents * days
  const discount = days >= 7 ? Math.round((gross * plan.weeklyDiscountPct) / 100) : 0
  return gross - discount
}
