/**
 * Byte sizes as written in config: an integer number of bytes, or "512KiB",
 * "64MiB", "1GiB" (binary) and "64kB", "64MB" (decimal).
 */
const UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3, mb: 1e6, gb: 1e9,
  kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3,
};

export const BYTE_SIZE_HINT = 'a size like 1048576, "512KiB", "64MiB" or "1GiB"';

export function parseByteSize(input: string | number): number {
  if (typeof input === 'number') {
    if (Number.isSafeInteger(input) && input >= 0) return input;
    throw new Error(`must be ${BYTE_SIZE_HINT}`);
  }
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(input);
  const unit = m ? UNITS[(m[2] || 'b').toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new Error(`"${input}" is not ${BYTE_SIZE_HINT}`);
  const bytes = Math.round(Number(m[1]) * unit);
  if (!Number.isSafeInteger(bytes)) throw new Error(`"${input}" is too large`);
  return bytes;
}
