/**
 * Postgres arrays in binary format (array_send / array_recv), so detectors can scan their elements:
 *
 *     int32 ndim (0..6), int32 flags (0, or 1: has NULLs), uint32 element type OID,
 *     ndim × (int32 size, int32 lower bound),
 *     size₁ × … × sizeₙ × (int32 length, -1 = NULL; then that many bytes)
 *
 * Elements of text-like types (text, varchar, bpchar, name, "char", unknown) are scanned as text,
 * json as a JSON document, jsonb after its version byte; elements of types that cannot carry text
 * (numbers, dates, bool, uuid, ...) pass; any other element type (user types, records, domains) or an
 * array that does not decode masks to NULL (fail closed).
 */

/** A malformed binary array (the codec's only error). */
export class PgBinaryArrayError extends Error {}

export interface PgBinaryArray {
  /** the flags word as sent (0, or 1 when the array has NULLs) */
  flags: number;
  elementType: number;
  dims: { size: number; lowerBound: number }[];
  elements: (Buffer | null)[];
}

/** MAXDIM in Postgres */
const MAX_DIMS = 6;

export function decodePgBinaryArray(v: Buffer): PgBinaryArray {
  const n = v.length;
  if (n < 12) throw new PgBinaryArrayError('binary array shorter than its header');
  const ndim = v.readInt32BE(0);
  const flags = v.readInt32BE(4);
  const elementType = v.readUInt32BE(8);
  if (ndim < 0 || ndim > MAX_DIMS) throw new PgBinaryArrayError(`binary array with ${ndim} dimensions`);
  if (flags !== 0 && flags !== 1) throw new PgBinaryArrayError('binary array with unknown flags');
  let o = 12;
  if (n < o + ndim * 8) throw new PgBinaryArrayError('binary array shorter than its dimensions');
  const dims: { size: number; lowerBound: number }[] = [];
  let count = ndim === 0 ? 0 : 1;
  for (let d = 0; d < ndim; d++) {
    const size = v.readInt32BE(o);
    const lowerBound = v.readInt32BE(o + 4);
    o += 8;
    if (size < 0) throw new PgBinaryArrayError('binary array with a negative dimension');
    dims.push({ size, lowerBound });
    count *= size;
  }
  // every element takes 4 bytes at least: more than the rest can hold is malformed (and bounds the work)
  if (count * 4 > n - o) throw new PgBinaryArrayError('binary array with more elements than bytes');
  const elements: (Buffer | null)[] = new Array<Buffer | null>(count);
  for (let i = 0; i < count; i++) {
    if (o + 4 > n) throw new PgBinaryArrayError('binary array ends inside an element length');
    const len = v.readInt32BE(o);
    o += 4;
    if (len === -1) {
      elements[i] = null;
      continue;
    }
    if (len < 0 || o + len > n) throw new PgBinaryArrayError('binary array element longer than the array');
    elements[i] = v.subarray(o, o + len);
    o += len;
  }
  if (o !== n) throw new PgBinaryArrayError('binary array with bytes after its elements');
  return { flags, elementType, dims, elements };
}

export function encodePgBinaryArray(a: PgBinaryArray): Buffer {
  let size = 12 + a.dims.length * 8;
  for (const e of a.elements) size += 4 + (e === null ? 0 : e.length);
  const out = Buffer.allocUnsafe(size);
  out.writeInt32BE(a.dims.length, 0);
  out.writeInt32BE(a.flags, 4);
  out.writeUInt32BE(a.elementType >>> 0, 8);
  let o = 12;
  for (const d of a.dims) {
    out.writeInt32BE(d.size, o);
    out.writeInt32BE(d.lowerBound, o + 4);
    o += 8;
  }
  for (const e of a.elements) {
    if (e === null) {
      out.writeInt32BE(-1, o);
      o += 4;
    } else {
      out.writeInt32BE(e.length, o);
      o += 4;
      o += e.copy(out, o);
    }
  }
  return out;
}

/** How an element type's binary form is scanned. */
export const enum ElementScan {
  Text,
  Json,
  Jsonb,
  /** cannot carry text: passes */
  None,
}

/** text, varchar, bpchar, name, "char", unknown */
const TEXT_ELEMENTS = new Set([25, 1043, 1042, 19, 18, 705]);
/**
 * Built-in types whose binary form cannot carry text: bool, int2/4/8, oid, float4/8, numeric, money,
 * date, time(tz), timestamp(tz), interval, uuid, bytea (hex in text format: not scanned there either),
 * inet, cidr, macaddr(8), bit, varbit, tid, xid, xid8, cid, point, pg_lsn, int2vector, oidvector, regtypes.
 */
const PASS_ELEMENTS = new Set([
  16, 21, 23, 20, 26, 700, 701, 1700, 790, 1082, 1083, 1266, 1114, 1184, 1186, 2950, 17, 869, 650, 829, 774, 1560, 1562, 27, 28, 5069, 29, 600, 3220, 22, 30, 24, 2202,
  2203, 2204, 2205, 2206, 3734, 3769, 4089, 4096,
]);

/** How elements of this type are scanned; undefined: not known here (the array masks to NULL). */
export function elementScan(elementType: number): ElementScan | undefined {
  if (TEXT_ELEMENTS.has(elementType)) return ElementScan.Text;
  if (elementType === 114) return ElementScan.Json;
  if (elementType === 3802) return ElementScan.Jsonb;
  if (PASS_ELEMENTS.has(elementType)) return ElementScan.None;
  return undefined;
}

/**
 * A detector masker for binary arrays, from the maskers of one element's text (`text`) and JSON
 * (`json`) forms: each masker returns the same Buffer when nothing is found, a new one, or null (the
 * rule's function cannot keep the rest of the value: the whole array becomes NULL). An array that does
 * not decode, or whose element type is not known here, masks to NULL.
 */
export function binaryArrayDetector(text: (v: Buffer) => Buffer | null, json: (v: Buffer) => Buffer | null): (v: Buffer) => Buffer | null {
  return (v) => {
    let a: PgBinaryArray;
    try {
      a = decodePgBinaryArray(v);
    } catch (err) {
      if (err instanceof PgBinaryArrayError) return null;
      throw err;
    }
    const scan = elementScan(a.elementType);
    if (scan === undefined) return null;
    if (scan === ElementScan.None) return v;
    let changed = false;
    const elements = a.elements;
    for (let i = 0; i < elements.length; i++) {
      const e = elements[i];
      if (!e) continue;
      let out: Buffer | null;
      if (scan === ElementScan.Jsonb) {
        if (e.length < 1 || e[0] !== 1) return null;
        const body = e.subarray(1);
        const m = json(body);
        out = m === body ? e : m && Buffer.concat([e.subarray(0, 1), m]);
      } else out = scan === ElementScan.Json ? json(e) : text(e);
      if (out === e) continue;
      if (out === null) return null;
      elements[i] = out;
      changed = true;
    }
    return changed ? encodePgBinaryArray(a) : v;
  };
}
