// Where the CLI writes: results to stdout (JSON when asked), progress and errors to stderr,
// colour only on a TTY and never when NO_COLOR is set. A reader that goes away (`rig --help |
// head -1`, a closed terminal) ends the output quietly instead of crashing the command with EPIPE.

const useColor = (stream: NodeJS.WriteStream): boolean => Boolean(stream.isTTY) && !process.env.NO_COLOR && process.env.TERM !== 'dumb'

/** ANSI styling that turns itself off when colour is not wanted. */
export interface Style {
  bold(s: string): string
  dim(s: string): string
  red(s: string): string
  green(s: string): string
  yellow(s: string): string
  cyan(s: string): string
}

function style(on: boolean): Style {
  const wrap = (open: number, close: number) => (s: string) => (on ? `\x1b[${open}m${s}\x1b[${close}m` : s)
  return { bold: wrap(1, 22), dim: wrap(2, 22), red: wrap(31, 39), green: wrap(32, 39), yellow: wrap(33, 39), cyan: wrap(36, 39) }
}

const guarded = new WeakSet<NodeJS.WriteStream>()

/**
 * Makes a closed pipe end the output on `stream` quietly: later writes are dropped, and the
 * command goes on (`rig up | head -1` still stops its services on Ctrl-C). Other errors still
 * surface as before.
 */
export function quietOnClosedPipe(stream: NodeJS.WriteStream): void {
  if (guarded.has(stream)) return
  guarded.add(stream)
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE' && err.code !== 'ERR_STREAM_DESTROYED') throw err
    stream.destroy()
  })
}

/** The CLI's output channels. */
export class Output {
  readonly stdout: NodeJS.WriteStream
  readonly stderr: NodeJS.WriteStream
  /** Styling for stdout. */
  readonly s: Style
  /** Styling for stderr. */
  readonly e: Style

  constructor(stdout: NodeJS.WriteStream = process.stdout, stderr: NodeJS.WriteStream = process.stderr) {
    this.stdout = stdout
    this.stderr = stderr
    this.s = style(useColor(stdout))
    this.e = style(useColor(stderr))
    quietOnClosedPipe(stdout)
    quietOnClosedPipe(stderr)
  }

  /** Whether stdout's reader went away: nothing written there is read any more. */
  get closed(): boolean {
    return !this.stdout.writable
  }

  /** Text on stdout, as is. */
  write(text: string): void {
    if (this.stdout.writable) this.stdout.write(text)
  }

  /** A line of results on stdout. */
  print(line = ''): void {
    this.write(line + '\n')
  }

  /** A line of progress or diagnostics on stderr. */
  info(line = ''): void {
    if (this.stderr.writable) this.stderr.write(line + '\n')
  }

  /** Pretty JSON on stdout. */
  json(value: unknown): void {
    this.write(JSON.stringify(value, null, 2) + '\n')
  }

  /** An error message on stderr. */
  error(message: string): void {
    this.info(`${this.e.red(this.e.bold('error'))} ${message}`)
  }
}
