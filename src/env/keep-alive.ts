// Service processes are unref'd so a script that forgets to stop its environment still exits
// (and the watchdog reaps the services). While rig itself waits on them, the event loop
// must stay alive: this holds it open until the promise settles.

/** Resolves like `p`, keeping the Node.js event loop alive meanwhile. */
export async function keepAlive<T>(p: Promise<T>): Promise<T> {
  const timer = setInterval(() => {}, 1 << 30)
  try {
    return await p
  } finally {
    clearInterval(timer)
  }
}
