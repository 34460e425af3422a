// The page's stylesheet. System fonts only (no downloads); colours from CSS variables so the
// dark scheme is one block; status is never told by colour alone (labels and icons too).

/** Inline stylesheet of index.html. */
export const STYLE = `
:root {
  --bg: #f5f6f8; --card: #fff; --fg: #1f2328; --muted: #656d76; --line: #d8dee4; --soft: #f0f2f4;
  --pass: #1a7f37; --pass-bg: #dafbe1; --fail: #cf222e; --fail-bg: #ffebe9; --skip: #6e7781; --skip-bg: #eaeef2;
  --leak: #9a6700; --leak-bg: #fff8c5; --log: #bc4c00; --log-bg: #fff1e5; --accent: #0969da; --accent-bg: #ddf4ff;
  --oneshot: #8250df; --code-bg: #f6f8fa;
  color-scheme: light dark;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0d1117; --card: #161b22; --fg: #e6edf3; --muted: #8d96a0; --line: #30363d; --soft: #21262d;
    --pass: #3fb950; --pass-bg: #12261e; --fail: #f85149; --fail-bg: #2d1214; --skip: #8d96a0; --skip-bg: #21262d;
    --leak: #d29922; --leak-bg: #272115; --log: #db6d28; --log-bg: #2b1d12; --accent: #4493f8; --accent-bg: #121d2f;
    --oneshot: #a371f7; --code-bg: #0d1117;
  }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1180px; margin: 0 auto; padding: 20px 16px 40px; }
h1 { font-size: 22px; margin: 0; }
h2 { font-size: 16px; margin: 0 0 10px; }
h4 { font-size: 12px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); margin: 14px 0 6px; }
h4:first-child { margin-top: 4px; }
.mono, code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-size: 12.5px; }
.muted { color: var(--muted); }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 16px 18px; margin-bottom: 16px; }
.sub { margin: -4px 0 12px; color: var(--muted); }
.sub b { color: var(--fg); }
button { font: inherit; color: inherit; cursor: pointer; }

.head { border-top: 5px solid var(--pass); }
.head.ko { border-top-color: var(--fail); }
.verdict { display: flex; gap: 12px; align-items: flex-start; }
.dot { flex: none; width: 14px; height: 14px; border-radius: 50%; margin-top: 6px; background: var(--pass); }
.ko .dot { background: var(--fail); }
.meta { margin: 4px 0 0; color: var(--muted); }
.meta b { color: var(--fg); }
.meta a { color: inherit; }
.stats { display: grid; grid-template-columns: repeat(5, minmax(0, 1fr)); gap: 10px; margin: 16px 0; }
.stat { display: flex; flex-direction: column; align-items: flex-start; padding: 10px 14px; border-radius: 8px; border: 1px solid var(--line); background: var(--soft); text-align: left; }
.stat:hover { border-color: var(--accent); }
.stat.active { outline: 2px solid var(--accent); outline-offset: 1px; }
.stat .value { font-size: 26px; font-weight: 650; line-height: 1.1; font-variant-numeric: tabular-nums; }
.stat .label { color: var(--muted); font-size: 12.5px; }
.stat.passed .value { color: var(--pass); }
.stat.skipped .value { color: var(--skip); }
.stat.failed.alarm { background: var(--fail-bg); border-color: var(--fail); } .stat.failed.alarm .value { color: var(--fail); }
.stat.leaks.alarm { background: var(--leak-bg); border-color: var(--leak); } .stat.leaks.alarm .value { color: var(--leak); }
.stat.logs.alarm { background: var(--log-bg); border-color: var(--log); } .stat.logs.alarm .value { color: var(--log); }
.repro-label { font-size: 12.5px; color: var(--muted); margin-bottom: 4px; }
.cmd { display: flex; align-items: stretch; border: 1px solid var(--line); border-radius: 6px; background: var(--code-bg); overflow: hidden; }
.cmd code { flex: 1; padding: 8px 10px; white-space: pre-wrap; word-break: break-all; }
.copy { flex: none; border: 0; border-left: 1px solid var(--line); background: var(--soft); padding: 0 14px; font-size: 12.5px; }
.copy:hover { background: var(--accent-bg); color: var(--accent); }
.copy.done { color: var(--pass); }

.toolbar { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; margin-bottom: 10px; }
.filters { display: flex; flex-wrap: wrap; gap: 6px; }
.filter { border: 1px solid var(--line); background: var(--card); border-radius: 999px; padding: 3px 11px; font-size: 13px; }
.filter .n { color: var(--muted); margin-left: 2px; font-variant-numeric: tabular-nums; }
.filter[aria-pressed="true"] { background: var(--accent); border-color: var(--accent); color: #fff; }
.filter[aria-pressed="true"] .n { color: inherit; opacity: .85; }
#search { flex: 1; min-width: 200px; padding: 6px 10px; border: 1px solid var(--line); border-radius: 6px; background: var(--card); color: inherit; font: inherit; }
#toggle-all { border: 1px solid var(--line); background: var(--card); border-radius: 6px; padding: 5px 10px; }
table.tests { width: 100%; border-collapse: collapse; table-layout: fixed; }
.tests th { text-align: left; font-size: 12px; color: var(--muted); font-weight: 600; padding: 6px 8px; border-bottom: 1px solid var(--line); cursor: pointer; user-select: none; white-space: nowrap; }
.tests th:hover { color: var(--fg); }
.tests th[aria-sort="ascending"]::after { content: " ▲"; } .tests th[aria-sort="descending"]::after { content: " ▼"; }
.tests th.num { width: 40px; } .tests th:nth-child(2) { width: 104px; } .tests th:nth-child(4) { width: 26%; } .tests th.dur { width: 120px; }
.tests td { padding: 7px 8px; vertical-align: top; }
tbody.test { border-bottom: 1px solid var(--line); }
tr.row { cursor: pointer; }
tr.row:hover, tr.row:focus-visible { background: var(--soft); outline: none; }
tbody.failed tr.row { box-shadow: inset 3px 0 0 var(--fail); }
td.num { color: var(--muted); font-variant-numeric: tabular-nums; }
td.name { overflow-wrap: anywhere; }
.chev::before { content: "▸"; display: inline-block; width: 14px; color: var(--muted); transition: transform .1s; }
tr.row[aria-expanded="true"] .chev::before { transform: rotate(90deg); }
.suite { color: var(--muted); }
.title { font-weight: 550; }
td.file { color: var(--muted); overflow-wrap: anywhere; }
td.dur { position: relative; text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.dur span { position: relative; }
/* Relative duration behind the figure, so slow tests stand out at a glance. */
.dur-bar { position: absolute; left: 4px; top: 7px; height: 18px; max-width: calc(100% - 8px); border-radius: 3px; background: var(--accent-bg); }
.status { display: inline-block; min-width: 76px; white-space: nowrap; text-align: center; border-radius: 999px; padding: 1px 8px; font-size: 12px; font-weight: 600; }
.status.passed { color: var(--pass); background: var(--pass-bg); }
.status.failed { color: var(--fail); background: var(--fail-bg); }
.status.skipped { color: var(--skip); background: var(--skip-bg); }
.status.passed::before { content: "✓ "; } .status.failed::before { content: "✗ "; } .status.skipped::before { content: "– "; }
.flag { display: inline-block; margin-left: 8px; border-radius: 4px; padding: 0 6px; font-size: 11.5px; font-weight: 600; vertical-align: 1px; }
.leak-flag { color: var(--leak); background: var(--leak-bg); }
.log-flag { color: var(--log); background: var(--log-bg); }
.expected-flag { color: var(--muted); background: var(--soft); font-weight: 500; }
tr.details td { padding: 2px 8px 14px; }
pre.error { margin: 0 0 6px; padding: 8px 10px; background: var(--fail-bg); border-left: 3px solid var(--fail); border-radius: 4px; white-space: pre-wrap; overflow-wrap: anywhere; }
.leak, .log-service { margin-bottom: 6px; }
.leak-store { font-weight: 600; font-size: 13px; }
.leak ul, .log-service ul { margin: 2px 0 0; padding-left: 0; list-style: none; }
.leak li { padding: 2px 8px; border-left: 3px solid var(--leak); background: var(--leak-bg); margin-bottom: 2px; }
.log-error { display: flex; gap: 8px; align-items: baseline; padding: 3px 8px; border-left: 3px solid var(--log); background: var(--log-bg); margin-bottom: 2px; }
.log-error.expected { border-left-color: var(--line); background: var(--soft); color: var(--muted); }
.log-error code { white-space: pre-wrap; overflow-wrap: anywhere; }
.tag { flex: none; font-size: 11px; font-weight: 600; border-radius: 4px; padding: 0 5px; border: 1px solid currentColor; }
.tag.bad { color: var(--log); }
.shown { margin: 8px 0 0; font-size: 12.5px; }
.empty { text-align: center; padding: 20px; }

.tl { position: relative; }
.tl-row { display: grid; grid-template-columns: 170px 1fr 170px; align-items: center; min-height: 36px; border-bottom: 1px dashed var(--line); }
.tl-row:last-child { border-bottom: 0; }
.tl-axis-row { min-height: 22px; border-bottom: 1px solid var(--line); }
.tl-label { display: flex; flex-direction: column; line-height: 1.2; padding-right: 10px; overflow-wrap: anywhere; }
.tl-label .muted { font-size: 12px; }
.tl-axis, .tl-track { position: relative; height: 100%; min-height: 22px; }
.tl-axis span { position: absolute; bottom: 3px; transform: translateX(-50%); font-size: 11px; color: var(--muted); white-space: nowrap; }
.tl-axis span:first-child { transform: none; }
.tl-grid { position: absolute; top: 0; bottom: 0; width: 1px; background: var(--line); opacity: .6; }
.tl-bar { position: absolute; top: 50%; height: 16px; margin-top: -8px; border-radius: 4px; background: var(--accent); overflow: hidden; display: flex; }
.tl-bar.oneshot { background: var(--oneshot); }
.tl-bar.critical { box-shadow: 0 0 0 2px var(--fg); }
.tl-prep { height: 100%; background: repeating-linear-gradient(135deg, rgba(255,255,255,.55) 0 4px, rgba(255,255,255,.25) 4px 8px); }
.tl-time { position: absolute; top: 50%; transform: translateY(-50%); margin-left: 7px; font-size: 12px; font-variant-numeric: tabular-nums; white-space: nowrap; }
.tl-note { position: absolute; top: 50%; transform: translateY(-50%); left: 6px; font-size: 12px; color: var(--muted); font-style: italic; }
.tl-deps { padding-left: 12px; font-size: 12.5px; color: var(--muted); }
.tl-deps b { color: var(--fg); font-weight: 600; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 14px; align-items: center; margin: 12px 0 0; font-size: 12px; color: var(--muted); }
.key { display: inline-block; width: 18px; height: 10px; border-radius: 3px; margin-right: 5px; vertical-align: -1px; }
.key.ready { background: var(--accent); } .key.oneshot { background: var(--oneshot); }
.key.prep { background: var(--accent); background-image: repeating-linear-gradient(135deg, rgba(255,255,255,.55) 0 4px, rgba(255,255,255,.25) 4px 8px); }
.key.critical { border: 2px solid var(--fg); }
#files summary { cursor: pointer; list-style-position: outside; }
#files summary h2 { display: inline; }
#files ol { margin: 10px 0 0; padding-left: 28px; columns: 2; }
footer { text-align: center; font-size: 12px; }
@media (max-width: 720px) {
  .stats { grid-template-columns: repeat(3, minmax(0, 1fr)); }
  .tl-row { grid-template-columns: 110px 1fr; } .tl-deps { grid-column: 2; padding: 0 0 6px; }
  .tests th:nth-child(4), td.file, .tests th.num, td.num, .dur-bar { display: none; }
  .tests th:nth-child(2) { width: 84px; } .tests th.dur { width: 64px; }
  .status { min-width: 0; }
  /* The hidden File column still exists through the details colspan; let content size columns. */
  table.tests { table-layout: auto; } td.name { width: 100%; }
}
@media print { tr.details[hidden] { display: table-row; } .toolbar, .copy { display: none; } }
`
