import type { PgTarget } from '../pg/pg-target.js';

/**
 * An upstream MySQL or MariaDB database as the engine needs it (file contents already read). The
 * shape is the Postgres one: host, port, database, user, password, TLS (libpq's mode words: `disable`,
 * `prefer`, `require`, `verify-ca`, `verify-full`) and connect timeout.
 */
export type MysqlTarget = PgTarget;
