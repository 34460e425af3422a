import { failure } from './failure.ts'
import { ProbeFailure, type Probe } from './probe.ts'
import { requireAddress } from './target.ts'

/** Options of {@link http}. */
export interface HttpProbeOptions {
  /** @default 'GET' */
  method?: string
  headers?: Record<string, string>
  /** Expected status: a number, a list, or a predicate. @default any 2xx */
  status?: number | readonly number[] | ((status: number) => boolean)
  /** Predicate on the response body text; a string must be contained, a RegExp must match. */
  body?: string | RegExp | ((text: string) => boolean)
  /** @default 2000 */
  timeoutMs?: number
}

function statusOk(expected: HttpProbeOptions['status'], status: number): boolean {
  if (expected === undefined) return status >= 200 && status < 300
  if (typeof expected === 'number') return status === expected
  if (typeof expected === 'function') return expected(status)
  return expected.includes(status)
}

function bodyOk(expected: HttpProbeOptions['body'], text: string): boolean {
  if (expected === undefined) return true
  if (typeof expected === 'string') return text.includes(expected)
  if (expected instanceof RegExp) return expected.test(text)
  return expected(text)
}

/**
 * Passes when an HTTP request answers with the expected status and body.
 * A path (`/health`) is resolved against the service's url; a full URL is used as is.
 */
export function http(pathOrUrl: string, options: HttpProbeOptions = {}): Probe {
  const method = options.method ?? 'GET'
  return {
    name: `http ${method} ${pathOrUrl}`,
    timeoutMs: options.timeoutMs ?? 2000,
    async run(ctx) {
      const base = /^https?:\/\//.test(pathOrUrl) ? undefined : requireAddress(ctx, 'http()', 'url').url
      if (!URL.canParse(pathOrUrl, base)) {
        throw new ProbeFailure('error', `http(${JSON.stringify(pathOrUrl)}) is not a valid URL${base ? ` relative to ${base}` : ''}: give a path such as '/health' or a full http:// URL`, { permanent: true })
      }
      const url = new URL(pathOrUrl, base).href
      let res: Response
      let text: string
      try {
        res = await fetch(url, { method, signal: ctx.signal, ...(options.headers ? { headers: options.headers } : {}) })
        text = await res.text()
      } catch (err) {
        // fetch says only "fetch failed"; the address and ECONNREFUSED are in its cause.
        throw failure(`${method} ${url}`, err)
      }
      if (!statusOk(options.status, res.status)) throw new ProbeFailure('status', `${method} ${url} answered ${res.status}: ${text.slice(0, 200)}`)
      if (!bodyOk(options.body, text)) throw new ProbeFailure('assertion', `${method} ${url} body did not match: ${text.slice(0, 200)}`)
      return { detail: `${res.status}` }
    },
  }
}
