/** Progress of an environment, for live output and reports. Times are ms since the start. */
export type EnvEvent =
  | { type: 'waiting'; service: string; at: number; on: string[] }
  | { type: 'starting'; service: string; at: number }
  | { type: 'started'; service: string; at: number; pid?: number }
  | { type: 'probing'; service: string; at: number; probe: string; attempt: number; detail?: string }
  | { type: 'ready'; service: string; at: number; readyMs: number; url: string }
  | { type: 'completed'; service: string; at: number }
  | { type: 'failed'; service: string; at: number; error: string }
  | { type: 'notice'; service: string; at: number; message: string }
  | { type: 'exited'; service: string; at: number; code: number | null; signal: string | null }
  | { type: 'stopping'; service: string; at: number }
  | { type: 'stopped'; service: string; at: number }
  | { type: 'paused'; service: string; at: number }
  | { type: 'resumed'; service: string; at: number }

/** Receives {@link EnvEvent}s. */
export type EnvEventListener = (event: EnvEvent) => void
