import type { MaskFunction } from '../model.js';
import type { MaskOptions, ValueMasker } from './mask-functions.js';

/**
 * How one column's values are encoded on a wire other than Postgres': what `MaskSet.planColumn` and
 * `MaskSet.plan` take in place of a Postgres format code (0 text, 1 binary). MySQL's are made by
 * `mysqlColumnCodec` (mysql-plan.ts), one per column type and protocol.
 */
export interface ColumnCodec {
  /** identifies the codec's maskers in MaskSet's cache: two codecs with the same key compile alike */
  readonly key: string;
  /** a mask function compiled for this column, over its wire fields */
  compile(fn: MaskFunction, opts: MaskOptions): ValueMasker;
  /**
   * null: detectors never scan this column (not text); otherwise turns a masker of the value's text
   * bytes into one of the column's wire fields (e.g. strips and restores a length prefix)
   */
  readonly detect: ((textMasker: ValueMasker) => ValueMasker) | null;
}

/** A column's wire format, for planning: a Postgres format code (0 text, 1 binary) or a codec. */
export type WireFormat = number | ColumnCodec;

/** The part of MaskSet's cache keys that names a format. */
export function wireFormatKey(f: WireFormat): string {
  return typeof f === 'number' ? String(f) : f.key;
}
