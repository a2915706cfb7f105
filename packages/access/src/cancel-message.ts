import type { CancelMessage, MysqlKillSignal } from './types.js';

const INT32_MIN = -0x8000_0000;
const UINT32_MAX = 0xffff_ffff;

function isKeyPart(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= INT32_MIN && value <= UINT32_MAX;
}

/** pid and secret are 32-bit (read signed or unsigned from BackendKeyData). */
export function isCancelMessage(value: unknown): value is CancelMessage {
  if (typeof value !== 'object' || value === null) return false;
  const m = value as Record<string, unknown>;
  return isKeyPart(m.pid) && isKeyPart(m.secret);
}

export function assertCancelMessage(msg: CancelMessage): CancelMessage {
  if (!isCancelMessage(msg)) throw new RangeError('cancel message needs 32-bit integer pid and secret');
  return { pid: msg.pid, secret: msg.secret };
}

const MAX_AGENT_LENGTH = 256;
const MAX_REQUEST_ID_LENGTH = 64;

/** A MySQL KILL request (32-bit connection id, mode, agent, request id) or answer (request id, stage). */
export function isMysqlKillSignal(value: unknown): value is MysqlKillSignal {
  if (typeof value !== 'object' || value === null) return false;
  const m = value as Record<string, unknown>;
  if (typeof m.requestId !== 'string' || m.requestId.length === 0 || m.requestId.length > MAX_REQUEST_ID_LENGTH) return false;
  if (m.type === 'answer') return m.stage === 'accepted' || m.stage === 'done';
  return (
    m.type === 'request' &&
    typeof m.connectionId === 'number' &&
    Number.isInteger(m.connectionId) &&
    m.connectionId > 0 &&
    m.connectionId <= UINT32_MAX &&
    (m.mode === 'query' || m.mode === 'connection') &&
    typeof m.agent === 'string' &&
    m.agent.length > 0 &&
    m.agent.length <= MAX_AGENT_LENGTH
  );
}

/** A copy with only the known fields; throws on a malformed signal. */
export function assertMysqlKillSignal(msg: MysqlKillSignal): MysqlKillSignal {
  if (!isMysqlKillSignal(msg)) throw new RangeError('malformed MySQL kill signal');
  return msg.type === 'answer'
    ? { type: 'answer', requestId: msg.requestId, stage: msg.stage }
    : { type: 'request', connectionId: msg.connectionId, mode: msg.mode, agent: msg.agent, requestId: msg.requestId };
}
