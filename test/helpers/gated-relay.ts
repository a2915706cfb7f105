import net from 'node:net';

/**
 * A TCP relay in front of a real server that holds every new connection until release(): lets a
 * test act while sqlwarden is in the middle of connecting to its upstream.
 */
export interface GatedRelay {
  port: number;
  /** resolves when the next connection has arrived (and is being held) */
  nextConnection(): Promise<void>;
  /** lets held and future connections through */
  release(): void;
  /** holds future connections again */
  hold(): void;
  /** connections let through so far, and relayed pairs still open */
  stats(): { relayed: number; open: number };
  close(): Promise<void>;
}

export async function startGatedRelay(to: { host: string; port: number }): Promise<GatedRelay> {
  let open = false;
  const held: net.Socket[] = [];
  const sockets = new Set<net.Socket>();
  let waiters: (() => void)[] = [];
  let relayed = 0;
  let openPairs = 0;

  const pipe = (client: net.Socket) => {
    const up = net.connect(to);
    relayed++;
    openPairs++;
    sockets.add(up);
    up.on('close', () => {
      sockets.delete(up);
      openPairs--;
    });
    client.pipe(up);
    up.pipe(client);
    up.on('error', () => client.destroy());
    client.on('error', () => up.destroy());
    client.on('close', () => up.destroy());
    up.on('close', () => client.destroy());
    client.resume();
  };

  const server = net.createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => {});
    if (open) pipe(client);
    else {
      client.pause();
      held.push(client);
    }
    const w = waiters;
    waiters = [];
    for (const f of w) f();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    nextConnection: () => new Promise<void>((r) => waiters.push(r)),
    release() {
      open = true;
      for (const c of held.splice(0)) if (!c.destroyed) pipe(c);
    },
    hold() {
      open = false;
    },
    stats: () => ({ relayed, open: openPairs }),
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
