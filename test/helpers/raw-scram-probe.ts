import { randomBytes } from 'node:crypto';
import net from 'node:net';

/** What a SCRAM server reveals before any proof: its mechanisms, and the salt and iteration count for a user. */
export interface ScramFirstLook {
  mechanisms: string[];
  salt: string;
  iterations: number;
}

function startupMessage(params: Record<string, string>): Buffer {
  const body = Buffer.concat([...Object.entries(params).flatMap(([k, v]) => [Buffer.from(`${k}\0${v}\0`)]), Buffer.from([0])]);
  const head = Buffer.alloc(8);
  head.writeInt32BE(8 + body.length, 0);
  head.writeInt32BE(196608, 4); // protocol 3.0
  return Buffer.concat([head, body]);
}

function saslInitialResponse(mechanism: string, data: string): Buffer {
  const mech = Buffer.from(`${mechanism}\0`);
  const d = Buffer.from(data);
  const len = 4 + mech.length + 4 + d.length;
  const b = Buffer.alloc(1 + len);
  b.write('p', 0);
  b.writeInt32BE(len, 1);
  mech.copy(b, 5);
  b.writeInt32BE(d.length, 5 + mech.length);
  d.copy(b, 9 + mech.length);
  return b;
}

/**
 * Speaks just enough of the protocol to get the SCRAM server-first-message for `user`, then hangs
 * up (no proof is sent, so no login failure is recorded).
 */
export function scramFirstLook(host: string, port: number, user: string, database: string, timeoutMs = 5000): Promise<ScramFirstLook> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port });
    let buf = Buffer.alloc(0);
    let mechanisms: string[] | null = null;
    const timer = setTimeout(() => finish(new Error('no SCRAM server-first-message in time')), timeoutMs);
    const finish = (err: Error | null, v?: ScramFirstLook) => {
      clearTimeout(timer);
      s.destroy();
      if (err) reject(err);
      else resolve(v as ScramFirstLook);
    };
    s.on('error', (e) => finish(e));
    s.on('connect', () => s.write(startupMessage({ user, database })));
    s.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 5) {
        const type = String.fromCharCode(buf[0]);
        const len = buf.readInt32BE(1);
        if (buf.length < 1 + len) return;
        const body = buf.subarray(5, 1 + len);
        buf = buf.subarray(1 + len);
        if (type === 'E') return finish(new Error(`server error: ${body.toString('utf8').replace(/\0/g, ' ')}`));
        if (type !== 'R') continue;
        const code = body.readInt32BE(0);
        if (code === 10) {
          mechanisms = body.subarray(4).toString('utf8').split('\0').filter(Boolean);
          s.write(saslInitialResponse('SCRAM-SHA-256', `n,,n=,r=${randomBytes(18).toString('base64')}`));
        } else if (code === 11) {
          const attrs = new Map(body.subarray(4).toString('utf8').split(',').map((kv) => [kv.slice(0, 1), kv.slice(2)] as const));
          return finish(null, { mechanisms: mechanisms ?? [], salt: attrs.get('s') ?? '', iterations: Number(attrs.get('i')) });
        } else {
          return finish(new Error(`unexpected authentication request ${code}`));
        }
      }
    });
  });
}
