// What an intake server writes: one line per record on stdout, which rig captures into the
// service's log like any process's output (and the per-test log scan reads). Lines are bounded.

const MAX_LINE = 2000

/** One line of text: control characters made visible, cut at 2000 characters. */
export function oneLine(text: string): string {
  // eslint-disable-next-line no-control-regex
  const flat = text.replace(/\r?\n/g, ' \\n ').replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '?')
  return flat.length > MAX_LINE ? `${flat.slice(0, MAX_LINE)}… (${flat.length - MAX_LINE} more characters)` : flat
}

/** Writes a line to stdout (synchronous on a pipe: a reader that falls behind slows the server, never its memory). */
export function emitLine(text: string): void {
  process.stdout.write(oneLine(text) + '\n')
}
