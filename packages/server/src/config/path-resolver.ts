import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Field } from '@sqlwarden/yaml';

/** Resolves config paths relative to the config file's directory, optionally checking they exist. */
export class PathResolver {
  constructor(
    readonly baseDir: string,
    private readonly check: boolean,
  ) {}

  resolve(p: string): string {
    return resolve(this.baseDir, p);
  }

  /** A path that must name an existing file (when checking is on). */
  file(field: Field): string | undefined {
    return this.read(field, 'file');
  }

  /** A path that must name an existing directory (when checking is on). */
  dir(field: Field): string | undefined {
    return this.read(field, 'directory');
  }

  /** A path whose file may not exist yet (e.g. an audit log); its directory must. */
  output(field: Field): string | undefined {
    const raw = field.string();
    if (raw === undefined) return undefined;
    const abs = this.resolve(raw);
    if (this.check && kind(resolve(abs, '..')) !== 'directory') return field.fail(`directory of ${abs} does not exist`);
    if (this.check && kind(abs) === 'directory') return field.fail(`${abs} is a directory, not a file`);
    return abs;
  }

  private read(field: Field, want: 'file' | 'directory'): string | undefined {
    const raw = field.string();
    if (raw === undefined) return undefined;
    const abs = this.resolve(raw);
    if (!this.check) return abs;
    const found = kind(abs);
    if (found === want) return abs;
    return field.fail(found === 'missing' ? `${want} not found: ${abs}` : `${abs} is not a ${want}`);
  }
}

function kind(p: string): 'file' | 'directory' | 'other' | 'missing' {
  try {
    const st = statSync(p);
    return st.isFile() ? 'file' : st.isDirectory() ? 'directory' : 'other';
  } catch {
    return 'missing';
  }
}
