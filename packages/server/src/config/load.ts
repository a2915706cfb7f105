import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { readYaml } from '@sqlwarden/yaml';
import { buildConfig } from './build-config.js';
import { ConfigError } from './config-error.js';
import { PathResolver } from './path-resolver.js';
import type { SqlwardenConfig } from './types.js';

export interface ParseConfigOptions {
  /** the file name used in messages; also the base for relative paths unless baseDir is given */
  file?: string;
  /** variables for `${NAME}` interpolation (default process.env) */
  env?: NodeJS.ProcessEnv;
  /** directory that relative paths in the file are resolved against (default: the file's, else the cwd) */
  baseDir?: string;
  /** check that referenced TLS files and directories exist (default true) */
  checkFiles?: boolean;
}

/** Reads and validates a sqlwarden.yaml; throws ConfigError naming every problem with its line. */
export function loadConfig(path: string, env: NodeJS.ProcessEnv = process.env): SqlwardenConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'file not found' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : (err as Error).message;
    throw new ConfigError(path, [{ line: 0, path: '', message: `cannot read config: ${why}` }]);
  }
  return parseConfig(text, { file: path, env });
}

/** Validates config text; throws ConfigError naming every problem with its line. */
export function parseConfig(text: string, opts: ParseConfigOptions = {}): SqlwardenConfig {
  const label = opts.file ?? '<config>';
  const absFile = opts.file === undefined ? undefined : resolve(opts.file);
  const baseDir = resolve(opts.baseDir ?? (absFile ? dirname(absFile) : process.cwd()));
  const parsed = readYaml(text, opts.env ?? process.env);
  if (!parsed.ok) throw new ConfigError(label, parsed.issues);
  const reader = parsed.reader;
  const config = buildConfig(reader.root(), new PathResolver(baseDir, opts.checkFiles ?? true), absFile);
  if (reader.issues.length > 0) {
    const issues = [...reader.issues].sort((a, b) => a.line - b.line);
    throw new ConfigError(label, issues);
  }
  return config;
}
