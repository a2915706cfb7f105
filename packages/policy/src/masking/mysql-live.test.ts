/**
 * Against the local MariaDB (127.0.0.1:3306, root): for every column type, values the server sends
 * are masked with every function, in both protocols, and written back into a column of the same type
 * in strict SQL mode — accepted without a warning, so each masked value is a valid value of its type.
 * Also checks the tests' column catalogue against the column definitions the server sends, and the
 * binary encoder against the server's own binary rows (as mysql2 reads both).
 */
import fc from 'fast-check';
import mysql, { type Connection, type FieldPacket, type ResultSetHeader } from 'mysql2/promise';
import { encodeLenencString as lenencString } from '@sqlwarden/wire-mysql';
import type { MaskFunction } from '../model.js';
import { compileMysqlBinaryMask, mysqlBinaryToText, mysqlTextToBinary } from './mysql-binary.js';
import { MYSQL_BINARY_CHARSET, MysqlColumnFlag, MysqlType, mysqlValueKind, MysqlValueKind, type MysqlColumnType } from './mysql-column.js';
import { compileMysqlTextMask } from './mysql-text.js';
import { MYSQL_COLUMNS, mysql2Binary } from './mysql-test-support.js';

const DB = `sqlwarden_mask_${process.pid}`;
const FUNCTIONS: MaskFunction[] = ['redact', 'partial', 'email', 'hash', 'null'];
const opts = { hashKey: 'mysql-live-test-key-0123', keepLast: 3 };
const STRICT = "'STRICT_ALL_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO'";
let c: Connection;

beforeAll(async () => {
  c = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user: 'root', password: '', multipleStatements: true, supportBigNumbers: true, bigNumberStrings: true, dateStrings: true });
  await c.query(`DROP DATABASE IF EXISTS ${DB}; CREATE DATABASE ${DB} CHARACTER SET utf8mb4; USE ${DB}`);
  await c.query(`SET SESSION sql_mode = ${STRICT}, time_zone = '+00:00'`);
});

afterAll(async () => {
  await c?.query(`DROP DATABASE IF EXISTS ${DB}`);
  await c?.end();
});

/** ENUM and SET: a masked value is a string to every driver but not a member, so the server refuses it (by design). */
const notWritable = (col: MysqlColumnType): boolean => ((col.flags ?? 0) & (MysqlColumnFlag.Enum | MysqlColumnFlag.Set)) !== 0;

const param = (col: MysqlColumnType, v: Buffer | null): Buffer | string | null => {
  if (v === null) return null;
  const k = mysqlValueKind(col);
  return k === MysqlValueKind.Bytes || k === MysqlValueKind.Bit || k === MysqlValueKind.Opaque ? v : v.toString('utf8');
};

const show = (v: unknown): string => (Buffer.isBuffer(v) ? `0x${v.toString('hex')}` : typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v));

async function insert(table: string, col: MysqlColumnType, v: Buffer | null, what: string): Promise<void> {
  const geometry = col.type === MysqlType.Geometry;
  const [r] = await c.query<ResultSetHeader>(`INSERT INTO ${table} (v) VALUES (${geometry ? 'ST_GeomFromWKB(?)' : '?'})`, [param(col, v)]);
  if (r.warningStatus !== 0) {
    const [w] = await c.query('SHOW WARNINGS');
    throw new Error(`${what}: ${show(v)} gave warnings ${JSON.stringify(w)}`);
  }
}

/** The column's type as the server describes it, with the MariaDB extended metadata a client may get. */
function fromServer(f: FieldPacket, catalogue: MysqlColumnType): MysqlColumnType {
  const x = f as unknown as { columnType: number; flags: number; characterSet: number; columnLength: number; decimals: number };
  return { type: x.columnType, flags: x.flags, characterSet: x.characterSet, columnLength: x.columnLength, decimals: x.decimals, extendedFormat: catalogue.extendedFormat, extendedTypeName: catalogue.extendedTypeName };
}

const names = Object.keys(MYSQL_COLUMNS);

