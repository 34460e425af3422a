// The legacy fleet system (MariaDB) is being replaced by the new API (PostgreSQL): until it is
// switched off, both must list the same cars. Without MariaDB installed there is no legacy
// service, and this test is skipped.
import { expect, test } from 'vitest'
import { services } from 'testrig/vitest'
import { listCars } from './helpers.ts'

const legacy = services().legacy

test.skipIf(!legacy)('the legacy fleet system and the new API list the same cars', async () => {
  const res = await fetch(new URL('/vehicles', legacy!.url), { signal: AbortSignal.timeout(5000) })
  const vehicles = (await res.json()) as Array<{ plate: string; model: string; seats: number; electric: boolean }>
  const cars = await listCars(services().api!.url)
  const byId = (a: { id: string }, b: { id: string }): number => a.id.localeCompare(b.id)
  expect(vehicles.map((v) => ({ id: v.plate, model: v.model, seats: v.seats, electric: v.electric })).sort(byId)).toEqual(
    cars.map((c) => ({ id: c.id, model: c.model, seats: c.seats, electric: c.electric })).sort(byId),
  )
})
