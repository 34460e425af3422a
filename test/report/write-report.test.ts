import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { renderHtml } from '../../src/report/html.ts'
import { writeReport } from '../../src/report/write-report.ts'
import { sampleReport } from './fixture.ts'

describe('writeReport', () => {
  const dirs: string[] = []
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true })
  })
  const tempDir = async (): Promise<string> => {
    const d = await mkdtemp(join(tmpdir(), 'rig-report-test-'))
    dirs.push(d)
    return d
  }

  it('writes the three files, creating the directory, and leaves no temporary files', async () => {
    const dir = join(await tempDir(), 'nested', 'rig-report')
    const paths = await writeReport(sampleReport(), dir)
    expect(paths).toEqual({ json: join(dir, 'report.json'), junit: join(dir, 'junit.xml'), html: join(dir, 'index.html') })
    expect((await readdir(dir)).sort()).toEqual(['index.html', 'junit.xml', 'report.json'])
  })

  it('report.json round-trips to the same report', async () => {
    const report = sampleReport()
    const { json } = await writeReport(report, await tempDir())
    expect(JSON.parse(await readFile(json, 'utf8'))).toEqual(JSON.parse(JSON.stringify(report)))
  })

  it("a variant's report in <dir>/<variant>/ keeps <dir>/what-is-tested.html of every variant beside it, and links it; elsewhere neither", async () => {
    const dir = await tempDir()
    const en = sampleReport()
    en.variant = 'en'
    const de = sampleReport()
    de.variant = 'de'
    de.tests = de.tests.map((t) => (t.status === 'failed' ? { ...t, status: 'passed' as const } : t))
    await writeReport(en, join(dir, 'en'))
    await writeReport(de, join(dir, 'de'))
    // a foreign directory beside them is not a variant
    await writeReport(sampleReport(), join(dir, 'shard-1'))
    const page = await readFile(join(dir, 'what-is-tested.html'), 'utf8')
    expect(page).toContain('<a href="de/index.html">de</a>')
    expect(page).toContain('<a href="en/index.html">en</a>')
    expect(page).not.toContain('shard-1')
    expect(page).toContain('2 tests fail in at least one variant')
    const html = await readFile(join(dir, 'de', 'index.html'), 'utf8')
    expect(html).toContain('variant <b class="mono" data-testid="variant">de</b> (<a href="../what-is-tested.html" data-testid="matrix-link">what is tested in every variant</a>)')
    // A variant report written anywhere else (RIG_REPORT_DIR=out) names its variant, links nothing, writes no page.
    const other = await tempDir()
    await writeReport(de, join(other, 'out'))
    expect(await readdir(other)).toEqual(['out'])
    const alone = await readFile(join(other, 'out', 'index.html'), 'utf8')
    expect(alone).toContain('variant <b class="mono" data-testid="variant">de</b> · ')
    expect(alone).not.toContain('what-is-tested.html')
  })

  it('overwrites a previous report', async () => {
    const dir = await tempDir()
    await writeReport(sampleReport(), dir)
    const second = sampleReport()
    second.seed = 1
    const { json } = await writeReport(second, dir)
    expect(JSON.parse(await readFile(json, 'utf8')).seed).toBe(1)
  })
})

describe('renderHtml', () => {
  const html = renderHtml(sampleReport())

  it('loads nothing from the network', () => {
    expect(html).not.toMatch(/\b(?:src|href)=["']?(?:https?:)?\/\//i)
    expect(html).not.toMatch(/@import|url\(\s*["']?(?:https?:)?\/\//i)
    expect(html).toContain("default-src 'none'")
  })

  it('escapes user content: only its own script tag is present', () => {
    expect(html.match(/<script/gi)).toHaveLength(1)
    expect(html).toContain('&lt;script&gt;window.__pwned = 1&lt;/script&gt;')
    expect(html).not.toContain('<img')
    expect(html).not.toContain('\u001b[')
  })

  it('renders an attached environment and an empty run without failing', () => {
    const r = sampleReport()
    r.environment = { startMs: 0, attached: true, services: r.environment.services.map(({ startingAt, startedAt, readyAt, completedAt, ...s }) => s) }
    r.tests = []
    r.files = []
    const page = renderHtml(r)
    expect(page).toContain('already running')
    expect(page).toContain('0 of 0 tests shown')
  })
})
