// The front end (web/): plain files the API serves on its own origin, so the page calls the
// API without CORS. A fixed list: no path from a request ever reaches the file system.
import fs from 'node:fs'
import type http from 'node:http'
import path from 'node:path'

const WEB = path.join(import.meta.dirname, '../web')
const FILES: Record<string, [string, string]> = {
  '/': ['index.html', 'text/html; charset=utf-8'],
  '/web/app.js': ['app.js', 'text/javascript; charset=utf-8'],
  '/web/style.css': ['style.css', 'text/css; charset=utf-8'],
}

/** Answers a request for one of the front end's files; false when `pathname` is not one. */
export function serveWeb(pathname: string, res: http.ServerResponse): boolean {
  const file = FILES[pathname]
  if (!file) return false
  const body = fs.readFileSync(path.join(WEB, file[0]))
  res.writeHead(200, { 'content-type': file[1], 'content-length': body.length, 'cache-control': 'no-store' })
  res.end(body)
  return true
}
