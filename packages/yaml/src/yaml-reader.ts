import { isAlias, isMap, isScalar, isSeq, type Document, type LineCounter, type Node } from 'yaml';
import { didYouMean } from './did-you-mean.js';
import { parseDuration } from './duration.js';
import { parseByteSize } from './byte-size.js';
import { parseHostPort, type HostPortLike } from './host-port.js';
import type { YamlIssue } from './issue.js';
import { interpolate, type Env } from './interpolate.js';

/**
 * Typed, located reads over a parsed YAML document. Every read that fails
 * records an issue with the key path and line, and returns undefined, so one
 * pass reports every problem in a file instead of only the first.
 */
export class YamlReader {
  readonly issues: YamlIssue[] = [];

  constructor(
    private readonly doc: Document.Parsed,
    private readonly lines: LineCounter,
    readonly env: Env,
  ) {}

  root(): Field {
    return new Field(this, this.resolve(this.doc.contents), '', this.lineOf(this.doc.contents) || 1);
  }

  report(line: number, path: string, message: string): void {
    this.issues.push({ line, path, message });
  }

  lineOf(node: Node | null | undefined): number {
    const offset = node?.range?.[0];
    return offset === undefined ? 0 : this.lines.linePos(offset).line;
  }

  resolve(node: unknown): Node | null {
    if (isAlias(node)) return (node.resolve(this.doc) as Node | undefined) ?? null;
    return (node as Node | null | undefined) ?? null;
  }
}

/** A scalar after interpolation, with whether `${...}` produced it (so "${PORT}" may be read as a number). */
type Scalar = { value: unknown; interpolated: boolean };

export class Field {
  constructor(
    readonly reader: YamlReader,
    readonly node: Node | null,
    readonly path: string,
    readonly line: number,
  ) {}

  /** Present and not an explicit null (`key:` with nothing after it counts as absent). */
  get present(): boolean {
    return this.node !== null && !(isScalar(this.node) && this.node.value === null);
  }

  fail(message: string): undefined {
    this.reader.report(this.line, this.path, message);
    return undefined;
  }

  /** Reads a mapping, reporting every key not in `allowed` (typos must not pass silently). */
  map(allowed: readonly string[]): MapField | undefined {
    if (!this.present) return undefined;
    if (!isMap(this.node)) return this.fail('must be a mapping of keys to values');
    const entries = new Map<string, Field>();
    for (const pair of this.node.items) {
      const keyNode = this.reader.resolve(pair.key);
      const keyLine = this.reader.lineOf(keyNode) || this.line;
      const key = isScalar(keyNode) ? keyNode.value : undefined;
      if (typeof key !== 'string') {
        this.reader.report(keyLine, this.path, `keys must be strings, found ${JSON.stringify(key ?? null)}`);
        continue;
      }
      const path = this.path ? `${this.path}.${key}` : key;
      if (!allowed.includes(key)) {
        const hint = didYouMean(key, allowed);
        this.reader.report(keyLine, path, `unknown key${hint ? `; did you mean "${hint}"?` : ''} (allowed here: ${allowed.join(', ')})`);
        continue;
      }
      const value = this.reader.resolve(pair.value);
      entries.set(key, new Field(this.reader, value, path, this.reader.lineOf(value) || keyLine));
    }
    return new MapField(this, entries);
  }

  /** A mapping with free-form keys (e.g. labels), each value a Field. */
  dict(): Map<string, Field> | undefined {
    if (!this.present) return undefined;
    if (!isMap(this.node)) return this.fail('must be a mapping of keys to values');
    const out = new Map<string, Field>();
    for (const pair of this.node.items) {
      const keyNode = this.reader.resolve(pair.key);
      const key = isScalar(keyNode) ? keyNode.value : undefined;
      const keyLine = this.reader.lineOf(keyNode) || this.line;
      if (typeof key !== 'string' || key === '') {
        this.reader.report(keyLine, this.path, `keys must be non-empty strings, found ${JSON.stringify(key ?? null)}`);
        continue;
      }
      const value = this.reader.resolve(pair.value);
      out.set(key, new Field(this.reader, value, `${this.path}.${key}`, this.reader.lineOf(value) || keyLine));
    }
    return out;
  }

  /** True when the value is a list (to accept "a string or a list of strings"). */
  get isList(): boolean {
    return isSeq(this.node);
  }

  /** True when the value is a mapping (to accept "a string or a mapping"). */
  get isMap(): boolean {
    return isMap(this.node);
  }