describe('masked MySQL values are accepted by MariaDB in strict mode', () => {
  names.forEach((name, i) => {
    const t = MYSQL_COLUMNS[name]!;
    it(name, async () => {
      const src = `src_${i}`;
      const dst = `dst_${i}`;
      await c.query(`CREATE TABLE ${src} (id INT AUTO_INCREMENT PRIMARY KEY, v ${t.sql} NULL); CREATE TABLE ${dst} (id INT AUTO_INCREMENT PRIMARY KEY, v ${t.sql} NULL)`);
      const samples = t.col.type === MysqlType.Geometry ? [] : fc.sample(t.values, { seed: 42 + i, numRuns: 6 });
      for (const s of samples) await insert(src, t.col, s, `${name} sample`);
      if (t.col.type === MysqlType.Geometry) await c.query(`INSERT INTO ${src} (v) VALUES (POINT(1, 2)), (ST_GeomFromText('LINESTRING(0 0, 1 1)'))`);

      // text protocol: the raw values and the column definition
      const [rows, fields] = await c.query<mysql.RowDataPacket[]>({ sql: `SELECT v FROM ${src} ORDER BY id`, rowsAsArray: true, typeCast: false });
      // MariaDB describes JSON as LONGTEXT unless the client gets the extended metadata: the MySQL form is masked as MySQL would send it
      const col = t.mysqlOnly ? t.col : fromServer(fields[0]!, t.col);
      // the catalogue says what the server says
      if (!t.mysqlOnly) expect({ kind: mysqlValueKind(col), type: col.type, binary: col.characterSet === MYSQL_BINARY_CHARSET }).toEqual({
        kind: mysqlValueKind(t.col),
        type: t.col.type,
        binary: (t.col.characterSet ?? 63) === MYSQL_BINARY_CHARSET,
      });
      if (!t.mysqlOnly) expect((col.flags ?? 0) & (MysqlColumnFlag.Unsigned | MysqlColumnFlag.Zerofill | MysqlColumnFlag.Enum | MysqlColumnFlag.Set)).toBe(
        (t.col.flags ?? 0) & (MysqlColumnFlag.Unsigned | MysqlColumnFlag.Zerofill | MysqlColumnFlag.Enum | MysqlColumnFlag.Set),
      );
      const raws = (rows as unknown as (Buffer | null)[][]).map((r) => r[0]!);
      expect(raws.length).toBeGreaterThan(0);

      // binary protocol: the server's rows, as mysql2 reads them, equal mysql2's reading of our encoding
      const [brows] = await c.execute<mysql.RowDataPacket[]>({ sql: `SELECT v FROM ${src} ORDER BY id`, rowsAsArray: true });
      const options = { dateStrings: true, bigNumberStrings: true };
      raws.forEach((raw, k) => {
        if (t.mysqlOnly) return; // the server's rows are MariaDB's LONGTEXT
        const server = (brows as unknown as unknown[][])[k]![0];
        const ours = mysql2Binary(col, raw && (col.type === MysqlType.Geometry ? lenencString(raw) : mysqlTextToBinary(col, raw)!), options);
        // FLOAT's text is rounded (6 digits), so our encoding of it is near the server's float, not equal
        if (col.type === MysqlType.Float) expect(Math.abs(Number(ours) - Number(server))).toBeLessThanOrEqual(Math.abs(Number(server)) * 1e-5);
        else expect(show(ours)).toBe(show(server));
      });

      for (const fn of FUNCTIONS) {
        const text = compileMysqlTextMask(fn, col, opts);
        const binary = compileMysqlBinaryMask(fn, col, opts);
        for (const raw of raws) {
          if (raw === null) continue;
          const masked = text(raw);
          const field = col.type === MysqlType.Geometry ? lenencString(raw) : mysqlTextToBinary(col, raw)!;
          const bmasked = binary(field);
          const viaBinary = bmasked === null ? null : mysqlBinaryToText(col, bmasked)!;
          for (const [protocol, v] of [['text', masked], ['binary', viaBinary]] as const) {
            if (v !== null && notWritable(col)) {
              await expect(insert(dst, col, v, name)).rejects.toThrow();
              continue;
            }
            await insert(dst, col, v, `${name} ${fn} (${protocol}) of ${show(raw)}`);
          }
        }
      }
      // TIMESTAMP: masked values are valid in every session time zone
      if (mysqlValueKind(col) === MysqlValueKind.Timestamp) {
        for (const tz of ['+13:00', '-12:00']) {
          await c.query(`SET time_zone = '${tz}'`);
          for (const fn of FUNCTIONS) for (const raw of raws) if (raw) await insert(dst, col, compileMysqlTextMask(fn, col, opts)(raw), `${name} ${fn} at ${tz}`);
        }
        await c.query(`SET time_zone = '+00:00'`);
      }
      await c.query(`DROP TABLE ${src}, ${dst}`);
    });
  });
});
