// Public surface of the report: the data model and its three writers.
export type { LeakEntry, LogErrorEntry, RunReport, TestEntry, TestStatus, TimelineEntry } from './model.ts'
export { renderHtml } from './html.ts'
export { renderJunit } from './junit.ts'
export { writeReport, type WrittenReport } from './write-report.ts'
