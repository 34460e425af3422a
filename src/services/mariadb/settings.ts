// Server settings for throw-away test data: durability off, small memory, nothing listening
// but the chosen port on 127.0.0.1, no file access outside the instance.

import type { Flavor } from './binaries.ts'

/** Settings that shape the initialised data dir: the init cache is keyed by them. */
export const DATA_DIR_SETTINGS: Readonly<Record<Flavor, Readonly<Record<string, string>>>> = {
  // An 8 MiB redo log instead of 96 MiB: 12× less to copy per instance.
  mariadb: { innodb_log_file_size: '8M' },
  mysql: { innodb_redo_log_capacity: '8M' },
}

const COMMON: Readonly<Record<string, string>> = {
  innodb_doublewrite: '0',
  // Commits are written to the log once a second, not flushed per commit.
  innodb_flush_log_at_trx_commit: '0',
  sync_binlog: '0',
  innodb_buffer_pool_size: '32M',
  // A 1 MiB temporary tablespace instead of 12 MiB written at every start.
  innodb_temp_data_file_path: 'ibtmp1:1M:autoextend',
  innodb_buffer_pool_dump_at_shutdown: '0',
  innodb_buffer_pool_load_at_startup: '0',
  performance_schema: 'OFF',
  skip_name_resolve: 'ON',
  character_set_server: 'utf8mb4',
  max_connections: '200',
  local_infile: '0',
  // InnoDB's per-table modification counters are reset by automatic statistics recalculation;
  // with it off they tell the guard which tables a test wrote to (src/guard/mariadb/table-check.ts).
  innodb_stats_auto_recalc: 'OFF',
}

/** rig's test-speed defaults per flavour; `settings` of the service override them. */
export const TEST_SPEED_SETTINGS: Readonly<Record<Flavor, Readonly<Record<string, string>>>> = {
  mariadb: { ...COMMON, ...DATA_DIR_SETTINGS.mariadb },
  // X Protocol would listen on 33060 in every instance.
  mysql: { ...COMMON, ...DATA_DIR_SETTINGS.mysql, mysqlx: 'OFF' },
}

/** `--name=value` for each setting; booleans become ON/OFF. */
export function settingArgs(settings: Readonly<Record<string, string | number | boolean>>): string[] {
  return Object.entries(settings).map(([k, v]) => `--${k}=${typeof v === 'boolean' ? (v ? 'ON' : 'OFF') : v}`)
}

/** Where an instance keeps its files, all inside the service's dir. */
export interface InstancePaths {
  data: string
  /** 0700, so only the service account (and root) can reach the socket. */
  run: string
  socket: string
  pidFile: string
  initFile: string
  tmp: string
  /** The only place `SELECT … INTO OUTFILE` and `LOAD DATA` may touch. */
  files: string
}

/** The server's command line: its own files only (`--no-defaults`: no /etc/mysql/my.cnf), 127.0.0.1, the chosen port. */
export function serverArgs(p: InstancePaths, port: number, flavor: Flavor, settings: Readonly<Record<string, string | number | boolean>>): string[] {
  return [
    '--no-defaults',
    `--datadir=${p.data}`,
    `--socket=${p.socket}`,
    `--pid-file=${p.pidFile}`,
    `--port=${port}`,
    '--bind-address=127.0.0.1',
    `--init-file=${p.initFile}`,
    `--tmpdir=${p.tmp}`,
    `--secure-file-priv=${p.files}`,
    flavor === 'mysql' ? '--disable-log-bin' : '--skip-log-bin',
    ...settingArgs({ ...TEST_SPEED_SETTINGS[flavor], ...settings }),
  ]
}
