import { describe, expect, it } from 'vitest'
import { Output } from '../../src/cli/output.ts'
import { snapshot } from '../../src/cli/commands/snapshot.ts'

const ctx = (positionals: string[]) => ({ values: {}, positionals, rest: [], out: new Output() })

describe('rig snapshot (arguments)', () => {
  it('rejects a missing or unknown action, a missing name and extra arguments', async () => {
    await expect(snapshot(ctx([]))).rejects.toMatchObject({ code: 'RIG_SNAPSHOT_USAGE', exitCode: 2 })
    await expect(snapshot(ctx(['take', 'x']))).rejects.toMatchObject({ code: 'RIG_SNAPSHOT_USAGE' })
    await expect(snapshot(ctx(['save']))).rejects.toThrow(/rig snapshot save needs a NAME/)
    await expect(snapshot(ctx(['list', 'x']))).rejects.toThrow(/unexpected argument "x"/)
  })
})
