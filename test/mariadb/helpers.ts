// Shared by the MariaDB guard tests: a seeded schema and short SQL helpers over a real server.
import { connectMysql, type MysqlConnection, rowsOf } from '../../src/drivers/mysql.ts'

/** Runs SQL (several statements allowed) on a short-lived connection; rows of the last result with rows. */
export async function sql<R = Record<string, unknown>>(url: string, text: string): Promise<R[]> {
  const c = await connectMysql(url, { multipleStatements: true })
  try {
    const [res] = await c.query<R>(text)
    return rowsOf(res)
  } finally {
    await c.end()
  }
}

/** A connection the test keeps (e.g. to leave a transaction open). */
export function connect(url: string): Promise<MysqlConnection> {
  return connectMysql(url, { multipleStatements: true })
}

/**
 * cars (seeded, auto-increment key), rentals → cars, payments → rentals ON DELETE CASCADE, a
 * table without a key, a foreign-key cycle, a generated column, a migration table.
 */
export const SCHEMA = `
  create table cars (id int auto_increment primary key, name varchar(50) not null);
  create table rentals (id int auto_increment primary key, car_id int not null, day date, foreign key (car_id) references cars(id));
  create table payments (id int auto_increment primary key, rental_id int, amount int, foreign key (rental_id) references rentals(id) on delete cascade);
  create table events (kind varchar(20), body varchar(100));
  create table a (id int primary key, b_id int);
  create table b (id int primary key, a_id int, foreign key (a_id) references a(id));
  alter table a add foreign key (b_id) references b(id);
  create table totals (id int primary key, n int, twice int as (n * 2) stored);
  create table schema_migrations (version varchar(20));
  create table audit_log (msg text);
  insert into cars (name) values ('car 1'), ('car 2'), ('car 3'), ('car 4'), ('car 5'), ('car 6'), ('car 7'), ('car 8'), ('car 9'), ('car 10');
  insert into rentals (car_id) values (1);
  insert into payments (rental_id, amount) values (1, 100);
  insert into events values ('seed', 'n=1'), ('seed', 'n=2');
  set foreign_key_checks = 0;
  insert into a values (1, 1); insert into b values (1, 1);
  set foreign_key_checks = 1;
  insert into totals (id, n) values (1, 5);
  insert into schema_migrations values ('001');
`
