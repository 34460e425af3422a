// The production-like variant: the same suite run once as in development and once as in
// production. rig's part is what production looks like from outside (public names through the
// front proxy, HTTPS when asked, a flag saying which run this is); the app's part is its own
// production switches, set as env, which is where the differences that bite live (Secure
// cookies, CSRF and CORS checks on, debug pages off).
import type { Variant } from './variants.ts'

/** Options of {@link prodLike}. */
export interface ProdLikeOptions {
  /**
   * The app's own production flags, set for the services rig starts and for the tests, e.g.
   * `{ APP_ENV: 'production', SESSION_COOKIE_SECURE: 'true' }`.
   */
  env?: Record<string, string>
  /** Options merged over services, as in any variant, e.g. `{ api: { run: ['node', 'dist/server.js'] } }`. */
  services?: Record<string, object>
  /**
   * Public URLs over HTTPS only (`front.tls`, a certificate from rig's local CA); plain HTTP
   * public names otherwise.
   * @default false
   */
  https?: boolean
}

/**
 * A variant with the front proxy on (every public service at `<service>.<project>.localhost`,
 * `RIG_<NAME>_PUBLIC_URL`; HTTPS with `https: true`), `RIG_PROFILE=prod-like` and the app's
 * production flags.
 *
 * @example
 * variants: {
 *   'prod-like': prodLike({ https: true, env: { APP_ENV: 'production', COOKIE_SECURE: 'true' } }),
 * }
 */
export function prodLike(options: ProdLikeOptions = {}): Variant {
  return {
    front: options.https ? { tls: true } : true,
    env: { RIG_PROFILE: 'prod-like', ...options.env },
    ...(options.services ? { services: options.services } : {}),
  }
}
