// The two deployments of the service differ by locale: labels, and how prices are written.
// Prices are stored in cents; the currency is the plan's (EUR for every seeded plan).

export type Locale = 'fr' | 'en'

export const LOCALES: readonly Locale[] = ['fr', 'en']

/** The `LOCALE` env var, validated; `undefined` means the default, `fr`. */
export function parseLocale(value: string | undefined): Locale {
  const v = (value ?? 'fr').trim().toLowerCase()
  if (v === 'fr' || v === 'en') return v
  throw new Error(`LOCALE must be one of ${LOCALES.join(', ')}, got "${value}"`)
}

const INTL_TAG: Record<Locale, string> = { fr: 'fr-FR', en: 'en-GB' }

/** `4500, 'EUR'` → `45,00 €` in fr (with a narrow no-break space), `€45.00` in en. */
export function formatMoney(cents: number, currency: string, locale: Locale): string {
  return new Intl.NumberFormat(INTL_TAG[locale], { style: 'currency', currency }).format(cents / 100)
}

/** Picks the column of a row that holds the text for `locale`: `label_fr` / `label_en`. */
export function localised(row: Record<string, unknown>, column: string, locale: Locale): string {
  return String(row[`${column}_${locale}`] ?? '')
}
