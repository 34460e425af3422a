// Where the CLI writes: results to stdout (JSON when asked), progress and errors to stderr,
// colour only on a TTY and never when NO_COLOR is set.

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
  }

  /** A line of results on stdout. */
  print(line = ''): void {
    this.stdout.write(line + '\n')
  }

  /** A line of progress or diagnostics on stderr. */
  info(line = ''): void {
    this.stderr.write(line + '\n')
  }

  /** Pretty JSON on stdout. */
  json(value: unknown): void {
    this.stdout.write(JSON.stringify(value, null, 2) + '\n')
  }

  /** An error message on stderr. */
  error(message: string): void {
    this.stderr.write(`${this.e.red(this.e.bold('error'))} ${message}\n`)
  }
}
