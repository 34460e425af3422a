// The consumer project's app: a small HTTP API over PostgreSQL (its `start` script). Checking
// out logs an ERROR line, as a real bug would, while still answering.
import http from 'node:http'
import pg from 'pg'

const db = new pg.Pool({ connectionString: process.env.DATABASE_URL })
await db.query('CREATE TABLE IF NOT EXISTS items (id serial PRIMARY KEY, name text NOT NULL)')

http
  .createServer(async (req, res) => {
    if (req.url === '/items' && req.method === 'POST') {
      let name = ''
      for await (const chunk of req) name += chunk
      await db.query('INSERT INTO items (name) VALUES ($1)', [name])
      res.statusCode = 201
      return res.end()
    }
    if (req.url === '/items') {
      const { rows } = await db.query('SELECT name FROM items ORDER BY id')
      res.setHeader('content-type', 'application/json')
      return res.end(JSON.stringify(rows))
    }
    if (req.url === '/checkout') {
      console.error('ERROR payment provider refused the card')
      res.statusCode = 502
      return res.end('payment failed')
    }
    res.end('ok')
  })
  .listen(Number(process.env.PORT), '127.0.0.1')
