// Every `rig` command as `--help` and the argument parser see it: name, summary, usage, details
// and options, in the order `rig --help` lists them. This file imports no command: `rig --help`
// and `rig <command> --help` read it alone, and a command's module (with the config loader, the
// engine, the guard, the drivers it needs) is imported only to run it.
import type { CommandSpec, OptionSpec } from '../command.ts'

const json = (description: string): Record<string, OptionSpec> => ({ json: { type: 'boolean', description } })

/** The controls of one running service: `rig stop|kill|restart|pause|resume NAME`. */
const CONTROLS = {
  stop: 'stop a service gracefully (it stays stopped until restart)',
  kill: 'SIGKILL a service and its children (simulate a crash)',
  restart: 'restart a service on the same port and data, and wait until ready',
  pause: 'freeze a service with SIGSTOP (connections hang)',
  resume: 'resume a paused service (SIGCONT)',
  failover: 'make a replica the master (Redis: SENTINEL FAILOVER) and wait until it is seen as such',
} as const

const CONTROL_USAGE: Partial<Record<ControlAction, string>> = {
  kill: 'rig kill NAME [MEMBER] [--json]',
  restart: "rig restart NAME [--run 'COMMAND'] [--env KEY=VALUE]... [--json]",
}

const CONTROL_DETAILS: Partial<Record<ControlAction, string>> = {
  kill: 'MEMBER kills one process of a service that runs several: a name from `rig status --json` (node2, sentinel1)\nor a role (master, replica); the others go on, and the sentinels fail a killed master over on their own.',
  restart:
    'A service with `instances` is replaced one instance at a time, each new one ready before the old one stops,\n' +
    'so its address never refuses. --run and --env (a command() only) start a new version on the same address\n' +
    '(--env on top of the config\'s env); when it does not get ready, the previous version is kept and rig exits 1.',
  failover: 'The service needs replicas and sentinels: redis({ replicas: 1, sentinels: 3 }). Its address (RIG_NAME_URL) follows\nthe new master; clients that ask the sentinels (RIG_NAME_SENTINELS, RIG_NAME_MASTER_NAME) find it themselves.',
}

/** The name of a service control command. */
export type ControlAction = keyof typeof CONTROLS

