// What `rig init` learns from a project: its package.json (dependencies, scripts, module type)
// and, for Prisma, which database its schema names.
import fs from 'node:fs'
import path from 'node:path'
import { InitError } from './errors.ts'
import { readProjectFile } from './write-file.ts'

/** The facts `rig init` plans from. */
export interface ProjectFacts {
  dir: string
  /** Every dependency name: dependencies, devDependencies, optional and peer ones. */
  deps: ReadonlySet<string>
  scripts: Readonly<Record<string, string>>
  /** `"type": "module"`: a `.ts` config is ESM there; elsewhere rig writes `.mts`. */
  esm: boolean
  /** The `provider` of Prisma's datasource, when the project has a schema. */
  prismaProvider: string | undefined
}

const PRISMA_SCHEMAS = ['prisma/schema.prisma', 'schema.prisma']

function prismaProvider(dir: string): string | undefined {
  for (const rel of PRISMA_SCHEMAS) {
    const file = path.join(dir, rel)
    if (!fs.existsSync(file)) continue
    const datasource = /datasource\s+\w+\s*\{([^}]*)\}/.exec(fs.readFileSync(file, 'utf8'))
    return /provider\s*=\s*"([^"]+)"/.exec(datasource?.[1] ?? '')?.[1]
  }
  return undefined
}

/** Reads the project in `dir`; fails when it has no readable package.json. */
export function inspectProject(dir: string): ProjectFacts {
  const file = path.join(dir, 'package.json')
  const text = readProjectFile(file)
  if (text === undefined) throw new InitError('RIG_INIT_NO_PACKAGE_JSON', `no package.json in ${dir}: run rig init in your project's root (npm init -y creates one)`)
  let pkg: Record<string, unknown>
  try {
    pkg = JSON.parse(text) as Record<string, unknown>
  } catch (err) {
    throw new InitError('RIG_INIT_NO_PACKAGE_JSON', `${file} is not valid JSON (${(err as Error).message}): fix it, then run rig init again`, { cause: err })
  }
  const deps = new Set<string>()
  for (const field of ['dependencies', 'devDependencies', 'optionalDependencies', 'peerDependencies']) {
    const v = pkg[field]
    if (v && typeof v === 'object') for (const name of Object.keys(v)) deps.add(name)
  }
  const scripts = pkg.scripts && typeof pkg.scripts === 'object' ? (pkg.scripts as Record<string, string>) : {}
  return { dir, deps, scripts, esm: pkg.type === 'module', prismaProvider: deps.has('prisma') || deps.has('@prisma/client') ? prismaProvider(dir) : undefined }
}
