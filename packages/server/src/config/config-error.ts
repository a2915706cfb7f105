import { formatIssue, type YamlIssue } from '@sqlwarden/yaml';

/** One problem found in a config file, located by key path and line. */
export type ConfigIssue = YamlIssue;

/**
 * A config file that cannot be used. The message lists every problem, one per
 * line, as "FILE:LINE: KEY.PATH: what is wrong", so editors and people can
 * jump straight to it.
 */
export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly issues: readonly ConfigIssue[],
  ) {
    super(issues.map((i) => formatIssue(file, i)).join('\n'));
    this.name = 'ConfigError';
  }
}
