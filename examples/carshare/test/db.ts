// What a well-behaved test does at its end: remove the rows it caused. (The one test in
// leaks.test.ts that forgets to is the one rig catches.) The database's address is
// RIG_DB_URL, which rig sets in every test runner's workers (Vitest's here, Playwright's in e2e/).
import pg from 'pg'

const dbUrl = (): string => process.env.RIG_DB_URL ?? ''

/** Deletes a rental and its payments, as the test that created it should. */
export async function deleteRental(id: string): Promise<void> {
  const client = new pg.Client({ connectionString: dbUrl() })
  await client.connect()
  try {
    await client.query('delete from payments where rental_id = $1', [id])
    await client.query('delete from rentals where id = $1', [id])
  } finally {
    await client.end()
  }
}

/** The payments recorded for a rental, read straight from the database. */
export async function paymentsOf(id: string): Promise<Array<{ amount_cents: number; currency: string }>> {
  const client = new pg.Client({ connectionString: dbUrl() })
  await client.connect()
  try {
    const { rows } = await client.query<{ amount_cents: number; currency: string }>('select amount_cents, trim(currency) as currency from payments where rental_id = $1', [id])
    return rows
  } finally {
    await client.end()
  }
}

/** Deletes every rental of the customers whose name starts with `prefix` (their payments and billing jobs go with them). */
export async function deleteRentalsOf(prefix: string): Promise<number> {
  const client = new pg.Client({ connectionString: dbUrl() })
  await client.connect()
  try {
    return (await client.query('delete from rentals where starts_with(customer, $1)', [prefix])).rowCount ?? 0
  } finally {
    await client.end()
  }
}
