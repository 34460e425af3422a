// The front proxy's own answers: a host it does not know (404, listing the names it serves) and a
// service that cannot answer (502/503, saying why and what to run). HTML for browsers, plain
// text for everything else.
import type { IncomingMessage, ServerResponse } from 'node:http'

/** One name the proxy serves, for the listing. */
export interface KnownName {
  service: string
  url: string
  status: string
}

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

function send(req: IncomingMessage, res: ServerResponse, status: number, title: string, lines: string[], names: KnownName[]): void {
  const html = /text\/html/.test(req.headers.accept ?? '')
  const list = names.map((n) => ({ ...n, text: `${n.url}  (${n.service}, ${n.status})` }))
  const body = html
    ? `<!doctype html><meta charset="utf-8"><title>${esc(title)}</title><style>body{font:15px system-ui,sans-serif;margin:2em;max-width:50em}code{background:#eee;padding:0 .2em}</style>` +
      `<h1>${esc(title)}</h1>${lines.map((l) => `<p>${esc(l)}</p>`).join('')}` +
      `<p>Services of this project:</p><ul>${list.map((n) => `<li><a href="${esc(n.url)}">${esc(n.url)}</a> (${esc(n.service)}, ${esc(n.status)})</li>`).join('')}</ul>`
    : `${title}\n${lines.join('\n')}\nServices of this project:\n${list.map((n) => `  ${n.text}`).join('\n')}\n`
  res.writeHead(status, { 'content-type': html ? 'text/html; charset=utf-8' : 'text/plain; charset=utf-8', 'cache-control': 'no-store', 'x-rig-front': 'page' })
  res.end(req.method === 'HEAD' ? undefined : body)
}

/** 404: the Host names no service of this project. */
export function unknownHostPage(req: IncomingMessage, res: ServerResponse, host: string, project: string, names: KnownName[]): void {
  send(req, res, 404, `rig: no service at ${host || '(no Host header)'}`, [`This is rig's front proxy for project "${project}". Services are public under <service>.${project}.localhost; a service is public when it has an http() readiness probe or public: true in rig.config.ts.`], names)
}

/** 502/503: the service is known but does not answer. */
export function unavailablePage(req: IncomingMessage, res: ServerResponse, service: string, why: string, starting: boolean, names: KnownName[]): void {
  send(req, res, starting ? 503 : 502, `rig: service "${service}" ${starting ? 'is starting' : 'does not answer'}`, [why, `Its output: rig logs ${service}`], names)
}
