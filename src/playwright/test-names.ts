// One test's name as the report shows it and as its worker records it.

/** Describe titles and the test's, joined like every runner's full names. */
export function testName(titles: readonly string[]): string {
  return titles.join(' > ')
}

/** The key a worker records a test under: the same test runs once per project. */
export function recordedName(project: string, name: string): string {
  return project ? `${project}\u0000${name}` : name
}
