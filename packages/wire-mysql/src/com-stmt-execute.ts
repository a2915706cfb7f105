import { Capability } from './capabilities.js';
import { Command, CursorType } from './codes.js';
import { PARAM_UNSIGNED } from './column-type.js';
import { binaryValueEnd, decodeBinaryValue, encodeBinaryValue, type BinaryValue } from './binary-value.js';
import { ProtocolError } from './protocol-error.js';
import { PayloadReader } from './reader.js';
import { PayloadWriter } from './writer.js';

/** A parameter's declared type: enum_field_types plus the unsigned flag. */
export interface ParamType {
  type: number;
  unsigned: boolean;
}

/** One parameter (or query attribute) as sent with COM_STMT_EXECUTE or COM_QUERY. */
export interface BoundParameter extends ParamType {
  /** query-attribute name, when CLIENT_QUERY_ATTRIBUTES ('' for an unnamed positional parameter); else null */
  name: string | null;
  /** the value's encoded bytes (a view; decode with decodeBinaryValue), or null for NULL or long data */
  value: Buffer | null;
  /** the value was sent before with COM_STMT_SEND_LONG_DATA and is not in this packet */
  longData: boolean;
}

/** Decodes a parameter's value into a JS value (null for NULL and for long data). */
export function parameterValue(p: BoundParameter): BinaryValue | null {
  return p.value === null ? null : decodeBinaryValue(p.value, p.type, p.unsigned);
}

/**
 * Reads the parameter block shared by COM_STMT_EXECUTE and COM_QUERY-with-attributes: NULL
 * bitmap, new-params-bound flag, types (with names when `named`), values.
 */
export function readParameterBlock(
  r: PayloadReader,
  count: number,
  named: boolean,
  previousTypes: readonly ParamType[] | undefined,
  longData: ReadonlySet<number> | undefined,
): { newParamsBound: boolean; parameters: BoundParameter[] } {
  const bitmap = r.bytes((count + 7) >> 3);
  const bound = r.u8();
  if (bound > 1) throw new ProtocolError(`invalid new-params-bound flag ${bound}`);
  const types: ParamType[] = [];
  const names: (string | null)[] = [];
  if (bound === 1) {
    for (let i = 0; i < count; i++) {
      const type = r.u8();
      const flag = r.u8();
      types.push({ type, unsigned: (flag & PARAM_UNSIGNED) !== 0 });
      names.push(named ? r.lenencString() : null);
    }
  } else {
    if (!previousTypes || previousTypes.length < count) throw new ProtocolError('parameter types were never bound');
    for (let i = 0; i < count; i++) {
      types.push(previousTypes[i]);
      names.push(null);
    }
  }
  const parameters: BoundParameter[] = [];
  for (let i = 0; i < count; i++) {
    const isNull = (bitmap[i >> 3] & (1 << (i & 7))) !== 0;
    const isLong = longData?.has(i) === true;
    let value: Buffer | null = null;
    if (!isNull && !isLong) {
      const end = binaryValueEnd(r.buf, r.pos, r.end, types[i].type);
      value = r.bytes(end - r.pos);
    }
    parameters.push({ ...types[i], name: names[i], value, longData: isLong && !isNull });
  }
  return { newParamsBound: bound === 1, parameters };
}

/** Writes a parameter block (always with types: new-params-bound = 1 unless `bindTypes` is false). */
export function writeParameterBlock(w: PayloadWriter, params: readonly BoundParameterInit[], named: boolean, bindTypes = true): void {
  const bitmap = Buffer.alloc((params.length + 7) >> 3);
  params.forEach((p, i) => {
    if (p.value === null || p.value === undefined) bitmap[i >> 3] |= 1 << (i & 7);
  });
  w.bytes(bitmap).u8(bindTypes ? 1 : 0);
  if (bindTypes) {
    for (const p of params) {
      w.u8(p.type).u8(p.unsigned ? PARAM_UNSIGNED : 0);
      if (named) w.lenencString(p.name ?? '');
    }
  }
  for (const p of params) {
    if (p.value === null || p.value === undefined || p.longData) continue;
    w.bytes(Buffer.isBuffer(p.value) && p.encoded ? p.value : encodeBinaryValue(p.type, p.value, p.unsigned ?? false));
  }
}

