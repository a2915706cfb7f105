import { Capability } from './capabilities.js';
import { Command } from './codes.js';
import { readParameterBlock, writeParameterBlock, type BoundParameter, type BoundParameterInit } from './com-stmt-execute.js';
import { ProtocolError } from './protocol-error.js';
import { PayloadReader } from './reader.js';
import { PayloadWriter } from './writer.js';

/** COM_QUERY. */
export interface ComQuery {
  /** the statement text as sent (a view), in the connection's character set */
  queryBytes: Buffer;
  /** the statement text decoded as UTF-8 */
  query: string;
  /** query attributes, when CLIENT_QUERY_ATTRIBUTES (an empty list otherwise) */
  attributes: BoundParameter[];
}

/** Decodes COM_QUERY; with CLIENT_QUERY_ATTRIBUTES the text follows an attribute block. */
export function decodeComQuery(payload: Buffer, capabilities: number): ComQuery {
  const r = new PayloadReader(payload);
  if (r.u8() !== Command.Query) throw new ProtocolError('not COM_QUERY');
  let attributes: BoundParameter[] = [];
  if ((capabilities & Capability.QueryAttributes) !== 0) {
    const count = r.lenencInt();
    const sets = r.lenencInt();
    if (sets !== 1) throw new ProtocolError(`parameter_set_count ${sets} (only 1 is defined)`);
    if (count > 0) {
      if (count > r.remaining * 8) throw new ProtocolError('attribute count larger than the packet');
      const block = readParameterBlock(r, count, true, undefined, undefined);
      if (!block.newParamsBound) throw new ProtocolError('query attributes without types');
      attributes = block.parameters;
    }
  }
  const queryBytes = r.rest();
  return { queryBytes, query: queryBytes.toString('utf8'), attributes };
}

/** Encodes COM_QUERY; attributes are sent only with CLIENT_QUERY_ATTRIBUTES (which then requires the block, empty or not). */
export function encodeComQuery(query: string | Uint8Array, capabilities: number, attributes: readonly BoundParameterInit[] = []): Buffer {
  const text = typeof query === 'string' ? Buffer.from(query, 'utf8') : query;
  const w = new PayloadWriter(text.length + 16);
  w.u8(Command.Query);
  if ((capabilities & Capability.QueryAttributes) !== 0) {
    w.lenencInt(attributes.length).lenencInt(1);
    if (attributes.length > 0) writeParameterBlock(w, attributes, true);
  } else if (attributes.length > 0) {
    throw new RangeError('query attributes need CLIENT_QUERY_ATTRIBUTES');
  }
  return w.bytes(text).finish();
}
