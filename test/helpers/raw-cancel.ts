import net from 'node:net';

/** CancelRequest code 80877102 (1234 << 16 | 5678). */
const CANCEL_REQUEST_CODE = 80877102;

/** The 16-byte CancelRequest packet, exactly as pg's Connection.cancel() sends it. */
export function cancelRequestPacket(pid: number, secret: number): Buffer {
  const b = Buffer.alloc(16);
  b.writeInt32BE(16, 0);
  b.writeInt32BE(CANCEL_REQUEST_CODE, 4);
  b.writeInt32BE(pid | 0, 8);
  b.writeInt32BE(secret | 0, 12);
  return b;
}

/**
 * Sends a raw CancelRequest to host:port on a fresh connection (as libpq and pg do: connect,
 * write the packet, wait for the server to close). Resolves when the server has closed the
 * connection, or after `timeoutMs` (the server owes no answer).
 */
export function sendCancelRequest(host: string, port: number, pid: number, secret: number, timeoutMs = 3000): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port });
    const timer = setTimeout(() => {
      s.destroy();
      resolve();
    }, timeoutMs);
    s.once('connect', () => s.write(cancelRequestPacket(pid, secret)));
    s.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    s.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    s.resume();
  });
}
