// Reference data: the fleet and the price plans, with French and English texts. Seeded at
// start-up (by migrate.ts) and never touched by the application, so a data-hygiene guard can
// treat `cars`, `price_plans` and `schema_migrations` as the baseline.
//
// Idempotent: every row is upserted by id. Run alone with `node db/seed.ts` (needs DATABASE_URL).
import pg from 'pg'

export interface SeedCar {
  id: string
  model: string
  category: string
  seats: number
  electric: boolean
  label_fr: string
  label_en: string
}

export interface SeedPlan {
  id: string
  name_fr: string
  name_en: string
  description_fr: string
  description_en: string
  currency: string
  daily_cents: number
  included_km_per_day: number
  min_days: number
  weekly_discount_pct: number
}

export const CARS: readonly SeedCar[] = [
  { id: 'zoe-01', model: 'Renault Zoe', category: 'city', seats: 5, electric: true, label_fr: 'Citadine électrique', label_en: 'Electric city car' },
  { id: 'clio-02', model: 'Renault Clio', category: 'city', seats: 5, electric: false, label_fr: 'Citadine', label_en: 'City car' },
  { id: 'e208-03', model: 'Peugeot e-208', category: 'compact', seats: 5, electric: true, label_fr: 'Compacte électrique', label_en: 'Electric hatchback' },
  { id: 'kangoo-04', model: 'Renault Kangoo Van', category: 'van', seats: 2, electric: false, label_fr: 'Utilitaire', label_en: 'Van' },
  { id: 'model3-05', model: 'Tesla Model 3', category: 'sedan', seats: 5, electric: true, label_fr: 'Berline électrique', label_en: 'Electric saloon' },
]

export const PLANS: readonly SeedPlan[] = [
  {
    id: 'flex',
    name_fr: 'Flexible',
    name_en: 'Flex',
    description_fr: 'Sans engagement, 100 km inclus par jour',
    description_en: 'No commitment, 100 km included per day',
    currency: 'EUR',
    daily_cents: 5900,
    included_km_per_day: 100,
    min_days: 1,
    weekly_discount_pct: 0,
  },
  {
    id: 'standard',
    name_fr: 'Standard',
    name_en: 'Standard',
    description_fr: '200 km inclus par jour, -10 % dès 7 jours',
    description_en: '200 km included per day, 10% off from 7 days',
    currency: 'EUR',
    daily_cents: 4500,
    included_km_per_day: 200,
    min_days: 1,
    weekly_discount_pct: 10,
  },
  {
    id: 'long',
    name_fr: 'Longue durée',
    name_en: 'Long term',
    description_fr: 'À partir de 7 jours, 300 km inclus par jour, -20 %',
    description_en: 'From 7 days, 300 km included per day, 20% off',
    currency: 'EUR',
    daily_cents: 3900,
    included_km_per_day: 300,
    min_days: 7,
    weekly_discount_pct: 20,
  },
]

/** Anything with pg's `query`: a Client, a PoolClient or a Pool. */
export interface Queryable {
  query(text: string, values?: unknown[]): Promise<unknown>
}

/** Upserts the reference data. */
export async function seed(db: Queryable): Promise<{ cars: number; plans: number }> {
  for (const c of CARS) {
    await db.query(
      `insert into cars (id, model, category, seats, electric, label_fr, label_en) values ($1, $2, $3, $4, $5, $6, $7)
       on conflict (id) do update set model = excluded.model, category = excluded.category, seats = excluded.seats,
         electric = excluded.electric, label_fr = excluded.label_fr, label_en = excluded.label_en`,
      [c.id, c.model, c.category, c.seats, c.electric, c.label_fr, c.label_en],
    )
  }
  for (const p of PLANS) {
    await db.query(
      `insert into price_plans (id, name_fr, name_en, description_fr, description_en, currency, daily_cents, included_km_per_day, min_days, weekly_discount_pct)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
       on conflict (id) do update set name_fr = excluded.name_fr, name_en = excluded.name_en, description_fr = excluded.description_fr,
         description_en = excluded.description_en, currency = excluded.currency, daily_cents = excluded.daily_cents,
         included_km_per_day = excluded.included_km_per_day, min_days = excluded.min_days, weekly_discount_pct = excluded.weekly_discount_pct`,
      [p.id, p.name_fr, p.name_en, p.description_fr, p.description_en, p.currency, p.daily_cents, p.included_km_per_day, p.min_days, p.weekly_discount_pct],
    )
  }
  return { cars: CARS.length, plans: PLANS.length }
}

if (import.meta.main) {
  const url = process.env.DATABASE_URL
  if (!url) {
    console.error('ERROR DATABASE_URL is not set')
    process.exit(1)
  }
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const n = await seed(client)
    console.log(`seeded ${n.cars} cars and ${n.plans} price plans`)
  } finally {
    await client.end()
  }
}
