import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The machine's real servers, as CI has them. */
export const PG = { host: '127.0.0.1', port: Number(process.env.PGPORT ?? 5432), user: process.env.PGUSER ?? 'postgres' };
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export function uniqueName(prefix: string): string {
  return `${prefix}_${randomBytes(5).toString('hex')}`;
}

/** Runs SQL directly against the local Postgres (not through sqlwarden). */
export async function adminQuery(sql: string, database = 'postgres'): Promise<pg.QueryResult> {
  const c = new pg.Client({ ...PG, database });
  await c.connect();
  try {
    return await c.query(sql);
  } finally {
    await c.end();
  }
}

/** A fresh database for one suite; drop() removes it (and any sessions still in it). */
export async function createTestDatabase(prefix = 'swtest'): Promise<{ name: string; drop(): Promise<void> }> {
  const name = uniqueName(prefix);
  await adminQuery(`CREATE DATABASE ${name}`);
  return {
    name,
    async drop() {
      await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}
