// Foreign-key order for restores that cannot switch FK checks off: delete from referencing
// tables first, insert into referenced tables first. Cycles have no such order; their members
// come out in a stable order and rely on deferred constraints (or replica mode) instead.
import type { ForeignKey } from './catalog.ts'

/** `oids` sorted so that a table comes after every table it references (self-references ignored). */
export function referencedFirst(oids: readonly number[], fks: readonly ForeignKey[]): number[] {
  const wanted = new Set(oids)
  const refs = new Map<number, number[]>()
  for (const fk of fks) {
    if (fk.from === fk.to || !wanted.has(fk.from) || !wanted.has(fk.to)) continue
    const list = refs.get(fk.from) ?? []
    list.push(fk.to)
    refs.set(fk.from, list)
  }
  const out: number[] = []
  const state = new Map<number, 'visiting' | 'done'>()
  const visit = (oid: number): void => {
    if (state.has(oid)) return // 'visiting' means a cycle: break it here
    state.set(oid, 'visiting')
    for (const to of refs.get(oid) ?? []) visit(to)
    state.set(oid, 'done')
    out.push(oid)
  }
  for (const oid of [...oids].sort((a, b) => a - b)) visit(oid)
  return out
}

/** Every table that references one of `oids`, directly or through others, plus `oids` themselves. */
export function withReferencing(oids: readonly number[], fks: readonly ForeignKey[]): Set<number> {
  const out = new Set(oids)
  for (let grew = true; grew; ) {
    grew = false
    for (const fk of fks) {
      if (out.has(fk.to) && !out.has(fk.from)) {
        out.add(fk.from)
        grew = true
      }
    }
  }
  return out
}