  list(): Field[] | undefined {
    if (!this.present) return undefined;
    if (!isSeq(this.node)) return this.fail('must be a list');
    return this.node.items.map((item, i) => {
      const node = this.reader.resolve(item);
      return new Field(this.reader, node, `${this.path}[${i}]`, this.reader.lineOf(node) || this.line);
    });
  }

  private scalar(): Scalar | undefined {
    if (!this.present) return undefined;
    if (!isScalar(this.node)) return this.fail(isMap(this.node) ? 'must be a single value, not a mapping' : 'must be a single value, not a list');
    const value = this.node.value;
    if (typeof value !== 'string') return { value, interpolated: false };
    const r = interpolate(value, this.reader.env);
    if (!r.ok) return this.fail(r.error);
    return { value: r.value, interpolated: r.changed };
  }

  /** A string; an empty string (e.g. from `${VAR:-}`) counts as absent. */
  string(): string | undefined {
    const s = this.scalar();
    if (s === undefined) return undefined;
    if (typeof s.value === 'number' || typeof s.value === 'bigint') return String(s.value);
    if (typeof s.value !== 'string') return this.fail('must be a string');
    return s.value === '' ? undefined : s.value;
  }

  int(min: number, max: number): number | undefined {
    const s = this.scalar();
    if (s === undefined) return undefined;
    const n = s.interpolated && typeof s.value === 'string' && /^-?\d+$/.test(s.value.trim()) ? Number(s.value) : s.value;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
      return this.fail(`must be an integer from ${min} to ${max}`);
    }
    return n;
  }

  bool(): boolean | undefined {
    const s = this.scalar();
    if (s === undefined) return undefined;
    if (typeof s.value === 'boolean') return s.value;
    if (s.interpolated && typeof s.value === 'string') {
      const v = s.value.trim().toLowerCase();
      if (v === 'true') return true;
      if (v === 'false') return false;
    }
    return this.fail('must be true or false');
  }

  oneOf<T extends string>(values: readonly T[]): T | undefined {
    const v = this.string();
    if (v === undefined) return undefined;
    if (!(values as readonly string[]).includes(v)) {
      const hint = didYouMean(v, values);
      return this.fail(`must be one of ${values.join(', ')}${hint ? ` (did you mean "${hint}"?)` : ''}; got "${v}"`);
    }
    return v as T;
  }

  /** Milliseconds, from "15m"-style text or an integer number of ms. */
  duration(minMs: number): number | undefined {
    return this.parsed((v) => {
      const ms = parseDuration(v);
      if (ms < minMs) throw new Error(`must be at least ${minMs}ms`);
      return ms;
    });
  }

  byteSize(min: number, max: number): number | undefined {
    return this.parsed((v) => {
      const n = parseByteSize(v);
      if (n < min || n > max) throw new Error(`must be from ${min} to ${max} bytes`);
      return n;
    });
  }

  hostPort(): HostPortLike | undefined {
    return this.parsed((v) => parseHostPort(String(v)));
  }

  private parsed<T>(parse: (v: string | number) => T): T | undefined {
    const s = this.scalar();
    if (s === undefined) return undefined;
    if (typeof s.value !== 'string' && typeof s.value !== 'number') return this.fail(`cannot read ${JSON.stringify(s.value)} here`);
    try {
      return parse(s.value);
    } catch (err) {
      return this.fail((err as Error).message);
    }
  }
}

export class MapField {
  constructor(
    readonly field: Field,
    private readonly entries: ReadonlyMap<string, Field>,
  ) {}

  get path(): string {
    return this.field.path;
  }

  has(key: string): boolean {
    return this.entries.get(key)?.present ?? false;
  }

  /** The field under `key`; when absent, a field that points at this mapping's line. */
  get(key: string): Field {
    return this.entries.get(key) ?? new Field(this.field.reader, null, this.childPath(key), this.field.line);
  }

  /** Like get(), but reports "is required" when the key is absent. */
  required(key: string): Field {
    const f = this.get(key);
    if (!f.present) f.fail('is required');
    return f;
  }

  /**
   * Durations may be written as `name: 15m` or `nameMs: 900000`; reading both
   * spellings of one setting is an error.
   */
  durationKey(name: string): Field {
    const plain = this.get(name);
    const ms = this.get(`${name}Ms`);
    if (plain.present && ms.present) ms.fail(`give either ${name} or ${name}Ms, not both`);
    return plain.present ? plain : ms;
  }

  private childPath(key: string): string {
    return this.field.path ? `${this.field.path}.${key}` : key;
  }
}
