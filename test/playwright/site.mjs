// The site the Playwright adapter's tests open: pages that misbehave in the ways a browser
// reports (console errors, uncaught errors, rejections, failed requests), and an items API
// over PostgreSQL that can leak a row or log an ERROR line, and an endpoint that kills the site.
import http from 'node:http'
import pg from 'pg'

const db = new pg.Pool({ connectionString: process.env.DATABASE_URL })
await db.query('CREATE TABLE IF NOT EXISTS items (id serial PRIMARY KEY, name text NOT NULL)')

const page = (script) => `<!doctype html><html><head><title>t</title></head><body><h1>ok</h1><button id="go">go</button>${script}</body></html>`
const PAGES = {
  '/': page(''),
  '/console': page('<script>console.error("boom from the page")</script>'),
  '/warn': page('<script>console.warn("only a warning")</script>'),
  '/project-allowed': page('<script>console.error("allowed by the project: a known widget")</script>'),
  '/throw': page('<script src="/throw.js"></script>'),
  '/reject': page('<script>Promise.reject(new Error("rejected in page"))</script>'),
  '/server-error': page('<script>fetch("/api/broken")</script>'),
  '/network-error': page('<script>fetch("/api/hang-up").catch(() => {})</script>'),
  '/not-ours': page('<script>fetch("/api/missing").catch(() => {}); fetch("http://127.0.0.1:9/x").catch(() => {})</script>'),
  '/loop': page('<script>for (let i = 1; i <= 150; i++) console.error(`error ${i} of a loop`)</script>'),
  '/late': page('<script>document.getElementById("go").onclick = () => setTimeout(() => { throw new Error("thrown after the click") }, 0)</script>'),
}
const SCRIPTS = { '/throw.js': 'function explode() {\n  throw new Error("uncaught in page")\n}\nexplode()\n' }

http
  .createServer(async (req, res) => {
    const url = req.url ?? '/'
    if (url === '/api/broken') {
      res.writeHead(503)
      return res.end('down')
    }
    if (url === '/api/hang-up') return req.socket.destroy()
    if (url === '/api/items' && req.method === 'POST') {
      await db.query("INSERT INTO items (name) VALUES ('left behind')")
      res.writeHead(201)
      return res.end()
    }
    if (url === '/api/exit') {
      // Dies as a crash would (a non-zero exit), once the answer with its pid is out.
      res.on('finish', () => process.exit(3))
      res.writeHead(200)
      return res.end(String(process.pid))
    }
    if (url === '/api/log-error') {
      console.error('ERROR the payment provider refused the card')
      res.writeHead(200)
      return res.end('logged')
    }
    if (PAGES[url]) {
      res.writeHead(200, { 'content-type': 'text/html' })
      return res.end(PAGES[url])
    }
    if (SCRIPTS[url]) {
      res.writeHead(200, { 'content-type': 'text/javascript' })
      return res.end(SCRIPTS[url])
    }
    res.writeHead(404)
    res.end()
  })
  .listen(Number(process.env.PORT), '127.0.0.1')
