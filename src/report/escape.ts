// Escaping for everything the report prints: test names, error messages and service log lines
// are arbitrary text, often with ANSI colours, and must never become markup.

// Colour and cursor sequences that service logs and assertion diffs carry.
const ANSI = /\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)/g

// Characters XML 1.0 forbids even when escaped: C0 controls other than tab, LF and CR, lone
// surrogates, U+FFFE and U+FFFF. A CI parser rejects the whole file over one of them.
const XML_INVALID = /[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g

/** Remove ANSI escape sequences, which read as noise outside a terminal. */
export function stripAnsi(text: string): string {
  return text.replace(ANSI, '')
}

/** Text safe inside an HTML element or a double- or single-quoted attribute. */
export function escapeHtml(text: string): string {
  return stripAnsi(text)
    .replace(XML_INVALID, '\ufffd')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;')
}

/**
 * Text safe inside an XML element or attribute. Invalid characters become U+FFFD; in
 * attributes, line breaks and tabs are kept as character references because parsers
 * otherwise normalise them to spaces.
 */
export function escapeXml(text: string, attribute = false): string {
  const out = stripAnsi(text)
    .replace(XML_INVALID, '\ufffd')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;')
  return attribute ? out.replace(/\n/g, '&#10;').replace(/\r/g, '&#13;').replace(/\t/g, '&#9;') : out
}

/** `850 ms`, `1.24 s`, `2 min 05 s`: durations as a person reads them. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '–'
  if (ms < 1000) return `${Math.round(ms)} ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`
  const s = Math.round(ms / 1000)
  return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`
}
