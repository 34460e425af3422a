// In your project: import { check, env, expectHttp, … } from 'testrig/checks'
import { check, env, expectDns, expectEnv, expectHttp, expectTcp } from '../../../src/checks/index.ts'

check('configuration', { tags: ['smoke'] }, () => expectEnv({ API_URL: 'url' }))

check('API answers', { tags: ['smoke'], dependsOn: ['configuration'], diagnostics: ['API port open', 'API host resolves'] }, () =>
  expectHttp(`${env.API_URL}/health`, { status: 200, header: { 'content-type': /json/ }, json: (b) => b.ok === true, maxLatency: 1000 }),
)

check('orders listed', { tags: ['smoke'], dependsOn: ['API answers'] }, async () => {
  const res = await expectHttp(`${env.API_URL}/orders`, { json: (rows) => Array.isArray(rows) })
  return `${JSON.parse(res.text).length} order(s)`
})

// Diagnostics: run when "API answers" fails, to say which layer broke.
check('API port open', { tags: ['diagnostic'] }, () => {
  const u = new URL(env.API_URL ?? '')
  return expectTcp(u.hostname, Number(u.port || 80)).then(() => undefined)
})
check('API host resolves', { tags: ['diagnostic'] }, () => expectDns(new URL(env.API_URL ?? '').hostname).then(() => undefined))
