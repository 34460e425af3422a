// Live view of an environment starting: on a terminal, one line per service redrawn in place;
// elsewhere (CI, pipes), one line per meaningful event.
import type { EnvEvent } from '../env/events.ts'
import { maskPassword } from '../services/credentials.ts'
import type { Output } from './output.ts'

interface Row {
  state: 'waiting' | 'starting' | 'ready' | 'completed' | 'failed'
  text: string
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏']

/** Renders start-up progress to stderr. Call `stop()` when the start is over. */
export class Progress {
  private readonly out: Output
  private readonly live: boolean
  private readonly rows = new Map<string, Row>()
  private drawn = 0
  private frame = 0
  private timer: NodeJS.Timeout | undefined
  private readonly width: number

  constructor(out: Output, services: readonly string[], live = Boolean(out.stderr.isTTY) && !process.env.CI) {
    this.out = out
    this.live = live
    this.width = Math.max(...services.map((s) => s.length), 4)
    for (const s of services) this.rows.set(s, { state: 'waiting', text: 'waiting' })
    if (live) {
      this.timer = setInterval(() => this.draw(), 80)
      this.timer.unref()
      this.draw()
    }
  }

  /** Feeds one event. */
  on(e: EnvEvent): void {
    const row = this.rows.get(e.service)
    if (!row) return
    const e2 = this.out.e
    switch (e.type) {
      case 'waiting':
        row.text = `waiting for ${e.on.join(', ')}`
        break
      case 'starting':
        Object.assign(row, { state: 'starting', text: 'starting' })
        break
      case 'started':
        row.text = e.pid ? `started (pid ${e.pid}), waiting until ready` : 'checking'
        break
      case 'probing':
        row.text = `waiting for ${e.probe}${e.detail ? e2.dim(` — ${e.detail}`) : ''}`
        break
      case 'ready':
        // A one-shot task reports `completed` first; its `ready` adds nothing.
        if (row.state === 'completed') return
        Object.assign(row, { state: 'ready', text: `ready in ${Math.round(e.readyMs)} ms${e.url ? `  ${e2.dim(maskPassword(e.url))}` : ''}` })
        break
      case 'completed':
        Object.assign(row, { state: 'completed', text: `completed at ${Math.round(e.at)} ms` })
        break
      case 'failed':
        Object.assign(row, { state: 'failed', text: e2.red((e.error.split('\n')[0] ?? '').slice(0, 120)) })
        break
      case 'notice':
        this.line(`${e2.yellow('notice')} ${e.service}: ${e.message}`)
        return
      default:
        return
    }
    if (this.live) this.draw()
    else if (['starting', 'ready', 'completed', 'failed'].includes(e.type)) this.line(this.format(e.service, row))
  }

  private format(name: string, row: Row): string {
    const e = this.out.e
    const icon = { waiting: e.dim('·'), starting: e.cyan(this.live ? (FRAMES[this.frame % FRAMES.length] ?? '*') : '›'), ready: e.green('✓'), completed: e.green('✓'), failed: e.red('✗') }[row.state]
    return `  ${icon} ${name.padEnd(this.width)}  ${row.text}`
  }

  private line(text: string): void {
    if (this.live) this.clear()
    this.out.info(text)
    if (this.live) this.draw()
  }

  private clear(): void {
    if (this.drawn > 0) this.out.stderr.write(`\x1b[${this.drawn}A\x1b[0J`)
    this.drawn = 0
  }

  private draw(): void {
    this.frame++
    this.clear()
    const cols = this.out.stderr.columns || 120
    for (const [name, row] of this.rows) this.out.stderr.write(this.format(name, row).slice(0, cols + 20) + '\n')
    this.drawn = this.rows.size
  }

  /** Stops redrawing, leaving the final state on screen. */
  stop(): void {
    if (this.timer) clearInterval(this.timer)
    if (this.live) this.draw()
  }
}
