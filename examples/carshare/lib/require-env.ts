/** The value of a required env var; logs an error and exits when it is missing. */
export function requireEnv(name: string): string {
  const v = process.env[name]
  if (!v) {
    console.error(`ERROR ${name} is not set`)
    process.exit(1)
  }
  return v
}
