import { runDemo } from '../demo/run-demo.js';

/** `sqlwarden demo`: the embedded demo owns its own output and lifetime. */
export async function demoCommand(args: { port?: number }): Promise<number> {
  const result: unknown = await runDemo(args.port === undefined ? {} : { port: args.port });
  return typeof result === 'number' ? result : 0;
}
