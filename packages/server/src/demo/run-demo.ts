/** Placeholder: the embedded demo is being written by another engineer, who will replace this file. */
export interface DemoOptions {
  /** the proxy's Postgres port (default 6432) */
  port?: number;
}

export async function runDemo(_opts: DemoOptions = {}): Promise<number> {
  throw new Error('sqlwarden demo is not implemented yet');
}
