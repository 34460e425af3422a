// The restore as one multi-statement string, sent in one round trip on the guard's restore
// session, where FOREIGN_KEY_CHECKS=0: InnoDB then neither checks nor cascades, so statement
// order and foreign-key cycles do not matter and no ON DELETE CASCADE reaches a table the test
// did not touch. Row changes run in one transaction; DDL (dropping tables the test created,
// recreating ones it dropped, TRUNCATE, AUTO_INCREMENT) commits on its own, before or after it.
import type { TableInfo } from './catalog.ts'

/** Everything one restore does. */
export interface RestorePlan {
  strategy: 'delete' | 'truncate'
  /** Tables whose rows differ from the baseline. */
  changed: readonly TableInfo[]
  /** Seeded tables: name → quoted shadow table holding the baseline rows. */
  shadows: ReadonlyMap<string, string>
  /** Quoted names of tables the test created. */
  drop: readonly string[]
  /** CREATE TABLE statements of tables the test dropped (their rows come back from the shadow copy). */
  create: readonly string[]
  /** AUTO_INCREMENT values to put back: quoted table → value. */
  autoinc: ReadonlyMap<string, string>
}

const eqAll = (t: TableInfo): string => (t.columns.length > 0 ? t.columns.map((c) => `s.${c} <=> x.${c}`).join(' and ') : '1')
const eqKey = (t: TableInfo): string => t.pk.map((c) => `s.${c} = x.${c}`).join(' and ')
const cols = (t: TableInfo, alias?: string): string => t.columns.map((c) => (alias ? `${alias}.${c}` : c)).join(', ')

/** Statements putting one table's rows back. */
function tableStatements(t: TableInfo, shadow: string | undefined, strategy: RestorePlan['strategy']): { before: string[]; rows: string[] } {
  const reload = shadow ? [`insert into ${t.sql} (${cols(t)}) select ${cols(t, 's')} from ${shadow} s`] : []
  if (strategy === 'truncate') return { before: [`truncate table ${t.sql}`], rows: reload }
  if (!shadow || t.pk.length === 0) return { before: [], rows: [`delete from ${t.sql}`, ...reload] }
  // Rows that are not exactly a baseline row go (added and changed ones); baseline rows whose
  // key is missing come back (removed, and the originals of changed ones).
  return {
    before: [],
    rows: [
      `delete x from ${t.sql} x where not exists (select 1 from ${shadow} s where ${eqKey(t)} and ${eqAll(t)})`,
      `insert into ${t.sql} (${cols(t)}) select ${cols(t, 's')} from ${shadow} s where not exists (select 1 from ${t.sql} x where ${eqKey(t)})`,
    ],
  }
}

/** The statements of a restore, in order. */
export function buildRestoreStatements(plan: RestorePlan): string[] {
  const ddl: string[] = [...plan.drop.map((d) => `drop table if exists ${d}`), ...plan.create]
  const dml: string[] = []
  for (const t of plan.changed) {
    const s = tableStatements(t, plan.shadows.get(t.name), plan.strategy)
    ddl.push(...s.before)
    dml.push(...s.rows)
  }
  const after = [...plan.autoinc].map(([table, value]) => `alter table ${table} auto_increment = ${BigInt(value)}`)
  return [...ddl, ...(dml.length > 0 ? ['start transaction', ...dml, 'commit'] : []), ...after]
}
