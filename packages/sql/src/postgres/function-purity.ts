/**
 * Which function calls compute from their arguments alone, for the engine's questions about where a
 * value can come from (e.g. whether an error could echo data the statement does not name).
 */
import { BUILTIN_FUNCTIONS } from './builtin-functions.js';
import { READS_DATA } from './lineage.js';

/**
 * true when a call of `name` (as `StatementFacts.functions` lists it: lower-cased, schema-qualified as
 * written) computes its result from its arguments only: a pg_catalog built-in that does not read data
 * by name (`query_to_xml`, `table_to_xml`, `ts_stat`, ...). Anything else — a function of another
 * schema, or any unknown name — may read whatever its body reads.
 */
export function readsOnlyItsArguments(name: string): boolean {
  const parts = name.split('.');
  if (parts.length > 2 || (parts.length === 2 && parts[0] !== 'pg_catalog')) return false;
  const base = parts[parts.length - 1]!;
  return BUILTIN_FUNCTIONS.has(base) && !READS_DATA.has(base);
}
