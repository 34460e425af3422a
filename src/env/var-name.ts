/** Name of the env var holding a service's url, host or port: `RIG_DB_URL`. */
export function varName(service: string, key: string): string {
  return `RIG_${service.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_${key}`
}