/** Every command, in the order `rig --help` lists them. */
export const COMMANDS: readonly CommandSpec[] = [
  {
    name: 'init',
    summary: 'write a first rig.config.ts for this project and add rig to its test runner',
    usage: 'rig init [--runner vitest|jest|node-test] [--force]',
    details:
      'Reads package.json in the current directory: database clients (pg, postgres, prisma, mysql2, ioredis, redis…)\n' +
      'and amqplib become services, a `start` script becomes your app. Adds the plugin to vitest.config.*\n' +
      '(creating one if needed), or prints the lines for Jest and\n' +
      'node:test; adds .rig/ and rig-report/ to .gitignore; prints the next two commands.\n' +
      'An existing rig config is never replaced without --force. Exit code 2 when nothing could be written.',
    options: {
      runner: { type: 'string', value: 'NAME', description: 'vitest, jest or node-test (default: the one package.json uses)' },
      force: { type: 'boolean', description: 'replace an existing rig config' },
    },
    load: async () => (await import('./init.ts')).init,
  },
  {
    name: 'up',
    summary: 'start every service and keep them running',
    usage: 'rig up [--detach] [--json] [--fixture NAME] [--variant NAME]',
    details:
      'In the foreground, Ctrl-C stops everything and exits once the temp dir is removed. With --detach, returns once every service is ready;\nthe environment keeps running until `rig down`. --fixture loads a named data set of\nrig.config.ts (`fixtures: { NAME: … }`) once everything is ready.',
    options: {
      detach: { type: 'boolean', short: 'd', description: 'run in the background; return once every service is ready' },
      json: { type: 'boolean', description: 'print the services as JSON once ready' },
      fixture: { type: 'string', description: 'load this fixture of rig.config.ts once ready' },
      variant: { type: 'string', value: 'NAME', description: 'start variant NAME of rig.config.ts (its service options and env; same as RIG_VARIANT=NAME); test runs of that variant use it' },
      supervised: { type: 'boolean', description: '(internal) run as the detached supervisor' },
    },
    load: async () => (await import('./up.ts')).up,
  },
  {
    name: 'down',
    summary: 'stop the environment that `rig up` started',
    usage: 'rig down',
    details: "Returns once the environment's owner exited, its services stopped and its temp dir removed\n(what an owner killed meanwhile left is removed here). Exit code 3 when nothing is running.",
    options: {},
    load: async () => (await import('./down.ts')).down,
  },
  {
    name: 'status',
    summary: 'show the running services, their URLs and readiness times',
    usage: 'rig status [--json]',
    details: 'Exit code 3 when nothing is running (with --json: {"running": false}).',
    options: json('print JSON: {"running", "services": {NAME: {url, host, port, pid, readyMs, status}}}'),
    load: async () => (await import('./status.ts')).status,
  },
  {
    name: 'logs',
    summary: "print a service's captured stdout/stderr (all services without a name)",
    usage: 'rig logs [NAME...] [-f] [-n LINES]',
    options: {
      follow: { type: 'boolean', short: 'f', description: 'keep printing new lines until Ctrl-C' },
      lines: { type: 'string', short: 'n', value: 'N', description: 'only the last N lines of each log' },
    },
    positionals: true,
    load: async () => (await import('./logs.ts')).logs,
  },
  {
    name: 'run',
    summary: 'start the environment, run a command with RIG_<NAME>_URL/_HOST/_PORT set, stop, exit with its code',
    usage: 'rig run [--fresh] -- CMD [ARGS...]',
    details: 'When `rig up` already runs an environment here, CMD uses it (unless --fresh) and it is left running. Another `rig run` in the same project gets an environment of its own, never this one. CMD gets RIG_ENV_ID.',
    options: { fresh: { type: 'boolean', description: 'start a new environment even if `rig up` left one running' } },
    load: async () => (await import('./run.ts')).run,
  },
  ...(Object.entries(CONTROLS) as [ControlAction, string][]).map(
    ([action, summary]): CommandSpec => ({
      name: action,
      summary,
      usage: CONTROL_USAGE[action] ?? `rig ${action} NAME [--json]`,
      ...(CONTROL_DETAILS[action] ? { details: CONTROL_DETAILS[action] } : {}),
      options: {
        ...json('print the service as JSON afterwards'),
        ...(action === 'restart'
          ? {
              run: { type: 'string', value: 'COMMAND', description: "the new version's command line (a command() service)" },
              env: { type: 'string', multiple: true, value: 'KEY=VALUE', description: "a variable of the new version, on top of the config's env (repeatable)" },
            }
          : {}),
      },
      positionals: true,
      load: async () => (await import('./control.ts')).control(action),
    }),
  ),
  {
    name: 'fault',
    summary: "inject network faults through a service's proxy, or switch its new connections off",
    usage: 'rig fault NAME FAULT [VALUE]... [--from SERVICE] | rig fault NAME clear|hold|refuse|resume | rig fault clear | rig fault --list',
    details:
      'FAULT: latency 200ms, jitter 20ms, bandwidth 100kB (per second), timeout [5s] (accept, never answer; a\n' +
      'duration also closes stalled connections after it), reset, close-after 1kB, partition OTHER (cuts NAME and\n' +
      'OTHER apart, one of which depends on the other; tests still reach both). Several combine: `rig fault db\n' +
      'latency 100ms bandwidth 1MB`. `clear` puts NAME back as rig.config.ts left it; `rig fault clear` every\n' +
      'service. hold: new connections wait until `resume`; refuse: new connections are reset; open ones go on.\n' +
      'The service needs a proxy: `proxy: true` (or `faults`) in its options. A fault set here stays until\n' +
      'cleared: tests that attach to this environment remove after each test only what that test set.',
    options: {
      from: { type: 'string', value: 'SERVICE', description: 'only the connections this dependent of NAME opens' },
      list: { type: 'boolean', short: 'l', description: 'list the proxies, their faults and partitions' },
      ...json('print JSON: {"proxies": [{service, url, target, mode, connections, faults}], "partitions"}'),
    },
    positionals: true,
    load: async () => (await import('./fault.ts')).fault,
  },
  {
    name: 'host',
    summary: "take a host (rig.config.ts's `hosts`) off the network, or cut two hosts apart",
    usage: 'rig host NAME down|up | rig host NAME partition|heal OTHER | rig host --list',
    details:
      'Hosts are network namespaces with their own address (root and iproute2 needed). down: the host\'s link\n' +
      'goes down, nothing reaches it and it reaches nothing (its processes keep running); up: back.\n' +
      'partition OTHER: NAME and OTHER can no longer reach each other (new connections fail with "no route\n' +
      'to host", open ones stall); this machine still reaches both. heal OTHER ends it. A change made here stays\n' +
      'until undone: tests that attach to this environment undo after each test only what that test did.',
    options: {
      list: { type: 'boolean', short: 'l', description: 'list the hosts, their addresses, links and partitions' },
      ...json('print JSON: {"subnet", "gateway", "hosts": [{name, address, netns, down}], "partitions"}'),
    },
    positionals: true,
    load: async () => (await import('./host.ts')).host,
  },
  {
    name: 'topology',
    summary: 'show the members and roles of a service with replicas, or switch them over, fail over, promote, rejoin',
    usage: 'rig topology NAME [--json] | rig topology NAME switchover|failover [--to N] [--during hold|refuse] | rig topology NAME promote N | rig topology NAME rejoin [N]',
    details:
      'For a service with replicas (postgres({ replicas: N })). Nodes are numbered: 0 started as primary, 1… as\n' +
      'replicas. switchover: the primary stops cleanly, a caught-up replica is promoted, the old primary follows it\n' +
      'as a replica. failover: the primary is killed (SIGKILL) and the replica that received the most is promoted.\n' +
      'promote N: once the primary is gone (rig kill NAME). rejoin [N]: a node that went down comes back as a\n' +
      'replica (pg_rewind, else a fresh copy). RIG_<NAME>_PRIMARY_URL and _REPLICA_URL follow: while roles change,\n' +
      'new connections to them wait (--during hold, the default) or are reset (--during refuse).',
    options: {
      to: { type: 'string', value: 'N', description: 'the replica to promote (default: the first running, after a failover the most advanced)' },
      during: { type: 'string', value: 'MODE', description: 'hold or refuse: new connections to the role addresses while roles change (default hold)' },
      ...json('print JSON: {service, nodes: [{node, role, host, port, url, pid}], changes, change?}'),
    },
    positionals: true,
    load: async () => (await import('./topology.ts')).topology,
  },
  {
    name: 'snapshot',
    summary: 'save, restore, list or drop a named snapshot of every data store at once',
    usage: 'rig snapshot save NAME | restore NAME | list | drop NAME [--only STORE]... [--allow STORE]... [--json]',
    details:
      'Works on the environment `rig up` is running. PostgreSQL databases are copied as template databases on the same server, MariaDB/MySQL databases as databases copied with SQL ' +
      '(sessions connected to the database are closed during the copy, applications reconnect); Redis databases are written to files; ' +
      'RabbitMQ vhosts (queues, exchanges, bindings and queued messages, which saving marks redelivered) too.\n' +
      'Stores rig did not start (external() databases) are left out; --allow STORE includes one (rig then writes to it). ' +
      'A restore first checks that every store has the snapshot and can read it; if a store still fails, it says what each store holds. Refuses under NODE_ENV=production.',
    options: {
      only: { type: 'string', multiple: true, value: 'STORE', description: 'only this store (repeatable); default: every PostgreSQL, MariaDB/MySQL, Redis and RabbitMQ service' },
      allow: { type: 'string', multiple: true, value: 'STORE', description: 'include this store although rig did not start it: save, restore and drop write to it (repeatable)' },
      ...json('print JSON: {"action", "name", "stores"} or {"snapshots": [{"name", "stores"}]}'),
    },
    positionals: true,
    load: async () => (await import('./snapshot.ts')).snapshot,
  },
  {
    name: 'bisect',
    summary: 'find the tests that make a failing test fail when they run before it (order-dependent failures)',
    usage: 'rig bisect [--report PATH] [--test NAME] [--runs N] [--run] [--json] [-- CMD...]',
    details:
      'Reads a run\'s report (rig-report/report.json), replays the failing test alone and after the tests that ran\n' +
      'before it in its worker (same seed), then narrows them down by delta debugging: one polluter in about\n' +
      'log2(n) replays, several when they pollute independently or only together. Tests the guard saw leave\n' +
      'data are tried first. Prints the polluters and one replay command (its test list in bisect-replay.json\n' +
      'next to the report). Replays run `vitest run` with RIG_TESTS and write their reports to a temp dir; after\n' +
      '`--`, another command to run them (the test files are appended).\n' +
      'Exit codes: 0 polluters found, 1 the failure did not come back in the recorded order or comes alone,\n' +
      '2 no report, no such test, bad options.',
    options: {
      report: { type: 'string', value: 'PATH', description: 'the run report to read (default rig-report/report.json)' },
      test: { type: 'string', short: 't', value: 'NAME', description: 'the test to bisect: full name, id or a unique part (default: the first that failed)' },
      runs: { type: 'string', value: 'N', description: 'replays per probe; a probe fails when one of them fails (for flaky failures; default 1)' },
      run: { type: 'boolean', description: 'run the whole suite first and bisect its first failure' },
      ...json('print the result as JSON: {"kind", "test", "runs", "polluters", "replay"}'),
    },
    load: async () => (await import('./bisect.ts')).bisectCommand,
  },
  {
    name: 'report',
    summary: "merge the reports of a suite's shards into one (JSON, JUnit, HTML) and keep their timings",
    usage: 'rig report merge DIR|FILE... [--out DIR] [--timings FILE] [--json]',
    details:
      'Reads each shard\'s report.json (a rig-report directory or the file), joins their tests and files in shard\n' +
      'order and writes report.json, junit.xml and index.html to --out, with each shard\'s duration and counts.\n' +
      '--timings writes the per-file durations (rig-timings.json) that the next run balances its shards on.\n' +
      'Exit codes: 0 every test passed, 1 a test failed in some shard, 2 unreadable report, a shard given twice.',
    options: {
      out: { type: 'string', short: 'o', value: 'DIR', description: 'where to write the merged report (default rig-report)' },
      timings: { type: 'string', value: 'FILE', description: 'also write the per-file timings, e.g. rig-timings.json' },
      ...json('print {"report", "summary", "shards"} as JSON'),
    },
    positionals: true,
    load: async () => (await import('./report.ts')).report,
  },
  {
    name: 'matrix',
    summary: 'write what is tested: tests × variants with pass/fail/skip and the services each test touched (Markdown)',
    usage: 'rig matrix [REPORT|DIR...] [--out FILE] [--html FILE] [--check] [--stdout]',
    details:
      'Reads run reports (default rig-report/report.json and rig-report/*/report.json: one per variant, from\n' +
      'RIG_VARIANT=NAME npx vitest run, or all of them from one run with rig({ variants }) or RIG_VARIANT=en,de)\n' +
      'and writes what-is-tested.md: one row per test, one column per variant, and the services it\n' +
      'touched (stores it left data in, services that logged during it, proxied services it connected to). No dates:\n' +
      'it changes only when what is tested does. --check (CI): exit 1 when the file differs, with the rows that changed.\n' +
      '--html FILE also writes the matrix as a page (failing tests first, each variant linked to its HTML report);\n' +
      'a run writing rig-report/<variant>/ keeps that page as rig-report/what-is-tested.html itself.',
    options: {
      out: { type: 'string', short: 'o', value: 'FILE', description: 'the Markdown file (default what-is-tested.md next to rig.config.ts)' },
      html: { type: 'string', value: 'FILE', description: 'also write the matrix as an HTML page, e.g. rig-report/what-is-tested.html' },
      check: { type: 'boolean', description: 'compare with the file instead of writing it; exit 1 when it is stale' },
      stdout: { type: 'boolean', description: 'print the Markdown instead of writing the file' },
    },
    positionals: true,
    load: async () => (await import('./matrix.ts')).matrix,
  },
  {
    name: 'check',
    summary: 'run the health checks (checks/**/*.check.ts) in parallel and report',
    usage: 'rig check [--tag TAG] [--target NAME] [--format pretty|json|junit|tap] [--concurrency N]',
    details:
      'Checks see process.env plus the values of --target (from rig.checks.ts), or, without a target,\n' +
      'the RIG_* variables of the environment `rig up` runs in this project.\n' +
      'Exit codes: 0 all passed or warned, 1 a check failed, 2 usage error (unknown tag or target, duplicate names).',
    options: {
      tag: { type: 'string', short: 't', multiple: true, value: 'TAG', description: 'only checks with this tag (repeatable, or comma-separated), plus what they depend on' },
      target: { type: 'string', value: 'NAME', description: 'env values of this target from rig.checks.ts' },
      format: { type: 'string', short: 'f', value: 'FORMAT', description: 'pretty (default), json, junit or tap' },
      json: { type: 'boolean', description: 'same as --format json' },
      concurrency: { type: 'string', short: 'j', value: 'N', description: 'checks running at once (default 16)' },
      checks: { type: 'string', multiple: true, value: 'GLOB', description: 'check files to load (default from rig.checks.ts, else checks/**/*.check.ts)' },
      list: { type: 'boolean', description: 'list the checks (name, tags, file) without running them' },
    },
    load: async () => (await import('./check.ts')).check,
  },
  {
    name: 'serve',
    summary: 'serve the health checks over HTTP: /health, /checks, /metrics and a dashboard',
    usage: 'rig serve [--port 8080] [--host 127.0.0.1 | --host 0.0.0.0 --public] [--token T] [--allow-host NAME] [--target NAME]',
    details:
      'GET /health answers application/health+json (200 pass/warn, 503 fail); /checks the full results;\n' +
      '/metrics Prometheus text; / an HTML dashboard. Query: ?tag=smoke, ?deadline=MS.\n' +
      'Binds 127.0.0.1 and answers only requests for 127.0.0.1, localhost or [::1] (DNS rebinding\n' +
      'protection; --allow-host adds a name, e.g. the one a reverse proxy forwards). Binding any other\n' +
      'address needs --public and a token. Details need `Authorization: Bearer <token>` (RIG_CHECK_TOKEN or\n' +
      '--token); without a token they are served on loopback only. Checks marked `writes` or `expensive`\n' +
      'never run from HTTP.',
    options: {
      port: { type: 'string', short: 'p', value: 'PORT', description: 'port to listen on, 0 for a free one (default 8080)' },
      host: { type: 'string', value: 'HOST', description: 'address to bind (default 127.0.0.1); another than loopback needs --public' },
      public: { type: 'boolean', description: 'allow binding a non-loopback address such as 0.0.0.0 (requires a token)' },
      'allow-host': { type: 'string', multiple: true, value: 'NAME', description: 'also answer requests for this Host name (name or name:port)' },
      token: { type: 'string', value: 'TOKEN', description: 'bearer token for details (prefer RIG_CHECK_TOKEN: arguments show in ps)' },
      target: { type: 'string', value: 'NAME', description: 'env values of this target from rig.checks.ts' },
      checks: { type: 'string', multiple: true, value: 'GLOB', description: 'check files to load' },
      ttl: { type: 'string', value: 'MS', description: 'how long a result is reused (default 10000)' },
      deadline: { type: 'string', value: 'MS', description: 'per-request deadline; unfinished checks show as timed out (default 3000)' },
      concurrency: { type: 'string', short: 'j', value: 'N', description: 'checks running at once (default 16)' },
    },
    load: async () => (await import('./serve.ts')).serve,
  },
  {
    name: 'trust',
    summary: "rig's local certificate authority for HTTPS: where it is and how to trust it",
    usage: 'rig trust [--remove] [--json]',
    details:
      'Makes the CA on first use (an EC P-256 key, 0600, in rig\'s cache: ~/.cache/testrig/ca, /var/cache/testrig/ca\n' +
      'as root, $RIG_CACHE_DIR/ca when set), then prints the commands that trust it: the Debian system store\n' +
      '(update-ca-certificates), Node.js (NODE_EXTRA_CA_CERTS) and Chromium (NSS certutil). rig runs none of them;\n' +
      'the Chromium of testrig/playwright trusts it by itself, for its own launches (a private NSS database; certutil).\n' +
      'The CA signs only names under .localhost and loopback addresses. rig uses it for `front: { tls: true }`,\n' +
      '`postgres({ ssl: true })` and `redis({ tls: true })`, and `rig check` verifies HTTPS targets against it.\n' +
      'Services on hosts (10.213.N.x) get certificates of a CA made per environment, never trusted outside it.\n' +
      '--remove deletes the CA and prints the commands that untrust it; the next HTTPS start makes a new one.\n' +
      'A CA key that others can read, a link or another user\'s file is refused (RIG_CA_KEY_UNSAFE).',
    options: {
      remove: { type: 'boolean', description: 'delete the CA and print how to remove it from the trust stores' },
      ...json('print JSON: {certFile, keyFile, subject, validTo, fingerprint256, steps}'),
    },
    load: async () => (await import('./trust.ts')).trust,
  },
  {
    name: 'doctor',
    summary: 'check which binaries and drivers rig can use, and what to install',
    usage: 'rig doctor [--json]',
    details:
      'Exit code 1 when something a service in rig.config.ts needs is missing: a server binary (postgres, redis-server)\n' +
      'or a driver package (pg for postgres(), redis for redis()). Without a config it reports on everything and exits 0.',
    options: json('print the findings as JSON'),
    load: async () => (await import('./doctor.ts')).doctor,
  },
]

/** The spec of command `name`, or undefined. */
export const commandNamed = (name: string): CommandSpec | undefined => COMMANDS.find((c) => c.name === name)
