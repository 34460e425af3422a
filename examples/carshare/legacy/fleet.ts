// The legacy fleet system, being replaced by the new API: it has kept the fleet in its own
// MariaDB database for years, and still answers the depots' old terminals. Until it is switched
// off, both must list the same cars; the suite checks that against both (test/fleet.test.ts).
//
//   GET /vehicles   [{plate, model, seats, electric}] from the `vehicles` table
//
// Env: DATABASE_URL (mysql://…/db), PORT. At start it creates its table and puts the fleet in
// (rows already there are left alone), as its old installer did.
import http from 'node:http'
import mysql from 'mysql2/promise'
import { CARS } from '../db/seed.ts'
import { requireEnv } from '../lib/require-env.ts'

const pool = mysql.createPool({ uri: requireEnv('DATABASE_URL'), connectionLimit: 2 })
await pool.query(`create table if not exists vehicles (plate varchar(20) primary key, model varchar(60) not null, seats int not null, electric tinyint(1) not null)`)
await pool.query('insert ignore into vehicles (plate, model, seats, electric) values ?', [CARS.map((c) => [c.id, c.model, c.seats, c.electric ? 1 : 0])])

const server = http.createServer((req, res) => {
  if (req.method !== 'GET' || req.url !== '/vehicles') {
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not_found"}')
    return
  }
  pool
    .query('select plate, model, seats, electric from vehicles order by plate')
    .then(([rows]) => {
      const list = (rows as Array<{ plate: string; model: string; seats: number; electric: number }>).map((r) => ({ ...r, electric: r.electric === 1 }))
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(list))
    })
    .catch((err: Error) => {
      console.error(`ERROR legacy fleet: ${err.message}`)
      res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"db_unavailable"}')
    })
})
server.listen(Number(requireEnv('PORT')), '127.0.0.1', () => console.log('legacy fleet system listening'))
const stop = (): void => {
  server.close()
  void pool.end()
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
