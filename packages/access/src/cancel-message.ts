import type { CancelMessage } from './types.js';

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
