// The page's only script: filter, search, sort, expand and copy. It reads the DOM the server
// rendered (data-* attributes), so no report data is embedded in script text, where a stray
// `</script>` in a test name could break out. Plain ES2020, no libraries.

/** Inline script of index.html. Its hash goes in the page's Content-Security-Policy. */
export const SCRIPT = `
(() => {
  'use strict'
  const $ = (sel, root = document) => root.querySelector(sel)
  const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel))
  const table = $('table.tests')
  const bodies = () => $$('tbody.test', table)
  const search = $('#search')
  let filter = 'all'
  let sortKey = 'order'
  let sortDir = 1

  const matches = (tb) => {
    const f = filter === 'all' || tb.dataset.status === filter ||
      (filter === 'leaks' && tb.dataset.leaks === 'true') || (filter === 'logs' && tb.dataset.logs === 'true')
    const q = search.value.trim().toLowerCase()
    return f && (q === '' || tb.textContent.toLowerCase().includes(q))
  }

  const apply = () => {
    let shown = 0
    for (const tb of bodies()) {
      const ok = matches(tb)
      tb.hidden = !ok
      if (ok) shown++
    }
    const total = bodies().length
    $('[data-testid="shown"]').textContent = shown + ' of ' + total + ' tests shown'
    $('[data-testid="empty"]').hidden = shown !== 0
    for (const b of $$('[data-filter]')) {
      const on = b.dataset.filter === filter
      b.classList.toggle('active', on)
      if (b.classList.contains('filter')) b.setAttribute('aria-pressed', String(on))
    }
  }

  const setOpen = (tb, open) => {
    const row = $('tr.row', tb)
    $('tr.details', tb).hidden = !open
    row.setAttribute('aria-expanded', String(open))
  }
  const toggle = (tb) => setOpen(tb, $('tr.details', tb).hidden)

  for (const b of $$('[data-filter]')) {
    b.addEventListener('click', () => {
      // Clicking the active summary card again goes back to all tests.
      filter = filter === b.dataset.filter && !b.classList.contains('filter') ? 'all' : b.dataset.filter
      apply()
      if (!b.classList.contains('filter')) $('#tests').scrollIntoView({ behavior: 'smooth', block: 'start' })
    })
  }
  search.addEventListener('input', apply)
  document.addEventListener('keydown', (e) => {
    if (e.key === '/' && document.activeElement !== search) { e.preventDefault(); search.focus() }
  })

  table.addEventListener('click', (e) => {
    const row = e.target.closest('tr.row')
    // Selecting text in a row should not fold it away.
    if (!row || String(window.getSelection()).length > 0) return
    toggle(row.parentElement)
  })
  table.addEventListener('keydown', (e) => {
    const row = e.target.closest && e.target.closest('tr.row')
    if (row && (e.key === 'Enter' || e.key === ' ')) { e.preventDefault(); toggle(row.parentElement) }
  })

  const all = $('#toggle-all')
  all.addEventListener('click', () => {
    const visible = bodies().filter((tb) => !tb.hidden)
    const open = visible.some((tb) => $('tr.details', tb).hidden)
    for (const tb of visible) setOpen(tb, open)
    all.textContent = open ? 'Collapse all' : 'Expand all'
  })

  const rank = { failed: 0, passed: 1, skipped: 2 }
  const keyOf = (tb) => {
    const d = tb.dataset
    if (sortKey === 'duration') return Number(d.duration)
    if (sortKey === 'order') return Number(d.order)
    if (sortKey === 'status') return rank[d.status] * 1e6 + Number(d.order)
    // Name and file are read from the row itself: a copy in data-* attributes doubled their share of a large page.
    const cell = $('td.' + sortKey, tb)
    return cell ? cell.textContent.toLowerCase() : ''
  }
  for (const th of $$('th[data-sort]', table)) {
    th.tabIndex = 0
    const sort = () => {
      sortDir = sortKey === th.dataset.sort ? -sortDir : (th.dataset.sort === 'duration' ? -1 : 1)
      sortKey = th.dataset.sort
      const sorted = bodies().sort((a, b) => {
        const x = keyOf(a), y = keyOf(b)
        return (x < y ? -1 : x > y ? 1 : 0) * sortDir
      })
      for (const tb of sorted) table.appendChild(tb)
      for (const other of $$('th[data-sort]', table)) other.removeAttribute('aria-sort')
      th.setAttribute('aria-sort', sortDir === 1 ? 'ascending' : 'descending')
    }
    th.addEventListener('click', sort)
    th.addEventListener('keydown', (e) => { if (e.key === 'Enter') sort() })
  }

  // navigator.clipboard needs a secure context and may be refused from file://; the
  // selection fallback works everywhere, and the last resort leaves the text selected.
  const copy = async (text) => {
    try { await navigator.clipboard.writeText(text); return true } catch {}
    const ta = document.createElement('textarea')
    ta.value = text
    ta.style.position = 'fixed'
    ta.style.opacity = '0'
    document.body.appendChild(ta)
    ta.select()
    let ok = false
    try { ok = document.execCommand('copy') } catch {}
    ta.remove()
    return ok
  }
  document.addEventListener('click', async (e) => {
    const btn = e.target.closest && e.target.closest('button[data-copy]')
    if (!btn) return
    e.stopPropagation()
    const code = btn.parentElement.querySelector('code')
    const ok = await copy(code.textContent)
    if (!ok) getSelection().selectAllChildren(code)
    btn.textContent = ok ? 'Copied' : 'Press Ctrl+C'
    btn.classList.toggle('done', ok)
    setTimeout(() => { btn.textContent = 'Copy'; btn.classList.remove('done') }, 1600)
  }, true)

  apply()
})()
`
