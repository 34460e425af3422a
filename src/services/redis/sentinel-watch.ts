// Listens to the sentinels' `+switch-master` announcements: a failover asked for or one the
// sentinels decided on their own (the master was killed) moves rig's stable address. Every
// sentinel is subscribed to, so losing one does not lose the news; a dropped subscription is
// opened again until the watch is closed.
import net from 'node:net'

/** What `+switch-master` says: the master's new address. */
export interface SwitchMaster {
  host: string
  port: number
}

const SWITCH = /\+switch-master\r\n\$\d+\r\n([^\r]*)\r\n/g

function encode(args: readonly string[]): string {
  return `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`
}

/** Subscribes to `+switch-master` on every sentinel; `onSwitch` gets each new master of `masterName`. */
export function watchSentinels(sentinels: readonly { host: string; port: number }[], password: string, masterName: string, onSwitch: (m: SwitchMaster) => void): { close(): void } {
  let closed = false
  const sockets = new Set<net.Socket>()
  const timers = new Set<NodeJS.Timeout>()
  const subscribe = (s: { host: string; port: number }): void => {
    if (closed) return
    const socket = net.connect({ host: s.host, port: s.port })
    sockets.add(socket)
    let text = ''
    socket.setEncoding('utf8')
    socket.on('connect', () => socket.write(encode(['AUTH', 'default', password]) + encode(['SUBSCRIBE', '+switch-master'])))
    socket.on('data', (chunk: string) => {
      text += chunk
      let last = 0
      for (const m of text.matchAll(SWITCH)) {
        last = (m.index ?? 0) + m[0].length
        const [name, , , host, port] = (m[1] ?? '').split(' ')
        if (name === masterName && host && port) onSwitch({ host, port: Number(port) })
      }
      // Keep only what may be the start of a message cut in two.
      text = text.slice(Math.max(last, text.length - 4096))
    })
    socket.on('error', () => {})
    socket.on('close', () => {
      sockets.delete(socket)
      if (closed) return
      const t = setTimeout(() => {
        timers.delete(t)
        subscribe(s)
      }, 200)
      t.unref()
      timers.add(t)
    })
    socket.unref()
  }
  for (const s of sentinels) subscribe(s)
  return {
    close() {
      closed = true
      for (const t of timers) clearTimeout(t)
      for (const s of sockets) s.destroy()
    },
  }
}
