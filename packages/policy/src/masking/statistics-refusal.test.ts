import { analyze, initAnalyzers, stopPostgresAnalyzer } from '@sqlwarden/sql';
import type { MaskRule } from '../model.js';
import { isStatisticsRelation, MaskSet } from './planner.js';

function mask(id: string, over: Partial<MaskRule>): MaskRule {
  return { id, file: 'p.yaml', line: 1, who: {}, columns: [], detectors: [], function: 'redact', denyInPredicates: false, ...over };
}

const COLUMNS = new MaskSet([mask('emails', { columns: ['customers.email'] })]);
const DETECTORS = new MaskSet([mask('pii', { detectors: ['email'] })]);

async function refusal(set: MaskSet, sql: string, dialect: 'postgres' | 'mysql' = 'postgres'): Promise<string | undefined> {
  const a = await Promise.resolve(analyze(dialect, sql));
  if (!a.ok) throw new Error(`does not parse: ${sql}`);
  return set.refusal(a.statements, dialect)?.reason;
}

describe('MaskSet.refusal: planner statistics while masks apply', () => {
  beforeAll(async () => {
    await initAnalyzers();
  });
  afterAll(async () => {
    await stopPostgresAnalyzer();
  });

  it.each([
    "select most_common_vals from pg_stats where tablename = 'customers'",
    'select * from pg_catalog.pg_stats_ext',
    'select * from pg_stats_ext_exprs',
    'select stavalues1 from pg_statistic',
    'select * from pg_catalog.pg_statistic_ext_data',
    'select * from pg_mcv_list_items(null)',
    'select * from pg_catalog.pg_mcv_list_items(null)',
    'select 1 where exists (select 1 from pg_stats)',
    'with s as (select * from pg_stats) select * from s',
    'copy (select * from pg_stats) to stdout',
    'table pg_stats',
  ])('%s is refused (column rules and detector rules alike)', async (sql) => {
    expect(await refusal(COLUMNS, sql)).toMatch(/planner statistics.*masks apply/);
    expect(await refusal(DETECTORS, sql)).toMatch(/planner statistics/);
  });

  it.each([
    'select * from pg_statistic_ext',
    "select attname from pg_attribute where attrelid = 'customers'::regclass",
    'select * from pg_class',
    'select * from app.pg_stats',
    'select * from pg_stat_user_tables',
  ])('%s is not', async (sql) => {
    expect(await refusal(COLUMNS, sql)).toBeUndefined();
  });

  it('names: pg_catalog or unqualified on Postgres; information_schema.COLUMN_STATISTICS on MySQL', () => {
    expect(isStatisticsRelation(undefined, 'pg_stats')).toBe(true);
    expect(isStatisticsRelation('pg_catalog', 'pg_statistic')).toBe(true);
    expect(isStatisticsRelation('public', 'pg_stats')).toBe(false);
    expect(isStatisticsRelation(undefined, 'information_schema.COLUMN_STATISTICS', 'mysql')).toBe(true);
    expect(isStatisticsRelation('information_schema', 'column_statistics', 'mysql')).toBe(true);
    expect(isStatisticsRelation('app', 'column_statistics', 'mysql')).toBe(false);
  });
});
