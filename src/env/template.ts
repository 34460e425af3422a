// `{port}`, `{host}`, `{dir}` and `{db.url}`-style placeholders in commands and env values,
// resolved once the service's own port and its dependencies' addresses are known.
import { ConfigError } from '../errors.ts'
import type { ServiceAddress } from '../services/service-kind.ts'

/** Values a service's own placeholders resolve to. */
export interface TemplateSelf {
  name: string
  host: string
  port: number
  dir: string
}

const PLACEHOLDER = /\{([A-Za-z_][\w-]*)(?:\.(url|host|port))?\}/g

/** True when `text` uses the service's own `{port}` (or `{url}`). */
export function usesOwnPort(text: string): boolean {
  return /\{(port|url)\}/.test(text)
}

/** Replaces placeholders; a reference to a service that is not a dependency is a ConfigError. */
export function expandTemplate(text: string, self: TemplateSelf, deps: Readonly<Record<string, ServiceAddress>>): string {
  return text.replace(PLACEHOLDER, (whole, id: string, field?: 'url' | 'host' | 'port') => {
    if (!field) {
      if (id === 'port') return String(self.port)
      if (id === 'host') return self.host
      if (id === 'dir') return self.dir
      if (id === 'url') return `http://${self.host}:${self.port}`
      if (id === 'name') return self.name
      const dep = Object.hasOwn(deps, id) ? deps[id] : undefined
      return dep ? dep.url : whole
    }
    const dep = Object.hasOwn(deps, id) ? deps[id] : undefined
    if (!dep) throw new ConfigError('RIG_CONFIG_UNKNOWN_REFERENCE', `service "${self.name}" refers to {${id}.${field}}, but "${id}" is not in its dependsOn: add it there so its address is known before "${self.name}" starts`)
    return String(dep[field])
  })
}
