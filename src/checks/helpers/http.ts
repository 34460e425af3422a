// expectHttp: one request, then status, headers, body and latency are asserted.
import { ProbeFailure } from '../../probes/probe.ts'
import { note, signalFor, warn } from '../context.ts'
import { failure } from './_fail.ts'

/** A text expectation: contained string, matching RegExp, or predicate. */
export type TextMatcher = string | RegExp | ((text: string) => boolean)

/** Options of {@link expectHttp}. */
export interface ExpectHttpOptions {
  /** @default 'GET' */
  method?: string
  /** Request headers. */
  headers?: Record<string, string>
  /** Request body. */
  body?: string
  /** Expected status: a number, a list, or a predicate. @default any 2xx */
  status?: number | readonly number[] | ((status: number) => boolean)
  /** Expected response headers (case-insensitive names): `true` means present. */
  header?: Record<string, TextMatcher | true>
  /** Expectation on the body text. */
  text?: TextMatcher
  /** Predicate on the parsed JSON body; fails when the body is not JSON or it returns false. */
  json?: (body: any) => boolean | void
  /** Latency budget in ms: slower answers fail with reason `timeout`. */
  maxLatency?: number
  /** Slower answers than this (ms) pass with a warning. */
  warnLatency?: number
  /** Defaults to the running check's signal. */
  signal?: AbortSignal
}

/** What the server answered. */
export interface HttpSeen {
  statusCode: number
  headers: Headers
  text: string
  latencyMs: number
}

function matches(m: TextMatcher, text: string): boolean {
  if (typeof m === 'string') return text.includes(m)
  if (m instanceof RegExp) return m.test(text)
  return m(text)
}

function statusOk(expected: ExpectHttpOptions['status'], status: number): boolean {
  if (expected === undefined) return status >= 200 && status < 300
  if (typeof expected === 'number') return status === expected
  if (typeof expected === 'function') return expected(status)
  return expected.includes(status)
}

const clip = (s: string): string => (s.length > 200 ? `${s.slice(0, 200)}…` : s)

/**
 * Sends one request to `url` and asserts on the answer. Throws a failure with a reason class
 * (dns, connect, tls, timeout, status, assertion); resolves with what was seen.
 *
 * @example
 * check('API answers', { tags: ['smoke'] }, () => expectHttp(`${env.API_URL}/health`, { status: 200, json: (b) => b.ok === true }))
 */
export async function expectHttp(url: string, options: ExpectHttpOptions = {}): Promise<HttpSeen> {
  const method = options.method ?? 'GET'
  const what = `${method} ${url}`
  const signal = signalFor(options.signal)
  const t0 = performance.now()
  let res: Response
  let text: string
  try {
    res = await fetch(url, { method, redirect: 'manual', ...(options.headers ? { headers: options.headers } : {}), ...(options.body !== undefined ? { body: options.body } : {}), ...(signal ? { signal } : {}) })
    text = await res.text()
  } catch (err) {
    throw failure(what, err)
  }
  const latencyMs = performance.now() - t0
  if (!statusOk(options.status, res.status)) throw new ProbeFailure('status', `${what} answered ${res.status}${text ? `: ${clip(text)}` : ''}`)
  for (const [name, m] of Object.entries(options.header ?? {})) {
    const v = res.headers.get(name)
    if (v === null) throw new ProbeFailure('assertion', `${what}: no ${name} header in the answer`)
    if (m !== true && !matches(m, v)) throw new ProbeFailure('assertion', `${what}: header ${name} is "${clip(v)}", which does not match ${String(m)}`)
  }
  if (options.text !== undefined && !matches(options.text, text)) throw new ProbeFailure('assertion', `${what}: body does not match ${String(options.text)}: ${clip(text)}`)
  if (options.json) {
    let body: unknown
    try {
      body = JSON.parse(text)
    } catch {
      throw new ProbeFailure('assertion', `${what}: body is not JSON: ${clip(text)}`)
    }
    if (options.json(body) === false) throw new ProbeFailure('assertion', `${what}: JSON body did not satisfy the predicate: ${clip(text)}`)
  }
  const ms = Math.round(latencyMs)
  if (options.maxLatency !== undefined && latencyMs > options.maxLatency) throw new ProbeFailure('timeout', `${what} answered in ${ms} ms, over its latency budget of ${options.maxLatency} ms`)
  if (options.warnLatency !== undefined && latencyMs > options.warnLatency) warn(`${what} answered in ${ms} ms (warn above ${options.warnLatency} ms)`)
  note(`${res.status} in ${ms} ms`)
  return { statusCode: res.status, headers: res.headers, text, latencyMs }
}
