import { createLogger, Metrics } from '@sqlwarden/telemetry';
import { loadConfig } from '../config/load.js';
import { startProxy } from '../proxy.js';
import { formatHostPort } from '@sqlwarden/yaml';
import type { CliIo } from './io.js';

/** How long shutdown may take before the process is ended anyway. */
const SHUTDOWN_GRACE_MS = 10_000;

/** Runs the proxy until SIGINT or SIGTERM, then closes it and returns 0. */
export async function startCommand(args: { config: string }, io: CliIo): Promise<number> {
  const config = loadConfig(args.config, io.env);
  const log = createLogger({ level: config.log.level, write: (line) => io.stderr.write(line) });
  const metrics = new Metrics();
  const proxy = await startProxy(config, { log, metrics });
  const listening = Object.fromEntries(Object.entries(proxy.addresses).flatMap(([k, v]) => (v ? [[k, formatHostPort(v)]] : [])));
  log.info('sqlwarden started', { config: config.file, store: config.redis ? 'redis' : 'memory', ...listening });

  // SIGHUP reloads the policy directory (an invalid change is refused and logged)
  const onHup = () => {
    log.info('SIGHUP: reloading policies');
    proxy.reloadPolicies();
  };
  process.on('SIGHUP', onHup);

  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    const onSignal = (sig: NodeJS.Signals) => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve(sig);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  process.off('SIGHUP', onHup);
  log.info('shutting down', { signal });
  // a second signal, or a shutdown that hangs, ends the process at once
  const force = () => {
    log.warn('shutdown interrupted; exiting now');
    io.exit(1);
  };
  process.once('SIGINT', force);
  process.once('SIGTERM', force);
  const timer = setTimeout(() => {
    log.error('shutdown took too long; exiting now', { graceMs: SHUTDOWN_GRACE_MS });
    io.exit(1);
  }, SHUTDOWN_GRACE_MS);
  timer.unref();
  try {
    await proxy.close();
  } finally {
    clearTimeout(timer);
    process.off('SIGINT', force);
    process.off('SIGTERM', force);
  }
  log.info('stopped');
  return 0;
}
