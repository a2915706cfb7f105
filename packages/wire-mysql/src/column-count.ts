import { Capability, MariadbCapability, type Negotiated } from './capabilities.js';
import { ProtocolError } from './protocol-error.js';
import { PayloadReader } from './reader.js';
import { PayloadWriter } from './writer.js';

/** The column count packet that opens a resultset. */
export interface ColumnCount {
  count: number;
  /**
   * false when the server left the column definitions out (MySQL's CLIENT_OPTIONAL_RESULTSET_METADATA
   * with metadata_follows = 0, or MariaDB's MARIADB_CLIENT_CACHE_METADATA with 0)
   */
  metadataFollows: boolean;
}

function hasMetadataFlag(n: Negotiated): boolean {
  return (n.capabilities & Capability.OptionalResultsetMetadata) !== 0 || (n.mariadbCapabilities & MariadbCapability.CacheMetadata) !== 0;
}

export function decodeColumnCount(payload: Buffer, negotiated: Negotiated): ColumnCount {
  const r = new PayloadReader(payload);
  const count = r.lenencInt();
  if (count === 0) throw new ProtocolError('column count of 0');
  let metadataFollows = true;
  if (hasMetadataFlag(negotiated) && !r.atEnd) metadataFollows = r.u8() !== 0;
  r.expectEnd('column count');
  return { count, metadataFollows };
}

export function encodeColumnCount(c: { count: number; metadataFollows?: boolean }, negotiated: Negotiated): Buffer {
  const w = new PayloadWriter(10).lenencInt(c.count);
  if (hasMetadataFlag(negotiated)) w.u8(c.metadataFollows === false ? 0 : 1);
  return w.finish();
}