/** A parameter to encode: a JS value (encoded by type), or already-encoded bytes with `encoded: true`. */
export interface BoundParameterInit {
  type: number;
  unsigned?: boolean;
  name?: string | null;
  value: BinaryValue | string | null | undefined;
  /** `value` is a Buffer holding the already encoded value bytes */
  encoded?: boolean;
  longData?: boolean;
}

/** COM_STMT_EXECUTE. */
export interface ComStmtExecute {
  statementId: number;
  /** CursorType flags */
  flags: number;
  iterationCount: number;
  /** types were sent in this packet (false: the previous execute's types apply) */
  newParamsBound: boolean;
  parameters: BoundParameter[];
}

export interface ComStmtExecuteContext {
  /** num_params from the statement's COM_STMT_PREPARE_OK */
  paramCount: number;
  /** negotiated capabilities (CLIENT_QUERY_ATTRIBUTES changes the layout) */
  capabilities: number;
  /** the types bound by an earlier execute of this statement, for packets that do not resend them */
  previousTypes?: readonly ParamType[];
  /** indexes of parameters sent with COM_STMT_SEND_LONG_DATA since the last execute/reset */
  longDataParams?: ReadonlySet<number>;
}

/** Decodes COM_STMT_EXECUTE; the layout depends on the prepared statement's parameter count. */
export function decodeComStmtExecute(payload: Buffer, ctx: ComStmtExecuteContext): ComStmtExecute {
  const r = new PayloadReader(payload);
  if (r.u8() !== Command.StmtExecute) throw new ProtocolError('not COM_STMT_EXECUTE');
  const statementId = r.u32();
  const flags = r.u8();
  const iterationCount = r.u32();
  const attrs = (ctx.capabilities & Capability.QueryAttributes) !== 0;
  let count = ctx.paramCount;
  let newParamsBound = false;
  let parameters: BoundParameter[] = [];
  if (count > 0 || (attrs && (flags & CursorType.ParameterCountAvailable) !== 0)) {
    if (attrs) {
      count = r.lenencInt();
      if (count < ctx.paramCount) throw new ProtocolError(`parameter count ${count} below the statement's ${ctx.paramCount}`);
    }
    if (count > 0) {
      if (count > r.remaining * 8) throw new ProtocolError('parameter count larger than the packet');
      ({ newParamsBound, parameters } = readParameterBlock(r, count, attrs, ctx.previousTypes, ctx.longDataParams));
    }
  }
  r.expectEnd('COM_STMT_EXECUTE');
  return { statementId, flags, iterationCount, newParamsBound, parameters };
}

export interface ComStmtExecuteInit {
  statementId: number;
  flags?: number;
  iterationCount?: number;
  parameters: readonly BoundParameterInit[];
  /** send types (default true) */
  newParamsBound?: boolean;
}

/** Encodes COM_STMT_EXECUTE under the negotiated capabilities. */
export function encodeComStmtExecute(e: ComStmtExecuteInit, capabilities: number): Buffer {
  const attrs = (capabilities & Capability.QueryAttributes) !== 0;
  let flags = e.flags ?? CursorType.NoCursor;
  if (attrs && e.parameters.length > 0) flags |= CursorType.ParameterCountAvailable;
  const w = new PayloadWriter(64);
  w.u8(Command.StmtExecute).u32(e.statementId).u8(flags).u32(e.iterationCount ?? 1);
  if (e.parameters.length > 0 || (attrs && (flags & CursorType.ParameterCountAvailable) !== 0)) {
    if (attrs) w.lenencInt(e.parameters.length);
    if (e.parameters.length > 0) writeParameterBlock(w, e.parameters, attrs, e.newParamsBound ?? true);
  }
  return w.finish();
}
